#!/usr/bin/env bash
# Create (or reuse) the moto server virtualenv at ~/.cache/tianshu/moto-venv with
# moto[server]==$MOTO_VERSION, then check that moto_server runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

venv="$TIANSHU_CACHE/moto-venv"
stamp="$venv/.tianshu-moto-$MOTO_VERSION"

if [ -f "$stamp" ] && "$venv/bin/moto_server" --help >/dev/null 2>&1; then
  log "moto $MOTO_VERSION cached at $venv"
  exit 0
fi

# Prefer Debian's python3 (python3-venv is installed by install-debian.sh); fall back to PATH.
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)" || die "python3 not found (run test/rig/install-debian.sh)"

start=$SECONDS
log "creating moto $MOTO_VERSION venv at $venv with $py"
rm -rf "$venv"
"$py" -m venv "$venv" || die "python3 -m venv failed (is python3-venv installed?)"
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
  || die "pip install moto[server]==$MOTO_VERSION failed"
"$venv/bin/moto_server" --help >/dev/null || die "moto_server --help failed"
touch "$stamp"
log "moto $MOTO_VERSION ready in $((SECONDS - start))s"
