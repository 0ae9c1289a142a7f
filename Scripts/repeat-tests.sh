#!/usr/bin/env bash
# Runs the tests (Scripts/with-deps swift test, from the repository root) N times in a row, to find flaky tests.
#
#   Scripts/repeat-tests.sh N [--hogs K]
#
#   --hogs K     keep K CPU-bound busy loops running during all the runs (started before the first run, stopped at
#                the end, also on Ctrl-C), to shake out timing-sensitive tests
#   -h, --help   this text
#
# Each run's output goes to .build/repeat-tests/run-<i>.log. After each run it prints
#   run i/N: PASS (123 s)     or     run i/N: FAIL (123 s): <failing tests>
# and at the end "passed=X of N". Exits 0 when every run passed, 1 otherwise (2 on bad arguments).
# REPEAT_TESTS_CMD, when set, replaces the test command (run with bash -c from the repository root).
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

runs=""
hogs=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --hogs)
      [ $# -ge 2 ] || { echo "repeat-tests.sh: --hogs needs a number" >&2; exit 2; }
      hogs="$2"; shift ;;
    --hogs=*) hogs="${1#--hogs=}" ;;
    -*) echo "repeat-tests.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      [ -z "$runs" ] || { echo "repeat-tests.sh: unexpected argument $1 (see --help)" >&2; exit 2; }
      runs="$1" ;;
  esac
  shift
done
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ]; then
  echo "repeat-tests.sh: give the number of runs, a positive integer (see --help)" >&2; exit 2
fi
if ! [[ "$hogs" =~ ^[0-9]+$ ]]; then
  echo "repeat-tests.sh: --hogs takes a number, not '$hogs'" >&2; exit 2
fi
runs=$((10#$runs)); hogs=$((10#$hogs))

cd "$(dirname "${BASH_SOURCE[0]}")/.."
log_dir=.build/repeat-tests
mkdir -p "$log_dir"
rm -f "$log_dir"/run-*.log

if [ -n "${REPEAT_TESTS_CMD:-}" ]; then
  cmd=(bash -c "$REPEAT_TESTS_CMD")
  cmd_text="$REPEAT_TESTS_CMD"
else
  cmd=(Scripts/with-deps swift test)
  cmd_text="${cmd[*]}"
fi

hog_pids=()
test_pid=""

# Stops a process and all its descendants (listed before the parent goes away).
# shellcheck disable=SC2317 # called from cleanup
kill_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null || true); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called from the traps
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$test_pid" ]; then kill_tree "$test_pid"; fi
  if [ ${#hog_pids[@]} -gt 0 ]; then
    kill "${hog_pids[@]}" 2>/dev/null || true
    wait "${hog_pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'echo "repeat-tests.sh: interrupted" >&2; exit 130' INT
trap 'echo "repeat-tests.sh: terminated" >&2; exit 143' TERM

# Names of the failed tests in a log, comma-separated (at most 20): Swift Testing's "✘ Test <name> failed after ..."
# (not its "Test run with N tests failed" summary) and XCTest's "Test Case '<name>' failed (...)". Colour codes are
# dropped first.
failed_tests() {
  LC_ALL=C sed -E "s/$(printf '\033')\[[0-9;]*[A-Za-z]//g" "$1" |
    LC_ALL=C sed -nE \
      -e '/✘ Test run with [0-9]+ tests?.* failed after /d' \
      -e '/✘ Test .* recorded an issue/d' \
      -e 's/.*✘ Test (.+) failed after .*/\1/p' \
      -e "s/.*Test Case '(.+)' failed( \(.*)?\.?\$/\1/p" |
    LC_ALL=C awk '!seen[$0]++ { n++; if (n <= 20) printf "%s%s", (n > 1 ? ", " : ""), $0 }
      END { if (n > 20) printf ", … (%d more)", n - 20 }'
}

echo "repeat-tests.sh: $runs run(s) of '$cmd_text'$([ "$hogs" -gt 0 ] && echo " with $hogs CPU hog(s)"); logs in $log_dir/"
for ((h = 0; h < hogs; h++)); do
  sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
  hog_pids+=($!)
done

exec 4<&0 # the test command keeps our stdin (sudo in with-deps may ask for a password)
passed=0
for ((i = 1; i <= runs; i++)); do
  log="$log_dir/run-$i.log"
  start=$SECONDS
  # In the background so that INT/TERM reach the trap at once; cleanup then stops the whole run.
  "${cmd[@]}" <&4 >"$log" 2>&1 4<&- &
  test_pid=$!
  rc=0
  wait "$test_pid" || rc=$?
  test_pid=""
  secs=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "run $i/$runs: PASS ($secs s)"
  else
    names=$(failed_tests "$log" || true)
    echo "run $i/$runs: FAIL ($secs s): ${names:-(exit code $rc; see $log)}"
  fi
done

echo "passed=$passed of $runs"
if [ "$passed" -eq "$runs" ]; then exit 0; fi
exit 1
