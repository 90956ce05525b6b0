#!/usr/bin/env bash
# Copy the Grafana dashboards and alert rules from dashboards/ into the chart, which can only
# read files inside its own directory. test/chart-files.test.ts fails when the copies drift.
#   bash charts/sync-dashboards.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/dashboards"
dst="$root/charts/tianshu/files"
mkdir -p "$dst"
# Remove copies whose source is gone, then copy what exists.
for f in "$dst"/*.json "$dst"/alerts.yaml; do
  [ -e "$f" ] || continue
  [ -e "$src/$(basename "$f")" ] || { rm -f "$f"; echo "removed $(basename "$f")"; }
done
shopt -s nullglob
for f in "$src"/*.json "$src"/alerts.yaml; do
  cp "$f" "$dst/"
  echo "copied $(basename "$f")"
done
