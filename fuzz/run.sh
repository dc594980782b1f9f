#!/bin/sh
# Runs one fuzz target for SECONDS (default 600), politely: one process, lowest priority.
#   fuzz/run.sh parse|execute_cell|cell_time|compile [SECONDS]
# The targets that run cells get -len_control=0, so inputs reach their full length at once.
# Build first: cargo +nightly fuzz build -s none   (from the workspace root)
# Edit this file only by replacing it (a running sh reads its script as it goes).
# Each run's log is kept as fuzz/runs/<target>/<start time>.log and summarised in
# fuzz/ledger.txt (committed: the ledger is the record of hours fuzzed); crashes, timeouts and OOMs are written to fuzz/artifacts/<target>/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
target=$1
secs=${2:-600}
bin="$here/target/x86_64-unknown-linux-gnu/release/$target"
[ -d "$here/corpus/$target" ] || "$here/seed-corpus.sh"
mkdir -p "$here/runs/$target" "$here/artifacts/$target"
cd "$here/runs/$target"
# cell_time checks each cell's CPU time itself and caps an input at 5 s of it, so libFuzzer's
# wall-time timeout is only a backstop there (starved at nice 19 during a build, an input of
# 5.4 s took 35 s of wall time)
case "$target" in
    execute_cell) extra="-len_control=0 -timeout=30" ;;
    cell_time) extra="-len_control=0 -timeout=120" ;;
    *) extra=-timeout=30 ;;
esac
start=$(date -u +%Y%m%dT%H%M%S)
t0=$(date +%s)
status=0
# -timeout=30: libFuzzer's timeout counts wall time, and a fuzzer at nice 19 gets almost no CPU
# while a build runs (an input of 2.4 s took over 10 s); cell_time checks CPU time per cell itself.
# Its own session, whose autogroup gets nice 19 too: with the kernel's autogroups, nice alone
# ranks a process only within its session, and a fuzzer would take a full share from a build.
/usr/bin/time -f %U -o "$here/runs/$target/$start.cpu" setsid -w sh -c \
    'echo 19 > /proc/self/autogroup 2>/dev/null; exec nice -n 19 "$@"' sh "$bin" "$here/corpus/$target" \
    -dict="$here/ruchy.dict" \
    -artifact_prefix="$here/artifacts/$target/" \
    -jobs=1 -workers=1 \
    -max_len=4096 -rss_limit_mb=2048 \
    -max_total_time="$secs" -print_final_stats=1 $extra || status=$?
wall=$(( $(date +%s) - t0 ))
mv fuzz-0.log "$start.log"
execs=$(grep -a 'stat::number_of_executed_units' "$start.log" | tail -1 | awk '{print $2}')
# a crash, timeout, leak or OOM ends the run; slow units (over 10 s of wall time) are only noted
finding=$(grep -a -o -E 'Test unit written to [^ ]+' "$start.log" | grep -v '/slow-unit-' | tail -1 | sed 's/Test unit written to //')
slow=$(grep -a -c -E 'Test unit written to [^ ]+/slow-unit-' "$start.log" || true)
cpu=$(tail -1 "$start.cpu" 2>/dev/null | cut -d. -f1)
rm -f "$start.cpu"
echo "$target start=$start wall_s=$wall cpu_s=${cpu:-?} execs=${execs:-?} exit=$status finding=${finding:-none} slow_units=${slow:-0}" >> "$here/ledger.txt"
tail -1 "$here/ledger.txt"
