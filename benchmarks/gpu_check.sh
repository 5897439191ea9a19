#!/usr/bin/env bash
# The GPU checks of docs/gpus.md in one script: `launch.py doctor`, the tests that touch device code, `launch.py
# bench` (the studio against plain trl) for the built-in model and the qwen-0.5b and llama-8b shapes (LoRA bf16,
# QLoRA 4-bit at batch 1 and 4, 2,048 tokens), a whole QLoRA run through `launch.py train` then `eval` and `chat`,
# `launch.py bench --generate` (batched generation and the demo API), and a two-process ddp run when two GPUs
# exist. Prints one table.
#
#   bash benchmarks/gpu_check.sh [OUT_DIR]        (default: gpu-check/; needs no network once installed)
#   ONLY="doctor train-qlora" bash benchmarks/gpu_check.sh   (only the named steps, e.g. to rerun what failed)
#
# Sized for one H100/H200 within 10 minutes: each step has its own time limit and a step that would start after
# BUDGET_S is skipped and says so. The built-in model (SmolLM2-135M) must have been fetched once (`launch.py` with
# network); the shapes take its tokenizer and random weights. Without CUDA it stops at once, saying so.
set -u -o pipefail

cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-gpu-check}
BUDGET_S=${BUDGET_S:-570}
STARTED=$(date +%s)
mkdir -p "$OUT"
: > "$OUT/table.tsv"

if [ ! -x "$PY" ]; then
    echo "gpu_check: $PY not found; set up the studio first (README, Set up) or set PYTHON." >&2
    exit 2
fi
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "gpu_check: no CUDA GPU here (torch.cuda.is_available() is False): these checks need one." >&2
    exit 2
fi
GPUS=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

# step NAME LIMIT_S COMMAND...: runs it with its output in OUT/NAME.log, and adds a row to the table.
step() {
    local name=$1 limit=$2 rc
    shift 2
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then
        return
    fi
    if [ $(($(date +%s) - STARTED + limit / 4)) -gt "$BUDGET_S" ]; then
        printf '%s\tskipped (out of time)\n' "$name" >> "$OUT/table.tsv"
        return
    fi
    echo "== $name: $*" >&2
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        printf '%s\tok\n' "$name" >> "$OUT/table.tsv"
    elif [ "$rc" -eq 124 ]; then
        printf '%s\tFAILED (over %ss)\n' "$name" "$limit" >> "$OUT/table.tsv"
    else
        printf '%s\tFAILED (exit %s, see %s/%s.log)\n' "$name" "$rc" "$OUT" "$name" >> "$OUT/table.tsv"
    fi
}

# bench NAME LIMIT_S MODEL [FLAGS...]: one `launch.py bench` on GPU 0 (plain trl refuses several GPUs in one process).
bench() {
    local name=$1 limit=$2 model=$3
    shift 3
    step "$name" "$limit" env CUDA_VISIBLE_DEVICES=0 "$PY" launch.py bench --model "$model" --steps 8 --rounds 1 \
        --max-length 2048 --json "$OUT/$name.json" "$@"
}

step doctor 120 "$PY" launch.py doctor
if "$PY" -c 'import sys; from core.models import builtin; sys.exit(0 if builtin.is_ready() else 1)'; then
    bench builtin-lora-bf16 90 default --batch-size 4
    # The studio's whole path on the GPU: a QLoRA run in its own process (knowledge replay and probes generate
    # on the GPU), then evaluation and a chat reply from the saved adapter.
    cat > "$OUT/train-qlora.yaml" <<EOF
name: gpu-check-qlora
model: {source: default, quantization: 4bit}
data: {path: assets/datasets/identity.jsonl, replay: 8}
train: {max_steps: 30, batch_size: 4}
EOF
    step train-qlora 150 bash -c "'$PY' launch.py train '$OUT/train-qlora.yaml' --runs-dir '$OUT/runs' &&
        '$PY' launch.py eval '$OUT/runs/gpu-check-qlora' --data assets/datasets/identity.jsonl --max-rows 16 \
            --pattern '' --json '$OUT/train-qlora-eval.json' &&
        '$PY' launch.py chat '$OUT/runs/gpu-check-qlora' --prompt 'Who are you?' --temperature 0"
    # The 8B shape's random weights are written once (16 GB), outside the benchmarks' own time limits.
    step build-llama-8b 240 "$PY" -c 'from core.measure.bench import model_folder; model_folder("llama-8b", None)'
    bench llama-8b-qlora-b1 120 llama-8b --quantization 4bit --batch-size 1
    step generate 300 env CUDA_VISIBLE_DEVICES=0 "$PY" launch.py bench --generate --rounds 1 \
        --json "$OUT/generate.json"
    bench llama-8b-lora-bf16 150 llama-8b --batch-size 4
    bench llama-8b-qlora-b4 150 llama-8b --quantization 4bit --batch-size 4
    bench qwen-0.5b-lora-bf16 90 qwen-0.5b --batch-size 4
else
    printf 'bench\tskipped (the built-in model is not fetched: run launch.py once with network)\n' >> "$OUT/table.tsv"
fi
step device-tests 180 "$PY" -m pytest -q -x -p no:cacheprovider -m "not browser" tests/training/test_gpu_paths.py \
    tests/models/test_devices.py tests/measure/test_doctor.py tests/training/test_speed.py
if [ "$GPUS" -ge 2 ]; then
    "$PY" -c 'import sys; from core.models import tiny; tiny.build(sys.argv[1])' "$OUT/tiny-model" > /dev/null 2>&1
    cat > "$OUT/ddp.yaml" <<EOF
name: gpu-check-ddp
model: {source: $OUT/tiny-model}
data: {path: assets/datasets/identity.jsonl, replay: 4}
train: {max_steps: 10, batch_size: 4}
compute: {strategy: ddp, processes: 2}
EOF
    step ddp-2-processes 120 "$PY" launch.py train "$OUT/ddp.yaml" --runs-dir "$OUT/runs"
else
    printf 'ddp-2-processes\tskipped (one GPU)\n' >> "$OUT/table.tsv"
fi

"$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
print(f"{'check':<22} {'result':<26} {'A tok/s':>9} {'B tok/s':>9} {'A/B':>5} {'A GB':>6} {'B GB':>6}")
for line in (out / "table.tsv").read_text().splitlines():
    name, result = line.split("\t", 1)
    figures = ["", "", "", "", ""]
    report = out / f"{name}.json"
    r = json.loads(report.read_text()) if report.exists() else {}
    if "eval_speedup" in r:  # bench --generate
        result += (f"  evaluation {r['eval_speedup']:.2f}x batched (answers "
                   f"{'identical' if r['eval_answers_identical'] else 'DIFFERENT'}), API 8 clients "
                   f"{r['api_concurrency_speedup']:.2f}x, first token {r['api_first_token_ratio']:.2f}x, "
                   f"replay kept {r['replay_kept_share']:.0%}")
    elif "A" in r:
        a, b = r["A"], r["B"]
        figures = [f"{a['trained_tokens_per_s']:.0f}", f"{b['trained_tokens_per_s']:.0f}",
                   f"{r['ratio_trained_tokens_per_s']:.2f}", f"{a['peak_memory_gb']:.1f}", f"{b['peak_memory_gb']:.1f}"]
    print(f"{name:<22} {result:<26} {figures[0]:>9} {figures[1]:>9} {figures[2]:>5} {figures[3]:>6} {figures[4]:>6}")
EOF
echo "Logs and JSON: $OUT/ ($(($(date +%s) - STARTED)) s)"
! grep -q 'FAILED' "$OUT/table.tsv"
