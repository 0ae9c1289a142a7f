#!/usr/bin/env bash
# Per-message cost of the client and of the mock broker, in counts that a busy machine cannot move much:
# instructions (valgrind callgrind) and heap allocations (a preloaded malloc counter), each the difference between a
# small and a large run divided by the difference in messages, so start-up and shutdown cancel out. Also the client
# process's CPU time per message (user + system) from a native run. One line per measure:
#
#   COST measure=async_send instructions_per_msg=N allocs_per_msg=N
#   COST measure=client_cpu mode=async us_per_msg=X msgs_per_s=X
#
# Usage: Scripts/per-message-cost.sh [--rocketmq BIN] [--mock-broker BIN] [--only LIST] [--small N] [--large N]
#   BIN default: .build/release/{rocketmq,mock-broker} (build them with `swift build -c release`).
#   LIST: comma-separated among async_send,sync_send,consume,broker_send,broker_pull,client_cpu (default: all).
# Needs valgrind and gcc. Each binary is copied without its debug info (valgrind 3.19 cannot read Swift's).
set -euo pipefail
cd "$(dirname "$0")/.."

ROCKETMQ=.build/release/rocketmq
MOCK=.build/release/mock-broker
ONLY=async_send,sync_send,consume,broker_send,broker_pull,client_cpu
SMALL=2000
LARGE=12000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rocketmq) ROCKETMQ=$2; shift 2 ;;
    --mock-broker) MOCK=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --small) SMALL=$2; shift 2 ;;
    --large) LARGE=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

WORK=$(mktemp -d)
BROKER_PIDS=()
cleanup() {
  for pid in "${BROKER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

objcopy --strip-debug "$ROCKETMQ" "$WORK/rocketmq"
objcopy --strip-debug "$MOCK" "$WORK/mock-broker"
gcc -shared -fPIC -O2 Benchmarks/tools/valgrind-sigsuspend.c -o "$WORK/sigsuspend.so"
gcc -shared -fPIC -O2 Benchmarks/tools/malloc-count.c -o "$WORK/malloc-count.so"
export SWIFT_BACKTRACE=enable=no

# Starts a mock broker (optionally under a wrapper), waits for READY; sets NS and BROKER_PID.
start_broker() {
  local out="$WORK/broker.$RANDOM"
  "$@" "$WORK/mock-broker" --namesrv-port 0 --broker-port 0 --grace-period 0 --queues 8 >"$out" 2>"$out.err" &
  BROKER_PID=$!
  BROKER_PIDS+=("$BROKER_PID")
  for _ in $(seq 1 600); do
    if grep -q '^READY' "$out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  NS=$(sed -n 's/^READY namesrv=\([^ ]*\).*/\1/p' "$out")
  [[ -n "$NS" ]] || { echo "mock broker did not start" >&2; cat "$out.err" >&2; exit 1; }
}
stop_broker() { kill -TERM "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true; }

# Instructions of one command under callgrind.
instructions() {
  local file="$WORK/cg.$RANDOM"
  LD_PRELOAD="$WORK/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$file" "$@" >"$file.out" 2>"$file.err"
  sed -n 's/^summary: \([0-9]*\)$/\1/p' "$file" | tail -1
}
# Heap allocations of one command.
allocations() {
  LD_PRELOAD="$WORK/malloc-count.so" "$@" 2>&1 >/dev/null | sed -n 's/^ALLOCS \([0-9]*\)$/\1/p' | tail -1
}
per_message() { echo "scale=1; ($2 - $1) / ($LARGE - $SMALL)" | bc; }

produce() { # mode count [topic]
  "$WORK/rocketmq" bench produce --namesrv "$NS" --mode "$1" --count "$2" --warmup 0 --topic "${3:-CostTopic}" \
    --send-timeout 60 --report-interval 3600
}
client_cost() { # measure mode
  start_broker
  # The topic exists before anything is measured: otherwise the first run alone pays for creating it (and, in
  # clients that do not share route lookups, for a name-server request per send in flight until it exists).
  produce async 200 >/dev/null
  local i1 i2 a1 a2
  i1=$(instructions "$WORK/rocketmq" bench produce --namesrv "$NS" --mode "$2" --count "$SMALL" --warmup 0 --topic CostTopic --send-timeout 60 --report-interval 3600)
  i2=$(instructions "$WORK/rocketmq" bench produce --namesrv "$NS" --mode "$2" --count "$LARGE" --warmup 0 --topic CostTopic --send-timeout 60 --report-interval 3600)
  a1=$(allocations produce "$2" "$SMALL")
  a2=$(allocations produce "$2" "$LARGE")
  stop_broker
  echo "COST measure=$1 instructions_per_msg=$(per_message "$i1" "$i2") allocs_per_msg=$(per_message "$a1" "$a2")"
}
consume() { # count topic
  "$WORK/rocketmq" bench consume --namesrv "$NS" --topic "$2" --count "$1" --group "cost_$RANDOM" --report-interval 3600 --timeout 600
}

wants async_send && client_cost async_send async
wants sync_send && client_cost sync_send sync

if wants consume; then
  # The consumer's work per message: pull, decode, dispatch to the handler, commit.
  start_broker
  produce async "$SMALL" CostSmall >/dev/null
  produce async "$LARGE" CostLarge >/dev/null
  i1=$(instructions "$WORK/rocketmq" bench consume --namesrv "$NS" --topic CostSmall --count "$SMALL" --group cs1 --report-interval 3600 --timeout 600)
  i2=$(instructions "$WORK/rocketmq" bench consume --namesrv "$NS" --topic CostLarge --count "$LARGE" --group cl1 --report-interval 3600 --timeout 600)
  a1=$(allocations consume "$SMALL" CostSmall)
  a2=$(allocations consume "$LARGE" CostLarge)
  stop_broker
  echo "COST measure=consume instructions_per_msg=$(per_message "$i1" "$i2") allocs_per_msg=$(per_message "$a1" "$a2")"
fi

# The mock broker's own work: one broker process under callgrind per count; the client runs natively.
broker_run() { # count with_pull
  local file="$WORK/cgb.$RANDOM"
  start_broker env LD_PRELOAD="$WORK/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$file"
  produce sync 1 CostTopic >/dev/null  # creates the topic, so no run pays for route lookups while it does not exist
  produce async "$1" CostTopic >/dev/null
  if [[ "$2" == 1 ]]; then consume "$1" CostTopic >/dev/null; fi
  stop_broker
  sed -n 's/^summary: \([0-9]*\)$/\1/p' "$file" | tail -1
}
if wants broker_send || wants broker_pull; then
  s1=$(broker_run "$SMALL" 0)
  s2=$(broker_run "$LARGE" 0)
  wants broker_send && echo "COST measure=broker_send instructions_per_msg=$(per_message "$s1" "$s2")"
  if wants broker_pull; then
    p1=$(broker_run "$SMALL" 1)
    p2=$(broker_run "$LARGE" 1)
    echo "COST measure=broker_pull instructions_per_msg=$(echo "scale=1; (($p2 - $s2) - ($p1 - $s1)) / ($LARGE - $SMALL)" | bc)"
  fi
fi

if wants client_cpu; then
  start_broker
  for mode in async sync; do
    line=$("$WORK/rocketmq" bench produce --namesrv "$NS" --mode "$mode" --duration 10 --warmup 0 --report-interval 3600 | grep '^RESULT')
    sent=$(sed -n 's/.* ok=\([0-9]*\) .*/\1/p' <<<"$line")
    cpu=$(sed -n 's/.* cpu_s=\([0-9.]*\) .*/\1/p' <<<"$line")
    rate=$(sed -n 's/.* msgs_per_s=\([0-9.]*\) .*/\1/p' <<<"$line")
    echo "COST measure=client_cpu mode=$mode us_per_msg=$(echo "scale=2; $cpu * 1000000 / $sent" | bc) msgs_per_s=$rate"
  done
  stop_broker
fi
