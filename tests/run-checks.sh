#!/usr/bin/env bash
# `make test`: every check, in one run.
#
#   tests/run-checks.sh            (called by `make test` after `make setup helm`)
#
# The formatters and yamllint run first and stop the run at once when they fail. Then the
# Molecule scenarios (tests/hosts/run-molecule.sh) start in the background, while
# ansible-lint, ansible-test sanity and pytest run in the foreground, one after the other.
# Neither half keeps both cores busy on its own (Molecule alone ran at load 1.5-2.3, pytest
# waits on builds, downloads and SSH jobs), so side by side they fill the idle time: one
# at a time the whole run took longer than CI's 90 minutes, side by side 84 minutes
# (README, "Measured").
#
# Molecule's full output goes to tests/output/molecule.log; its per-scenario summary is
# printed at the end, and when a scenario failed, the log's last lines too. The run fails
# when any check failed. An interrupt (or CI's timeout) stops Molecule too, and
# run-molecule.sh then removes its containers.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
OUT=$ROOT/tests/output
MOLECULE_LOG=$OUT/molecule.log
MAKE=${MAKE:-make}

log() { printf 'make test: %s\n' "$*" >&2; }

step() {
  local t0=$SECONDS
  log "$* ..."
  if "$MAKE" --no-print-directory "$@"; then
    log "$* passed in $((SECONDS - t0))s"
    return 0
  fi
  log "$* FAILED after $((SECONDS - t0))s"
  return 1
}

t_start=$SECONDS
step format-check || exit 1
step yamllint || exit 1

mkdir -p "$OUT"
molecule_pid=""
stop_molecule() {
  [[ -n $molecule_pid ]] || return 0
  if kill -0 "$molecule_pid" 2>/dev/null; then
    log "stopping Molecule (tests/hosts/run-molecule.sh tears its scenario down)"
    kill -TERM "$molecule_pid" 2>/dev/null || true
  fi
  wait "$molecule_pid" 2>/dev/null || true
  molecule_pid=""
}
trap stop_molecule EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "Molecule starts in the background, its output in ${MOLECULE_LOG#"$ROOT"/}"
t_molecule=$SECONDS
tests/hosts/run-molecule.sh >"$MOLECULE_LOG" 2>&1 </dev/null &
molecule_pid=$!

failed=()
step ansible-lint || failed+=(ansible-lint)
step sanity || failed+=(sanity)
step units || failed+=(units)

log "waiting for Molecule"
if wait "$molecule_pid"; then
  molecule_rc=0
else
  molecule_rc=$?
fi
molecule_pid=""
log "Molecule ended after $((SECONDS - t_molecule))s (rc $molecule_rc):"
grep -a '^run-molecule: ' "$MOLECULE_LOG" | grep -aE 'passed in|FAILED after|ERROR|no scenario' >&2 || true
if ((molecule_rc != 0)); then
  failed+=(molecule)
  log "the last 150 lines of ${MOLECULE_LOG#"$ROOT"/}:"
  tail -n 150 "$MOLECULE_LOG" >&2
fi

if ((${#failed[@]})); then
  log "FAILED: ${failed[*]} (whole run $((SECONDS - t_start))s)"
  exit 1
fi
log "every check passed in $((SECONDS - t_start))s"
