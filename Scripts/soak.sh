#!/usr/bin/env bash
# Runs every reliability scenario (ReliabilitySuite, release build) and the wire fuzzer; prints each scenario's
# figures and its RESULT line, then a summary. Exits non-zero if any goal was missed.
#
#   Scripts/soak.sh            the issue's lengths (about 85 minutes: 10 min soak, 10 min fuzzing per decoder family (six), ...)
#   Scripts/soak.sh --quick    the same scenarios, shortened (a few minutes after the builds)
#
# Options:
#   --only a,b,...       run only these scenarios (rolling-restart kill9 drops-and-pause churn bad-input fuzz leaks soak)
#   --fuzz-seconds N     libFuzzer time per target: frames, json, messages, filter, extrainfo, trace (default 600 each, quick 30)
#   --no-fuzz            skip the fuzzer (it needs its own sanitizer build, several minutes)
#   --log-level LEVEL    library log level on stderr (default critical)
# Logs of every run go to .build/soak-logs/<time>/.
set -uo pipefail
cd "$(dirname "$0")/.."

quick=0
only=""
fuzz_seconds=""
fuzz=1
log_level=critical
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only) only="$2"; shift ;;
    --fuzz-seconds) fuzz_seconds="$2"; shift ;;
    --no-fuzz) fuzz=0 ;;
    --log-level) log_level="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# Scenario arguments: durations and counts, quick or full.
if [ "$quick" = 1 ]; then
  mode=quick
  fuzz_seconds="${fuzz_seconds:-30}"
  args_rolling=(--warmup 5 --grace 3 --down 1 --settle 5)
  args_kill9=(--warmup 5 --down 3 --after 5)
  args_drops=(--drop-seconds 10 --pause-seconds 5 --settle 3)
  args_churn=(--seconds 20)
  args_bad=(--rounds 5)
  args_leaks=(--cycles 100 --warmup 10)
  args_soak=(--seconds 60)
else
  mode=full
  fuzz_seconds="${fuzz_seconds:-600}"
  args_rolling=(--warmup 20 --grace 10 --down 2 --settle 20)
  args_kill9=(--warmup 20 --down 10 --after 20)
  args_drops=(--drop-seconds 30 --pause-seconds 10 --settle 5)
  args_churn=(--seconds 60)
  args_bad=(--rounds 20)
  args_leaks=(--cycles 100 --warmup 10)
  args_soak=(--seconds 600)
fi

wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

Scripts/with-deps true
echo "soak.sh: building ReliabilitySuite and mock-broker (release)" >&2
swift build -c release --product ReliabilitySuite >&2 || exit 1
swift build -c release --product mock-broker >&2 || exit 1
suite=.build/release/ReliabilitySuite

logs=".build/soak-logs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$logs"
declare -a summary=()
failed=0

run() {
  local name="$1"; shift
  wanted "$name" || return 0
  echo
  echo "=== $name ($mode): $*"
  local started=$SECONDS
  "$suite" "$name" --log-level "$log_level" "$@" 2> "$logs/$name.stderr" | tee "$logs/$name.log"
  local status=${PIPESTATUS[0]}
  local result
  result=$(grep '^RESULT ' "$logs/$name.log" | tail -1)
  if [ -z "$result" ]; then
    result="RESULT scenario=$name pass=false (no result: exit status $status; see $logs/$name.stderr)"
    tail -5 "$logs/$name.stderr"
  fi
  [ "$status" = 0 ] || failed=1
  summary+=("$(printf '%-16s %4ss  %s' "$name" $((SECONDS - started)) "$([ "$status" = 0 ] && echo pass || echo FAIL)")")
}

run_fuzz() {
  wanted fuzz || return 0
  [ "$fuzz" = 1 ] || { summary+=("$(printf '%-16s %4ss  %s' fuzz 0 skipped)"); return 0; }
  local target
  for target in frames json messages filter extrainfo trace; do
    echo
    echo "=== fuzz ($mode): WireFuzz target $target, libFuzzer, ${fuzz_seconds} s"
    local started=$SECONDS
    local log="$logs/fuzz-$target.log"
    WIRE_FUZZ_TARGET=$target Scripts/fuzz.sh "$fuzz_seconds" > "$log" 2>&1
    local status=$?
    local execs crashes
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    crashes=$(grep -c -E 'ERROR: (libFuzzer|AddressSanitizer)|SUMMARY: (libFuzzer|AddressSanitizer)' "$log")
    tail -6 "$log"
    local pass=true
    if [ "$status" != 0 ] || [ -z "$execs" ]; then pass=false; failed=1; fi
    echo "RESULT scenario=fuzz target=$target seconds=$fuzz_seconds execs=${execs:-0} crashes=$crashes exit=$status pass=$pass" \
      | tee -a "$log"
    summary+=("$(printf '%-16s %4ss  %s' "fuzz-$target" $((SECONDS - started)) "$([ "$pass" = true ] && echo pass || echo FAIL)")")
  done
}

run rolling-restart "${args_rolling[@]}"
run kill9 "${args_kill9[@]}"
run drops-and-pause "${args_drops[@]}"
run churn "${args_churn[@]}"
run bad-input "${args_bad[@]}"
run_fuzz
run leaks "${args_leaks[@]}"
run soak "${args_soak[@]}"

echo
echo "summary ($mode run; logs in $logs)"
for line in "${summary[@]}"; do echo "  $line"; done
grep -h '^RESULT ' "$logs"/*.log 2>/dev/null
exit $failed
