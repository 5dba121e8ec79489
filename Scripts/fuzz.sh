#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (one per parser) with -sanitize=fuzzer,address and runs
# each for SECONDS, starting from the seed corpus in Fuzz/Corpus/<target>/ (written by Fuzz/make-seeds.py). Exits non-zero if any
# target finds a crash, a hang (> 10 s on one input), a leak or other sanitizer report, or an
# input needing more than 2 GB; the input that did it is saved as .build-fuzz/artifacts/<target>-*.
#
# Usage: Scripts/fuzz.sh [SECONDS=60] [TARGET...]      (default: every target in Fuzz/Package.swift)
#   FUZZ_JOBS=2 Scripts/fuzz.sh 600    runs two targets at a time (each fuzzer is one process)
#   FUZZ_CONFIG=release Scripts/fuzz.sh 600   optimised build: several times the executions per
#                                      second (overflow and bounds checks stay on in -O), slower build
#   Reproduce a finding: .build-fuzz/debug/FuzzIDX .build-fuzz/artifacts/FuzzIDX-crash-<sha1>  (or release/)
#
# New inputs that reach new code go to .build-fuzz/corpus/<target>/ (not committed; copy the
# interesting ones into Fuzz/Corpus/<target>/ if they are small). Logs: .build-fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v swift >/dev/null || export PATH="$PATH:/opt/swift/usr/bin"

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    # the names in `let fuzzTargets = [...]`
    read -r -a targets <<< "$(sed -n 's/^let fuzzTargets = \[\(.*\)\]/\1/p' Fuzz/Package.swift | tr -d '",')"
fi
jobs=${FUZZ_JOBS:-1}
config=${FUZZ_CONFIG:-debug}
scratch=.build-fuzz

echo "fuzz: building ${targets[*]} (swift build --package-path Fuzz --scratch-path $scratch -c $config -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)"
for t in "${targets[@]}"; do
    swift build --package-path Fuzz --scratch-path "$scratch" -c "$config" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "$t" 2>&1 \
        | grep -v "Cannot export local symbol" | grep -E "error|warning: unre|Compiling|complete" || true
    [ -x "$scratch/$config/$t" ] || { echo "fuzz: $t did not build" >&2; exit 1; }
done
mkdir -p "$scratch/artifacts" "$scratch/logs"
# The seeds are written by Fuzz/make-seeds.py (deterministic); checkpoint-shaped ones are not
# committed (.gitignore), so write them all before each run.
python3 Fuzz/make-seeds.py > /dev/null

run_one() {
    local t=$1
    mkdir -p "$scratch/corpus/$t"
    # -use_value_profile: guides the fuzzer through multi-byte compares (magic numbers, JSON keys)
    "$scratch/$config/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$t-" \
        "$scratch/corpus/$t" "Fuzz/Corpus/$t" > "$scratch/logs/$t.log" 2>&1
}

summary() {
    local t=$1 status=$2
    local log="$scratch/logs/$t.log"
    local last runs secs
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    if [ "$status" = 0 ]; then
        echo "fuzz: $t: OK, ${runs:-?} executions in ${secs:-?} s, 0 crashes | $last"
    else
        echo "fuzz: $t: FAILED (exit $status) | $last" >&2
        grep -E 'ERROR|SUMMARY|Fatal error|Test unit written|==[0-9]+==' "$log" | head -20 >&2 || true
    fi
}

failed=0
pids=() names=()
for t in "${targets[@]}"; do
    echo "fuzz: running $t for $seconds s ($(date -u +%H:%M:%S))"
    run_one "$t" & pids+=($!) names+=("$t")
    if [ ${#pids[@]} -ge "$jobs" ]; then
        status=0; wait "${pids[0]}" || status=$?
        summary "${names[0]}" "$status"; [ "$status" = 0 ] || failed=1
        pids=("${pids[@]:1}") names=("${names[@]:1}")
    fi
done
for i in "${!pids[@]}"; do
    status=0; wait "${pids[$i]}" || status=$?
    summary "${names[$i]}" "$status"; [ "$status" = 0 ] || failed=1
done
[ "$failed" = 0 ] && echo "fuzz: all ${#targets[@]} targets ran $seconds s each without a finding"
exit "$failed"
