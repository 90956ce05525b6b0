# Shared helpers for the rig scripts. Source it; do not execute it.
# shellcheck shell=bash
set -euo pipefail

RIG_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$RIG_DIR/versions.sh"

TIANSHU_CACHE="${TIANSHU_CACHE:-$HOME/.cache/tianshu}"
TIANSHU_BIN="$TIANSHU_CACHE/bin"
TIANSHU_LOGS="$TIANSHU_CACHE/logs"
mkdir -p "$TIANSHU_BIN" "$TIANSHU_LOGS"

# Only the module proxy is reachable (no VCS, no sum.golang.org), so resolve
# everything through the proxy and rely on go.sum hashes from the proxy.
export GOPROXY="${GOPROXY_OVERRIDE:-https://proxy.golang.org}"
export GOSUMDB="${GOSUMDB:-off}"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOFLAGS=-mod=mod

log() { printf '[rig %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Go build parallelism: never more than the machine has, and at most 2 by
# default so a 2-core CI box stays responsive.
go_jobs() {
  local n
  n="$(nproc 2>/dev/null || echo 2)"
  if [ "$n" -gt "${RIG_GO_JOBS_MAX:-2}" ]; then n="${RIG_GO_JOBS_MAX:-2}"; fi
  echo "$n"
}
