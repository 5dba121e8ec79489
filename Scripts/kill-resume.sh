#!/usr/bin/env bash
# Kills `highway train` with SIGKILL at random moments and resumes it each time; the finished run
# must end with the same weights and optimiser state, bit for bit, as an uninterrupted run with the
# same seed and thread count.
#
# Usage: Scripts/kill-resume.sh [KILLS=5]   (HIGHWAY_BIN overrides .build/release/highway)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kills=${1:-5}
bin=${HIGHWAY_BIN:-.build/release/highway}
[ -x "$bin" ] || { echo "$bin not found: run swift build -c release first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--dataset synthetic --depth 20 --width 32 --epochs 8 --checkpoint-every 7 --threads 1 --seed 7 --quiet)

"$bin" train "${args[@]}" --out "$work/whole" > /dev/null

done_kills=0 restarts=0
"$bin" train "${args[@]}" --out "$work/killed" > /dev/null & pid=$!
while :; do
    if [ "$done_kills" -lt "$kills" ]; then
        sleep "0.$(( RANDOM % 40 + 5 ))"
        if kill -9 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            done_kills=$((done_kills + 1))
        else
            wait "$pid" && break   # finished before the kill
        fi
    else
        wait "$pid"
        break
    fi
    if [ -f "$work/killed/checkpoint.safetensors" ]; then
        "$bin" train --resume "$work/killed" --quiet > /dev/null & pid=$!
    else                           # killed before the first checkpoint: start again
        restarts=$((restarts + 1))
        rm -rf "$work/killed"
        "$bin" train "${args[@]}" --out "$work/killed" > /dev/null & pid=$!
    fi
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
print(f"identical: {len(a)} tensors (weights and optimiser state)")
PY
echo "killed $done_kills times ($restarts restarts before a first checkpoint), resumed each time: same result as the uninterrupted run"
