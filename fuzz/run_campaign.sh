#!/usr/bin/env bash
# Every fuzzing campaign, one after another, at low priority (nice 10):
#   1. atheris, each mode (loads, apis, models, cli) for $SECONDS_PER_MODE seconds
#      (default 600).  libFuzzer stops at a crash or a timeout; the run is then resumed
#      with the grown corpus until the mode's time is used, and each stop is counted.
#      Escapes (exceptions other than PycError) do not stop a run: they are written to
#      $OUT/escapes-MODE.jsonl.
#   2. the deterministic campaign (fuzz/campaign.py): $INPUTS mutated inputs (default
#      100,000) per version folder of tests/fixtures and ../shared/samples.
# Results go to $OUT (default fuzz/results), a summary to stdout.  Needs atheris
# (pip install atheris) for part 1; MODES="apis cli" or DETERMINISTIC=0 pick parts.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SECONDS_PER_MODE=${SECONDS_PER_MODE:-600}
OUT=${OUT:-fuzz/results}
MODES=${MODES:-loads apis models cli}
mkdir -p "$OUT"
for mode in $MODES; do
  corpus="$OUT/corpus-$mode"
  log="$OUT/atheris-$mode.log"
  : > "$log"
  start=$(date +%s)
  stops=0
  executions=0
  while :; do
    left=$(( SECONDS_PER_MODE - ($(date +%s) - start) ))
    [ "$left" -gt 5 ] || break
    PYCFILE_FUZZ_ESCAPES="$OUT/escapes-$mode.jsonl" nice -n 10 "$PY" fuzz/fuzz_pyc.py --mode="$mode" "$corpus" \
      -max_total_time="$left" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$OUT/$mode-" >> "$log" 2>&1
    status=$?
    runs=$(grep 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
    executions=$(( executions + ${runs:-0} ))
    sed -i 's/stat::number_of_executed_units/stat::counted_units/' "$log"
    [ "$status" -eq 0 ] && break
    [ "${runs:-0}" -gt 0 ] || { echo "mode $mode: libFuzzer did not start (status $status)" >> "$log"; break; }
    stops=$(( stops + 1 ))
    echo "mode $mode: libFuzzer stopped with status $status (crash or timeout), resuming" >> "$log"
  done
  escapes=0
  [ -f "$OUT/escapes-$mode.jsonl" ] && escapes=$(wc -l < "$OUT/escapes-$mode.jsonl")
  artifacts=$(ls "$OUT" | grep -c "^$mode-\(crash\|timeout\|oom\|leak\)-")
  echo "atheris $mode: $(( $(date +%s) - start )) s, $executions executions, $stops stops ($artifacts crash/timeout/oom inputs saved), $escapes escapes"
done
if [ "${DETERMINISTIC:-1}" = 1 ]; then
  nice -n 10 "$PY" fuzz/campaign.py --inputs "${INPUTS:-100000}" --jobs "${JOBS:-1}" --out "$OUT/campaign.json" | tee "$OUT/campaign.log"
fi
