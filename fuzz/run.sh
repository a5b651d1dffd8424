#!/usr/bin/env bash
# Fuzz for SECONDS (default 3600) on one core at the lowest priority. A crash ends a libFuzzer run:
# it is kept in fuzz/crashes/ and the fuzzer starts again on the grown corpus until the time is up.
# Usage: bash fuzz/run.sh [SECONDS]   (after `make fuzz-install`; log in fuzz/run.log)
set -u
cd "$(dirname "$0")/.."
total=${1:-3600}
py=.venv/bin/python
mkdir -p fuzz/corpus fuzz/crashes
$py fuzz/make_seeds.py fuzz/seeds
start=$(date +%s)
runs=0
while :; do
  left=$(( total - ($(date +%s) - start) ))
  [ "$left" -le 10 ] && break
  runs=$((runs + 1))
  began=$(date +%s)
  echo "== run $runs, $left s left ($(date -Is))"
  nice -n 19 $py fuzz/fuzz_readers.py -rss_limit_mb=3000 -timeout=60 -max_len=20000 -max_total_time="$left" \
    -artifact_prefix=fuzz/crashes/ -print_final_stats=1 fuzz/corpus fuzz/seeds
  echo "== run $runs ended with $? ($(date -Is))"
  [ $(( $(date +%s) - began )) -lt 5 ] && { echo "== the fuzzer did not start"; exit 1; }
done
echo "== done: $runs runs, $(ls fuzz/crashes | wc -l) artifacts in fuzz/crashes, $(ls fuzz/corpus | wc -l) corpus inputs"
