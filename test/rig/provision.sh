#!/usr/bin/env bash
# Provision every component of the test rig (npm run rig; .ci/run calls it too):
#   install-debian.sh  postgresql, prometheus(+promtool), chromium, python3-venv via apt
#   moto.sh            moto[server] virtualenv
#   build-helm.sh      helm from the Go module proxy
#   build-kube.sh      kube-apiserver and etcd from the Go module proxy
# Everything is cached under ~/.cache/tianshu (see README.md); a warm run takes seconds.
# Prints one status line per component and exits non-zero if any could not be provisioned.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v go >/dev/null || die "go is not installed (needed to build kube-apiserver, etcd and helm)"

t0=$SECONDS
failed=()

# run NAME SCRIPT [ARGS...]: run one step, log to $TIANSHU_LOGS/NAME.log, report its time.
run() {
  local name="$1"; shift
  local start=$SECONDS log="$TIANSHU_LOGS/$name.log"
  if bash "$RIG_DIR/$1" "${@:2}" >"$log" 2>&1; then
    log "$name ok ($((SECONDS - start))s)"
  else
    log "$name FAILED ($((SECONDS - start))s); last lines of $log:"
    tail -n 25 "$log" >&2
    return 1
  fi
}

# apt + pip are network-bound and the Go builds are CPU-bound: overlap them.
( run debian install-debian.sh && run moto moto.sh ) &
apt_pid=$!
run helm build-helm.sh || failed+=(helm)
run kube build-kube.sh all || failed+=(kube-apiserver/etcd)
wait "$apt_pid" || failed+=(debian/moto)

# One status line per component: name, path, version. Missing => failure.
status() {
  local name="$1" path="$2" version="$3"
  if [ -n "$path" ] && [ -x "$path" ] && [ -n "$version" ]; then
    printf '%-15s %-60s %s\n' "$name" "$path" "$version"
  else
    printf '%-15s %-60s %s\n' "$name" "${path:-(not found)}" "MISSING"
    failed+=("$name")
  fi
}
first_line() { "$@" 2>/dev/null | head -n 1 || true; }
pgbin() { compgen -G "/usr/lib/postgresql/*/bin/$1" | sort -V | tail -n 1 || true; }

kube="$TIANSHU_BIN/kube-apiserver-$KUBE_VERSION"
etcd="$TIANSHU_BIN/etcd-$ETCD_VERSION"
helm="$TIANSHU_BIN/helm-$HELM_VERSION"
moto="$TIANSHU_CACHE/moto-venv/bin/moto_server"
pg="$(pgbin postgres)"
initdb="$(pgbin initdb)"

echo "== tianshu test rig (cache: $TIANSHU_CACHE)"
status kube-apiserver "$kube" "$(first_line "$kube" --version)"
status etcd "$etcd" "$(first_line "$etcd" --version)"
status helm "$helm" "$(first_line "$helm" version --short)"
status moto_server "$moto" "$([ -x "$moto" ] && first_line "$TIANSHU_CACHE/moto-venv/bin/python" -c 'import moto; print("moto " + moto.__version__)')"
status postgres "$pg" "$(first_line "$pg" --version)"
status initdb "$initdb" "$(first_line "$initdb" --version)"
status prometheus "$(command -v prometheus || true)" "$(first_line prometheus --version)"
status promtool "$(command -v promtool || true)" "$(first_line promtool --version)"
chromium_bin=/usr/lib/chromium/chromium; [ -x "$chromium_bin" ] || chromium_bin="$(command -v chromium || true)"
status chromium "$chromium_bin" "$(first_line chromium --version)"

if [ "${#failed[@]}" -gt 0 ]; then
  # de-duplicate for the message
  die "could not provision: $(printf '%s\n' "${failed[@]}" | sort -u | tr '\n' ' ')(logs in $TIANSHU_LOGS)"
fi
log "rig ready in $((SECONDS - t0))s"
