#!/usr/bin/env bash
# Install the Debian packages the tests need, if missing: postgresql (initdb/postgres),
# prometheus (prometheus + promtool), chromium, python3-venv (for the moto venv).
# apt-get update runs only when something is missing, and at most once a day.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# package -> a file it provides that proves it is usable
declare -A probe=(
  [postgresql]="/usr/lib/postgresql/*/bin/initdb"
  [prometheus]="/usr/bin/prometheus"
  [chromium]="/usr/bin/chromium"
  [python3-venv]="/usr/lib/python3*/venv/__init__.py"
)

missing=()
for pkg in postgresql prometheus chromium python3-venv; do
  # shellcheck disable=SC2086
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && compgen -G ${probe[$pkg]} >/dev/null; then
    continue
  fi
  missing+=("$pkg")
done
# promtool ships in the prometheus package; double-check it.
if [ ! -x /usr/bin/promtool ] && [[ ! " ${missing[*]} " == *" prometheus "* ]]; then missing+=(prometheus); fi

if [ "${#missing[@]}" -eq 0 ]; then
  log "debian packages present: postgresql prometheus chromium python3-venv"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
stamp="$TIANSHU_CACHE/.apt-updated"
if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
  log "apt-get update"
  apt-get update -qq || die "apt-get update failed"
  touch "$stamp"
fi
start=$SECONDS
log "apt-get install ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$TIANSHU_LOGS/apt-install.log" 2>&1 \
  || { tail -20 "$TIANSHU_LOGS/apt-install.log" >&2; die "apt-get install ${missing[*]} failed"; }
log "installed ${missing[*]} in $((SECONDS - start))s"

# The Debian packages may try to start their own services (no-op without systemd); the rig
# starts its own throwaway instances, so make sure none is left holding ports.
for svc in postgresql prometheus; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
