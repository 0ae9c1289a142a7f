#!/usr/bin/env bash
# Runs libFuzzer on the wire decoders for the given number of seconds (default 60).
#   Scripts/fuzz.sh [seconds] [extra libFuzzer flags...]
# WIRE_FUZZ_TARGET picks the decoders: frames, json (the parser and every JSON body type), messages (store records,
# batches, properties, ids, decompression), filter (SQL92 expressions, parsed and evaluated), extrainfo (POP receipts, offset infos, batch-ack bodies),
# trace (message trace bodies, decoded and round-tripped) or all
# (the default).
# Crashing inputs are written to fuzz-corpus/crashes/; the corpus grows in fuzz-corpus/wire/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true
Scripts/with-deps true
swift build -c release --scratch-path .build-fuzz --product WireFuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library >&2
mkdir -p fuzz-corpus/wire fuzz-corpus/crashes
exec .build-fuzz/release/WireFuzz fuzz-corpus/wire -max_total_time="$seconds" -max_len=65536 \
  -artifact_prefix=fuzz-corpus/crashes/ -print_final_stats=1 "$@"
