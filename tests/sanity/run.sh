#!/usr/bin/env bash
# Run `ansible-test sanity` offline, with no ignore files.
#
# ansible-test wants the collection under .../ansible_collections/edgemesh/cluster_mesh
# as a real directory, so the repository's files are copied into a temporary tree;
# dependency collections (from the `ansible` PyPI package) are linked beside it.
# ansible-test bootstraps pip in each test venv with a "get-pip" script it downloads
# from a host that is not reachable here; we give it an equivalent bootstrap script
# that runs pip from the pip wheel fetched from PyPI.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv="$repo/.venv"
# The shellcheck sanity test needs the Debian package of that name.
if ! command -v shellcheck >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
  else
    echo "sanity: shellcheck is missing; install it (apt-get install shellcheck)" >&2
    exit 1
  fi
fi
py="$venv/bin/python"
pip_version=$("$py" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
class P:  # minimal stand-in for ansible-test's PythonConfig: only .version is read
    version = "3.11"
print(get_venv_packages(P())["pip"])
PY
)
cache="$HOME/.ansible/test/cache"
bootstrap="$cache/get_pip_${pip_version//./_}.py"
# The wheel lives outside any checkout, so the bootstrap script written into ansible-test's
# (machine-wide) cache stays valid for every clone; both are re-checked on every run.
wheel_dir="$HOME/.cache/edgemesh/pip-wheel"
mkdir -p "$cache" "$wheel_dir"
wheel=$(find "$wheel_dir" -maxdepth 1 -name "pip-$pip_version-*.whl" | head -n 1)
if [ -z "$wheel" ]; then
  "$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$wheel_dir" "pip==$pip_version" 2>/dev/null
  wheel=$(find "$wheel_dir" -maxdepth 1 -name "pip-$pip_version-*.whl" | head -n 1)
fi
cat > "$bootstrap" <<PY
# Offline replacement for get-pip.py: runs pip from the pip $pip_version wheel.
import sys
sys.path.insert(0, "$wheel")
sys.argv = [sys.argv[0], "install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
from pip._internal.cli.main import main
sys.exit(main())
PY

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/edgemesh/cluster_mesh"
mkdir -p "$dest"
cd "$repo"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done
site=$("$py" -c 'import ansible_collections, os; print(list(ansible_collections.__path__)[0])')
for ns in "$site"/*/; do
  name=$(basename "$ns")
  case "$name" in edgemesh|__pycache__) continue ;; esac
  ln -s "$ns" "$work/ansible_collections/$name"
done
cd "$dest"
"$venv/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
