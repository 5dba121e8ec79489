#!/usr/bin/env bash
# Kills `highway train` with SIGKILL (every 5th time SIGINT) at random moments and resumes it each time; the finished run
# must end with the same weights and optimiser state, bit for bit, as an uninterrupted run with the
# same seed and thread count. Every resume must load the checkpoint the kill left behind (a kill
# mid-write must leave the previous one whole: checkpoints are written atomically).
#
# Usage: Scripts/kill-resume.sh [KILLS=20]
#   HIGHWAY_BIN   the tool to test (default .build/release/highway)
#   KILL_SEED     seed of the random kill moments (default: $RANDOM, printed, so a failure reruns)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kills=${1:-20}
bin=${HIGHWAY_BIN:-.build/release/highway}
[ -x "$bin" ] || { echo "$bin not found: run swift build -c release first" >&2; exit 1; }
seed=${KILL_SEED:-$RANDOM}
RANDOM=$seed
echo "kill-resume: $kills kills, kill moments seeded with KILL_SEED=$seed, $bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# long enough that $kills kills at up to 0.6 s each land before it ends (about 4 s uninterrupted
# in a release build on the development machine); a checkpoint every 5 steps
args=(--dataset synthetic --depth 20 --width 32 --epochs 12 --checkpoint-every 5 --threads 1 --seed 7 --quiet)

start=$(date +%s%N)
"$bin" train "${args[@]}" --out "$work/whole" > /dev/null
whole_ms=$(( ($(date +%s%N) - start) / 1000000 ))
# kill moments: uniform in 50 ms ... max(600 ms, 3 × the uninterrupted time / kills), so the kills
# spread over the whole run (start-up, data generation, steps, checkpoint writes, evaluation)
max_ms=$(( 3 * whole_ms / kills )); [ "$max_ms" -ge 600 ] || max_ms=600
echo "kill-resume: uninterrupted run took $whole_ms ms; interrupting after 50..$max_ms ms each time"
# job control: without it, bash starts background commands with SIGINT ignored, and a Ctrl-C
# (SIGINT) to the tool would be lost
set -m

# The run position a checkpoint holds ("epoch E batch B step S"), or "none".
position() {
    [ -f "$1/checkpoint.safetensors" ] || { echo none; return; }
    python3 - "$1/checkpoint.safetensors" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", data[:8])[0]
p = json.loads(json.loads(data[8:8 + n])["__metadata__"]["position"])
print(f"epoch {p['epoch']} batch {p['batch']} step {p['step']}")
PY
}

# Starts the run: resumed when a checkpoint exists, else from scratch (killed before its first).
launch() {
    if [ -f "$work/killed/checkpoint.safetensors" ]; then
        "$bin" train --resume "$work/killed" --quiet > /dev/null 2> "$work/stderr" & pid=$!
    else
        restarts=$((restarts + 1))
        rm -rf "$work/killed"
        "$bin" train "${args[@]}" --out "$work/killed" > /dev/null 2> "$work/stderr" & pid=$!
    fi
}

done_kills=0 restarts=-1 reruns=0
launch
while :; do
    if [ "$done_kills" -lt "$kills" ]; then
        delay_ms=$(( 50 + (RANDOM * 32768 + RANDOM) % (max_ms - 50) ))
        # every 5th interruption is a Ctrl-C (SIGINT), sent once training is under way (a new
        # checkpoint has appeared) plus the random delay / 4: a checkpoint at the next step, then exit
        signal=KILL
        if [ $(( (done_kills + 1) % 5 )) = 0 ]; then
            signal=INT
            delay_ms=$(( delay_ms / 4 ))
            before=$(position "$work/killed")
            for _ in $(seq 600); do
                [ "$(position "$work/killed")" != "$before" ] && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
            done
        fi
        delay=$(printf '%d.%03d' $(( delay_ms / 1000 )) $(( delay_ms % 1000 )))
        sleep "$delay"
        if kill -s "$signal" "$pid" 2>/dev/null; then
            status=0; wait "$pid" 2>/dev/null || status=$?
            done_kills=$((done_kills + 1))
            note=""
            if [ "$signal" = INT ]; then
                if grep -q "interrupted: checkpoint saved" "$work/stderr"; then
                    note=" (exit $status: saved a checkpoint at the next step and stopped)"
                elif [ "$status" = 0 ]; then
                    note=" (it had just finished)"
                else
                    echo "kill-resume: SIGINT: highway train exited $status without saving:" >&2; cat "$work/stderr" >&2; exit 1
                fi
            fi
            echo "kill-resume: $done_kills/$kills: SIG$signal after $delay s$note; checkpoint on disk: $(position "$work/killed")"
            [ "$status" = 0 ] && [ "$signal" = INT ] && [ ! -f "$work/killed/summary.json" ] && { echo "kill-resume: exit 0 without a summary" >&2; exit 1; }
            launch
            continue
        fi
    fi
    # finished (before the kill, or all kills done): it must have succeeded
    status=0; wait "$pid" || status=$?
    if [ "$status" != 0 ]; then
        echo "kill-resume: highway train exited $status after $done_kills kills:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    if [ "$done_kills" -lt "$kills" ]; then
        echo "kill-resume: the run finished after $done_kills of $kills kills; starting it again" >&2
        rm -rf "$work/killed"; reruns=$((reruns + 1)); restarts=$((restarts - 1)); launch; continue
    fi
    break
done

python3 - "$work/whole/checkpoint.safetensors" "$work/killed/checkpoint.safetensors" <<'PY'
import json, struct, sys
def tensors(path):
    data = open(path, "rb").read(); n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    return {k: data[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]]
            for k, v in header.items() if k != "__metadata__"}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
diff = [k for k in a if a[k] != b.get(k)] + [k for k in b if k not in a]
if diff:
    sys.exit(f"MISMATCH after resuming: {len(diff)} tensors differ, e.g. {diff[:3]}")
print(f"kill-resume: identical: {len(a)} tensors (weights and optimiser state), {sum(map(len, a.values()))} bytes")
PY
echo "kill-resume: killed $done_kills times ($restarts restarts before a first checkpoint, $reruns runs finished early and redone), resumed each time: same result as the uninterrupted run"
