#!/usr/bin/env bash
# Runs a baseline build and the current build of the client side by side, alternating, against the same mock-broker
# process, and prints each one's median msgs/s and CPU µs per message and the current/baseline ratios:
#
#   COMPARE mode=async pairs=5 baseline_msgs_per_s=X current_msgs_per_s=X ratio=X baseline_cpu_us=X current_cpu_us=X cpu_ratio=X
#
# Usage: Scripts/bench-compare.sh --baseline BIN [--current BIN] [--mock-broker BIN] [--pairs N] [--duration S] [--modes LIST]
#   --current default .build/release/rocketmq; --mock-broker default .build/release/mock-broker; LIST default async,sync.
# Keep a baseline with e.g. `cp .build/release/rocketmq /tmp/rocketmq-baseline` before changing the code.
set -euo pipefail
cd "$(dirname "$0")/.."

BASELINE=
CURRENT=.build/release/rocketmq
MOCK=.build/release/mock-broker
PAIRS=5
DURATION=5
MODES=async,sync
while [[ $# -gt 0 ]]; do
  case "$1" in
    --baseline) BASELINE=$2; shift 2 ;;
    --current) CURRENT=$2; shift 2 ;;
    --mock-broker) MOCK=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n "$BASELINE" ]] || { echo "--baseline BIN is required" >&2; exit 2; }

OUT=$(mktemp)
"$MOCK" --namesrv-port 0 --broker-port 0 --grace-period 0 --queues 8 >"$OUT" 2>/dev/null &
BROKER=$!
trap 'kill $BROKER 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 600); do grep -q '^READY' "$OUT" && break; sleep 0.1; done
NS=$(sed -n 's/^READY namesrv=\([^ ]*\).*/\1/p' "$OUT")
[[ -n "$NS" ]] || { echo "mock broker did not start" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
run() { # binary mode -> "msgs_per_s cpu_us"
  local line
  line=$("$1" bench produce --namesrv "$NS" --mode "$2" --duration "$DURATION" --warmup 0 --report-interval 3600 | grep '^RESULT')
  awk '{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["msgs_per_s"], v["cpu_s"] * 1000000 / (v["ok"] > 0 ? v["ok"] : 1)}' <<<"$line"
}

for mode in ${MODES//,/ }; do
  : >"$OUT.b"; : >"$OUT.c"
  for i in $(seq 1 "$PAIRS"); do
    # Alternate which goes first, so a drift in the machine's load does not favour one.
    if (( i % 2 )); then run "$BASELINE" "$mode" >>"$OUT.b"; run "$CURRENT" "$mode" >>"$OUT.c"
    else run "$CURRENT" "$mode" >>"$OUT.c"; run "$BASELINE" "$mode" >>"$OUT.b"; fi
  done
  bt=$(cut -d' ' -f1 "$OUT.b" | median); ct=$(cut -d' ' -f1 "$OUT.c" | median)
  bc_=$(cut -d' ' -f2 "$OUT.b" | median); cc=$(cut -d' ' -f2 "$OUT.c" | median)
  printf 'COMPARE mode=%s pairs=%s baseline_msgs_per_s=%.0f current_msgs_per_s=%.0f ratio=%.2f baseline_cpu_us=%.1f current_cpu_us=%.1f cpu_ratio=%.2f\n' \
    "$mode" "$PAIRS" "$bt" "$ct" "$(echo "$ct / $bt" | bc -l)" "$bc_" "$cc" "$(echo "$cc / $bc_" | bc -l)"
  rm -f "$OUT.b" "$OUT.c"
done
