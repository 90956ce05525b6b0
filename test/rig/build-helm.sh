#!/usr/bin/env bash
# Build helm $HELM_VERSION from the Go module proxy into
# ~/.cache/tianshu/bin/helm-$HELM_VERSION. Idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out="$TIANSHU_BIN/helm-$HELM_VERSION"
if [ -x "$out" ] && "$out" version --short >/dev/null 2>&1; then
  log "helm $HELM_VERSION cached at $out"
  exit 0
fi

gobin="$(mktemp -d "${TMPDIR:-/tmp}/tianshu-helm-build.XXXXXX")"
trap 'rm -rf "$gobin"' EXIT
start=$SECONDS
log "building helm $HELM_VERSION"
# helm reads its version, and the default Kubernetes version for `helm template` /
# `helm lint`, from ldflags; mirror upstream's Makefile (k8s minor from client-go v0.<minor>).
client_go="$(curl -fsSL --retry 3 "$GOPROXY/helm.sh/helm/v3/@v/$HELM_VERSION.mod" | sed -nE 's#^[[:space:]]*k8s\.io/client-go[[:space:]]+v0\.([0-9]+)\..*#\1#p' | head -n 1)" \
  || die "cannot fetch helm $HELM_VERSION go.mod from $GOPROXY"
[ -n "$client_go" ] || die "no k8s.io/client-go requirement in helm $HELM_VERSION go.mod"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$client_go"
done
# `go install pkg@version` ignores GOFLAGS=-mod=mod's module context; it is its own module.
GOFLAGS= GOBIN="$gobin" go install -p "$(go_jobs)" -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
  || die "go install helm $HELM_VERSION failed"
mv -f "$gobin/helm" "$out"
log "built helm $HELM_VERSION in $((SECONDS - start))s -> $out"
"$out" version --short >&2
