#!/usr/bin/env bash
# Build kube-apiserver and etcd from the Go module proxy and cache them under
# ~/.cache/tianshu/bin/<name>-<version>. Idempotent: a cached binary is reused.
#
# kube-apiserver is not published as a binary we can reach, and
# k8s.io/kubernetes cannot be `go install`ed directly: its go.mod requires the
# k8s.io/* staging modules at v0.0.0 and replaces them with ./staging paths,
# and replace directives of dependencies are ignored. So we build from a
# throwaway wrapper module that requires k8s.io/kubernetes and replaces every
# staging module with its published v0.<minor>.<patch> twin.
#
# Usage: build-kube.sh [kube-apiserver|etcd|all]   (default: all)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

what="${1:-all}"

build_kube_apiserver() {
  local out="$TIANSHU_BIN/kube-apiserver-$KUBE_VERSION"
  if [ -x "$out" ] && "$out" --version >/dev/null 2>&1; then
    log "kube-apiserver $KUBE_VERSION cached at $out"
    return 0
  fi
  local staging_version="v0.${KUBE_VERSION#v1.}"
  local major minor
  major="$(echo "${KUBE_VERSION#v}" | cut -d. -f1)"
  minor="$(echo "${KUBE_VERSION#v}" | cut -d. -f2)"
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/tianshu-kube-build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  log "building kube-apiserver $KUBE_VERSION (staging $staging_version) in $work"

  # The staging modules are exactly the replace targets under ./staging.
  local upstream_mod staging
  upstream_mod="$(curl -fsSL --retry 3 "$GOPROXY/k8s.io/kubernetes/@v/$KUBE_VERSION.mod")" \
    || die "cannot fetch k8s.io/kubernetes $KUBE_VERSION go.mod from $GOPROXY"
  staging="$(printf '%s\n' "$upstream_mod" | sed -nE 's#^[[:space:]]*(k8s\.io/[^[:space:]]+)[[:space:]]+=>[[:space:]]+\./staging/.*#\1#p')"
  [ -n "$staging" ] || die "no staging replaces found in k8s.io/kubernetes $KUBE_VERSION go.mod"

  {
    echo "module tianshu.local/kubebuild"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    local m
    for m in $staging; do
      echo "	$m => $m $staging_version"
    done
    echo ")"
  } >"$work/go.mod"
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO

  local ldflags pkg="k8s.io/component-base/version" cpkg="k8s.io/client-go/pkg/version"
  local date; date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  ldflags="-s -w"
  local p
  for p in "$pkg" "$cpkg"; do
    ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done

  local start=$SECONDS
  (
    cd "$work"
    go mod tidy
    go build -p "$(go_jobs)" -trimpath -ldflags "$ldflags" -o "$out.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  ) || die "kube-apiserver build failed"
  mv -f "$out.tmp" "$out"
  log "built kube-apiserver $KUBE_VERSION in $((SECONDS - start))s -> $out"
  "$out" --version >&2
}

build_etcd() {
  local out="$TIANSHU_BIN/etcd-$ETCD_VERSION"
  if [ -x "$out" ] && "$out" --version >/dev/null 2>&1; then
    log "etcd $ETCD_VERSION cached at $out"
    return 0
  fi
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/tianshu-etcd-build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  log "building etcd $ETCD_VERSION in $work"
  # etcdmain.Main is the real entry point in both 3.5 and 3.6; a tiny main
  # avoids depending on where upstream keeps its package main.
  cat >"$work/go.mod" <<MOD
module tianshu.local/etcdbuild

go 1.24.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat >"$work/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  local start=$SECONDS
  (
    cd "$work"
    go mod tidy
    go build -p "$(go_jobs)" -trimpath -ldflags "-s -w" -o "$out.tmp" .
  ) || die "etcd build failed"
  mv -f "$out.tmp" "$out"
  log "built etcd $ETCD_VERSION in $((SECONDS - start))s -> $out"
  "$out" --version >&2
}

# One builder at a time per machine (provision.sh and a developer may race).
exec 9>"$TIANSHU_CACHE/.build-kube.lock"
flock 9

case "$what" in
  kube-apiserver) build_kube_apiserver ;;
  etcd) build_etcd ;;
  all) build_kube_apiserver; build_etcd ;;
  *) die "unknown target: $what (kube-apiserver|etcd|all)" ;;
esac
