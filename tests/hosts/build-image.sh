#!/usr/bin/env bash
# Build the systemd test-host images the Molecule scenarios boot, offline from any
# container registry: debootstrap a minimal Debian root filesystem from the Debian mirror
# this machine's apt already uses, tar it, and `podman import` it.
#
#   tests/hosts/build-image.sh [debian12] [debian13]     (default: both)
#
# A second run is a no-op: the tarball is cached under $EDGEMESH_CACHE_DIR (default
# ~/.cache/edgemesh) and an image is only (re)imported when podman lacks it or it was
# built from another recipe (label edgemesh.recipe).
#
# Environment:
#   EDGEMESH_CACHE_DIR       where tarballs live (default ${XDG_CACHE_HOME:-~/.cache}/edgemesh)
#   EDGEMESH_DEBIAN_MIRROR   Debian mirror URL; default: read from the system's apt sources
#   EDGEMESH_IMAGES          images to build when no argument is given ("debian12 debian13")
#   EDGEMESH_REBUILD=1       ignore the cache and build again
set -euo pipefail

readonly PACKAGES=(systemd systemd-sysv dbus python3 python3-apt iproute2 procps kmod
  ca-certificates gnupg sudo)
# Bump when the way the root filesystem is built changes (invalidates cached tarballs).
readonly RECIPE_VERSION=3

CACHE_DIR=${EDGEMESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgemesh}
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi

log() { printf 'build-image: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

suite_of() {
  case $1 in
    debian12) echo bookworm ;;
    debian13) echo trixie ;;
    *) die "unknown image '$1' (known: debian12, debian13)" ;;
  esac
}

# --- host tools --------------------------------------------------------------------------
ensure_host_tools() {
  local -A want=([podman]=podman [runc]=runc [debootstrap]=debootstrap [flock]=util-linux
    [tar]=tar [wget]=wget)
  local missing=() cmd
  for cmd in "${!want[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$cmd ]]; then
      missing+=("${want[$cmd]}")
    fi
  done
  [[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
  local pkg need_update=0
  for pkg in "${missing[@]}"; do
    # No candidate version means the package lists are absent or stale.
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
      need_update=1
    fi
  done
  if ((need_update)); then
    log "apt-get update (no install candidate for: ${missing[*]})"
    "${SUDO[@]}" apt-get update -qq
  fi
  log "installing ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# --- mirror discovery --------------------------------------------------------------------
# Print "URI suite" for every enabled deb entry of the system's apt sources
# (one-line *.list format and deb822 *.sources format).
apt_source_entries() {
  local files=() f
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && files+=("$f"); done
  for f in "${files[@]}"; do
    # deb [opts] URI suite components...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 {print $2, $3}'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false)$/) {
          n = split(uris, u, " "); m = split(suites, s, " ")
          for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
        }
        types = uris = suites = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
        if (key == "types") types = $0
        else if (key == "uris") uris = $0
        else if (key == "suites") suites = $0
        else if (key == "enabled") enabled = tolower($0)
      }
      END { flush() }
    ' "$f"
  done
}

debian_mirror() {
  if [[ -n ${EDGEMESH_DEBIAN_MIRROR:-} ]]; then
    echo "${EDGEMESH_DEBIAN_MIRROR%/}"
    return 0
  fi
  # The main archive: an entry whose suite is a bare Debian release name (not -security,
  # -updates, -backports) — that mirror serves every release's dists/<suite>.
  local uri suite
  while read -r uri suite; do
    case $suite in
      bullseye | bookworm | trixie | forky | sid | oldstable | stable | testing | unstable)
        echo "${uri%/}"
        return 0
        ;;
    esac
  done < <(apt_source_entries)
  die "no Debian archive found in /etc/apt/sources.list{,.d/} — set EDGEMESH_DEBIAN_MIRROR"
}

# apt may be configured with a proxy; debootstrap (wget) only reads the environment.
export_apt_proxy() {
  [[ -n ${http_proxy:-} ]] && return 0
  local proxy
  proxy=$(apt-config shell P Acquire::http::Proxy 2>/dev/null | sed -n "s/^P='\(.*\)'$/\1/p")
  if [[ -n $proxy && $proxy != DIRECT ]]; then
    export http_proxy=$proxy
    log "using apt's proxy $proxy"
  fi
}

# --- building ----------------------------------------------------------------------------
ROOTFS=""
cleanup_rootfs() {
  [[ -n $ROOTFS && -d $ROOTFS ]] || return 0
  # debootstrap mounts proc/sys (and maybe binds /dev) inside the target; never rm across
  # a mount.
  local mnt
  while read -r mnt; do
    "${SUDO[@]}" umount -l "$mnt" 2>/dev/null || true
  done < <(findmnt -R -n -l -o TARGET "$ROOTFS" 2>/dev/null | sort -r)
  "${SUDO[@]}" rm -rf --one-file-system "$(dirname "$ROOTFS")"
  ROOTFS=""
}

build_tarball() {
  local suite=$1 tarball=$2 mirror arch keyring=()
  mirror=$(debian_mirror)
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  [[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
    keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
  export_apt_proxy
  ROOTFS=$(mktemp -d -p "$CACHE_DIR" "build-$suite.XXXXXX")/rootfs
  mkdir -p "$ROOTFS"
  log "debootstrap $suite ($arch) from $mirror"
  local t0=$SECONDS
  if ! "${SUDO[@]}" debootstrap --variant=minbase --arch="$arch" "${keyring[@]}" \
    --include="$(
      IFS=,
      echo "${PACKAGES[*]}"
    )" \
    "$suite" "$ROOTFS" "$mirror" >"$ROOTFS.log" 2>&1; then
    tail -n 30 "$ROOTFS.log" >&2
    die "debootstrap $suite failed (log above)"
  fi
  log "debootstrap done in $((SECONDS - t0))s"
  # Test-host tuning, the same for every image:
  # - empty machine-id: systemd makes a fresh one per container (k8s wants them unique);
  # - apt-daily timers masked: they would hold the dpkg lock in the middle of a converge;
  # - package lists kept (as on an installed host, so a --check run can resolve packages);
  #   they date from the build, so a role's cache_valid_time refresh still happens;
  # - the vendor sysctl.d files are shadowed by same-named /etc/sysctl.d files holding only
  #   their net.* lines: systemd-sysctl runs at every boot, and in a privileged container
  #   kernel.*/fs.*/vm.* keys would be written to the machine running the tests.
  # shellcheck disable=SC2016 # expanded by the inner shell
  "${SUDO[@]}" bash -euo pipefail -c '
    root=$1
    for f in "$root"/usr/lib/sysctl.d/*.conf; do
      [[ -f $f ]] || continue
      {
        echo "# edgemesh test host: only the net.* lines of /usr/lib/sysctl.d/${f##*/};"
        echo "# other keys are not namespaced and would change the test machine."
        grep -E "^[[:space:]]*-?net[.]" "$f" || true
      } >"$root/etc/sysctl.d/${f##*/}"
    done
    : >"$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
    for unit in apt-daily.timer apt-daily-upgrade.timer; do
      ln -sfn /dev/null "$root/etc/systemd/system/$unit"
    done
    chroot "$root" apt-get clean
    rm -rf "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
  ' _ "$ROOTFS"
  "${SUDO[@]}" tar --numeric-owner --xattrs --xattrs-include='*' -C "$ROOTFS" \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' \
    --exclude='./tmp/*' -cf "$tarball.part" .
  "${SUDO[@]}" chown "$(id -u):$(id -g)" "$tarball.part"
  mv "$tarball.part" "$tarball"
  cleanup_rootfs
  log "wrote $tarball ($(du -h "$tarball" | cut -f1))"
}

image_recipe() {
  # Everything that changes the image's content.
  local suite=$1
  printf '%s\n' "recipe=$RECIPE_VERSION" "suite=$suite" "variant=minbase" \
    "arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)" "packages=${PACKAGES[*]}" |
    sha256sum | cut -c1-16
}

build_image() {
  local name=$1 suite recipe tarball ref current
  suite=$(suite_of "$name")
  recipe=$(image_recipe "$suite")
  tarball=$CACHE_DIR/edgemesh-$name-$recipe.tar
  ref=localhost/edgemesh-$name:latest
  current=$(podman image inspect --format '{{ index .Labels "edgemesh.recipe" }}' "$ref" \
    2>/dev/null || true)
  if [[ $current == "$recipe" && ${EDGEMESH_REBUILD:-0} != 1 ]]; then
    log "$ref is up to date (recipe $recipe)"
    return 0
  fi
  if [[ ! -s $tarball || ${EDGEMESH_REBUILD:-0} == 1 ]]; then
    build_tarball "$suite" "$tarball"
  else
    log "reusing cached $tarball"
  fi
  local previous
  previous=$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  log "podman import $tarball as $ref"
  podman import --quiet \
    --change 'CMD ["/sbin/init"]' \
    --change 'STOPSIGNAL SIGRTMIN+3' \
    --change 'ENV container=podman' \
    --change "LABEL edgemesh.recipe=$recipe" \
    --change "LABEL edgemesh.suite=$suite" \
    --message "edgemesh test host $name ($suite, recipe $recipe)" \
    "$tarball" "$ref" >/dev/null
  # The image the tag pointed at before, unless a container still uses it.
  if [[ -n $previous ]]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
  fi
  # Old tarballs of this image (other recipes) are of no further use.
  find "$CACHE_DIR" -maxdepth 1 -name "edgemesh-$name-*.tar" ! -name "${tarball##*/}" -delete
}

main() {
  local images=("$@")
  ((${#images[@]})) || read -r -a images <<<"${EDGEMESH_IMAGES:-debian12 debian13}"
  local name
  for name in "${images[@]}"; do suite_of "$name" >/dev/null; done
  ensure_host_tools
  mkdir -p "$CACHE_DIR"
  # One builder at a time per cache (parallel test runs share it).
  exec 9>"$CACHE_DIR/.build.lock"
  flock 9
  trap cleanup_rootfs EXIT
  trap 'exit 130' INT TERM
  for name in "${images[@]}"; do
    local t0=$SECONDS
    build_image "$name"
    log "$name ready in $((SECONDS - t0))s"
  done
}

main "$@"
