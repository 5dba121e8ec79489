#!/usr/bin/env bash
# Interrupts a two-model `highway parity` run with Ctrl-C (SIGINT) and continues it with
# `--resume DIR` alone, from another working directory: the run's own options come from
# DIR/arguments.json. The finished run must equal an uninterrupted one: every model's weights and
# Adam state bit for bit, its summary but for the seconds (the uninterrupted run trains its models
# side by side with --parallel, the interrupted one after each other). Then `--resume DIR --max-samples N`
# alone must train both finished models on to N and keep N in arguments.json.
#
# Usage: Scripts/grid-resume.sh        HIGHWAY_BIN: the tool to test (default .build/release/highway)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=$(realpath "${HIGHWAY_BIN:-.build/release/highway}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# about 8 s uninterrupted in a release build on the development machine; the interrupt lands in the first model
args=(parity --bits 10 --model tied,feedforward --depth 2 --width 16 --lr 0.003 --max-samples 80000 --minutes 5
      --target 1.0 --eval-every 50)
# runs quietly in directory $1; on failure shows what the tool printed
quiet() { local dir=$1; shift; (cd "$dir" && "$@") > "$work/out.log" 2>&1 || { cat "$work/out.log" >&2; exit 1; }; }
# the uninterrupted run trains both models side by side: the same results as one after another
quiet "$work" "$bin" "${args[@]}" --parallel --out whole
set -m   # background jobs keep SIGINT (bash ignores it in them otherwise)
(cd "$work" && exec "$bin" "${args[@]}" --threads 1 --out cut > "$work/cut.log" 2>&1) & pid=$!
# interrupt once the first model is training (its first evaluation wrote curve.csv)
for _ in $(seq 200); do [ -f "$work/cut/tied/curve.csv" ] && break; sleep 0.05; done
kill -INT "$pid"
status=0; wait "$pid" || status=$?
[ "$status" = 1 ] || { echo "grid-resume: the interrupted run exited $status, expected 1:" >&2; cat "$work/cut.log" >&2; exit 1; }
grep -q -- "--resume cut" "$work/cut.log" || { echo "grid-resume: no --resume hint:" >&2; cat "$work/cut.log" >&2; exit 1; }
quiet / "$bin" parity --resume "$work/cut" --threads 1
python3 - "$work" <<'PY'
import json, struct, sys
work = sys.argv[1]
def tensors(path):
    data = open(path, "rb").read(); n = struct.unpack("<Q", data[:8])[0]; header = json.loads(data[8:8 + n])
    return {k: data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}
for model in ["tied", "feedforward"]:
    a, b = (tensors(f"{work}/{run}/{model}/checkpoint.safetensors") for run in ("whole", "cut"))
    sa, sb = (json.load(open(f"{work}/{run}/{model}/summary.json")) for run in ("whole", "cut"))
    for s in (sa, sb): s.pop("seconds")
    if a != b or sa != sb:
        sys.exit(f"grid-resume: {model} differs from the uninterrupted run: tensors {'same' if a == b else 'differ'}, summaries {sa} vs {sb}")
    print(f"grid-resume: {model}: identical: {len(a)} tensors, same summary (accuracy {sa['accuracy']:.4f})")
PY
# a larger budget with --resume alone trains both finished models on, and arguments.json keeps it
quiet / "$bin" parity --resume "$work/cut" --max-samples 96000 --threads 1
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
args = json.load(open(f"{work}/cut/arguments.json"))["arguments"]
seen = {m: json.load(open(f"{work}/cut/{m}/summary.json"))["samples_seen"] for m in ["tied", "feedforward"]}
if args[args.index("--max-samples") + 1] != "96000" or args.count("--max-samples") != 1 or set(seen.values()) != {96000}:
    sys.exit(f"grid-resume: extending the budget: arguments {args}, samples seen {seen}")
print(f"grid-resume: budget extended to 96000 samples: {seen}")
PY
