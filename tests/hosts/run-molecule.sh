#!/usr/bin/env bash
# Run Molecule scenarios on the systemd test hosts.
#
#   tests/hosts/run-molecule.sh [SCENARIO...]    (no argument: every molecule/*/ scenario)
#
# Builds (or reuses) the test-host images, points podman at tests/hosts/containers.conf,
# runs `molecule test -s <scenario>` one scenario after the other, stops at the first
# failure and always leaves the machine without test containers. Prints the wall time of
# every scenario. `make molecule SCENARIO=<name>` calls this.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if [[ -x $ROOT/.venv/bin/molecule ]]; then
  export PATH=$ROOT/.venv/bin:$PATH
fi
# Also set in .config/molecule/config.yml; exported here too because a scenario that uses
# molecule's legacy provisioner.env / provisioner.config_options replaces those sections.
export CONTAINERS_CONF=$ROOT/tests/hosts/containers.conf
export ANSIBLE_COLLECTIONS_PATH=$ROOT/.collections
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}
export PY_COLORS=${PY_COLORS:-0}

log() { printf 'run-molecule: %s\n' "$*" >&2; }

scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  # default (the smoke test of the hosts themselves) first, then the others by name.
  [[ -f molecule/default/molecule.yml ]] && scenarios+=(default)
  for file in molecule/*/molecule.yml; do
    [[ -f $file ]] || continue
    name=$(basename "$(dirname "$file")")
    [[ $name == default ]] || scenarios+=("$name")
  done
fi
((${#scenarios[@]})) || {
  log "no scenario under molecule/"
  exit 1
}
for name in "${scenarios[@]}"; do
  [[ -f molecule/$name/molecule.yml ]] || {
    log "no scenario '$name' (molecule/$name/molecule.yml)"
    exit 2
  }
done

current=""
child=""
# Molecule runs in a session of its own, so that an interrupt or a CI timeout reaching
# this script stops molecule *and* its ansible-playbook before the teardown starts.
stop_child() {
  [[ -n $child ]] || return 0
  kill -TERM -- "-$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  kill -KILL -- "-$child" 2>/dev/null || true
  child=""
}
# Molecule destroys a failed scenario itself; this also covers an interrupted run and a
# crash of molecule: destroy through Molecule, then sweep any container still labelled
# with the scenario.
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  stop_child
  if [[ -n $current ]]; then
    log "tearing down scenario '$current'"
    molecule destroy -s "$current" >/dev/null 2>&1 || true
    local left
    left=$(podman ps --all --quiet --filter "label=edgemesh.scenario=$current" 2>/dev/null || true)
    if [[ -n $left ]]; then
      # shellcheck disable=SC2086 # one id a word
      podman rm --force --volumes $left >/dev/null 2>&1 || true
    fi
    podman network rm "edgemesh-$current" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_build=$SECONDS
tests/hosts/build-image.sh
log "test-host images ready in $((SECONDS - t_build))s"

summary=()
for name in "${scenarios[@]}"; do
  current=$name
  log "scenario '$name': molecule test"
  t0=$SECONDS
  setsid molecule test -s "$name" &
  child=$!
  if wait "$child"; then
    child=""
    summary+=("$(printf '%-16s passed in %4ds' "$name" $((SECONDS - t0)))")
    current=""
  else
    rc=$?
    child=""
    summary+=("$(printf '%-16s FAILED after %4ds' "$name" $((SECONDS - t0)))")
    printf 'run-molecule: %s\n' "${summary[@]}" >&2
    exit "$rc"
  fi
done
printf 'run-molecule: %s\n' "${summary[@]}" >&2
log "all ${#scenarios[@]} scenario(s) passed in $((SECONDS - t_build))s"
