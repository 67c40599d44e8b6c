#!/usr/bin/env bash
# The real-hardware check, for a machine with RAPL, hardware perf counters or an NVIDIA GPU (a lent
# device machine): probe, cross-check, and measurements through every interface found, into one
# JSON file (OUT_DIR/device-check.json, OUT_DIR defaulting to $OUT or ./device-check). Runs from an
# installed checkout (`npm install` done: dist/, build/ and node_modules/), in under 4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-device-check}}"
[ -f dist/cli/main.js ] && [ -f build/Release/emp.node ] || {
  echo "device-check: run \`npm install\` first (dist/ and build/ are missing)" >&2
  exit 2
}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,power.draw --format=csv >&2 || true
exec timeout 230 node bench/device-check.mjs "$out"
