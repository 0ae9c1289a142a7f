#!/usr/bin/env bash
# Runs ../shared/tools/conformance.py (the checker proven against Apache RocketMQ 5.3.3) against the mock-broker
# executable: once for the 16 protocol checks, once more with --drain-check (SIGTERM -> GO_AWAY drain -> exit 0).
#   Scripts/conformance.sh [path/to/conformance.py]
set -euo pipefail
cd "$(dirname "$0")/.."
checker="${1:-../shared/tools/conformance.py}"
[ -f "$checker" ] || { echo "conformance: $checker not found" >&2; exit 2; }
swift build --product mock-broker >&2
bin="$(swift build --show-bin-path)/mock-broker"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

start() {  # start NAME EXTRA_ARGS... ; sets NS and PID
  local name="$1"; shift
  "$bin" --namesrv-port 0 --broker-port 0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  PID=$!
  pids+=("$PID")
  for _ in $(seq 1 200); do
    if grep -q '^READY ' "$tmp/$name.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  grep -q '^READY ' "$tmp/$name.out" || { echo "conformance: mock-broker did not get ready" >&2; cat "$tmp/$name.err" >&2; exit 1; }
  NS="$(sed -n 's/^READY namesrv=\([^ ]*\).*/\1/p' "$tmp/$name.out")"
  echo "# $(head -1 "$tmp/$name.out")"
}

echo "== conformance: protocol checks"
start plain --brokers 2
python3 "$checker" --namesrv "$NS"
kill -TERM "$PID"; wait "$PID" || { echo "conformance: mock-broker exited non-zero after SIGTERM" >&2; exit 1; }

echo "== conformance: graceful drain (GO_AWAY)"
start drain --brokers 1 --grace-period 3
python3 "$checker" --namesrv "$NS" --drain-check "$PID"
status=0; wait "$PID" || status=$?
[ "$status" -eq 0 ] || { echo "conformance: drained mock-broker exited $status" >&2; exit 1; }
echo "conformance: mock-broker exited 0 after the drain"
