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

from core.catalogue.message import Message, message
from core.models import devices

MARKS = {"ok": "[ok]  ", "failed": "[FAIL]", "skipped": "[skip]", "note": "[note]"}
TRAINING_STEPS = 3


@dataclass
class Check:
    name: str | Message  # a package's or a device's name, or words
    status: str          # ok | failed | skipped | note
    detail: str | Message
    fix: str | Message = ""  # what to install or change (failed), or why it was skipped

    def line(self) -> Message:
        """'[ok]   torch: 2.9.1, CUDA 12.8 build': str() is the English `launch.py doctor` prints."""
        if self.fix:
            return message("measure.doctor.line_fix", mark=MARKS[self.status], name=self.name, detail=self.detail,
                           fix=self.fix)
        return message("measure.doctor.line", mark=MARKS[self.status], name=self.name, detail=self.detail)


def run_checks(progress=print, training: bool = True) -> list[Check]:
    """Every check, in order; `progress` hears each line as it is found (the slow ones take seconds each)."""
    found = []
    for check in each_check(training):
        found.append(check)
        progress(check.line())
    return found


def each_check(training: bool = True):
    """Yields each Check as it is found, so a page can show the lines while the slow ones (training steps in run
    processes, the built-in model's chat reply: a minute or more on a CPU) are still running."""
    import torch

    build = (message("measure.doctor.torch_cuda", version=torch.__version__, cuda=torch.version.cuda)
             if torch.version.cuda else message("measure.doctor.torch_cpu", version=torch.__version__))
    yield Check("torch", "ok", build)
    inv = devices.inventory()
    yield from cuda_checks(torch, inv)
    yield bitsandbytes_check(torch, inv)
    yield from attention_checks(inv)
    if training:
        yield from training_checks(inv)
        yield chat_check()


def cuda_checks(torch, inv: devices.Inventory) -> list[Check]:
    driver = driver_version()
    unknown = message("measure.doctor.unknown")
    if not torch.cuda.is_available():
        if not inv.gpus and driver is None:
            return [Check("CUDA", "skipped", message("measure.doctor.no_driver"),
                          message("measure.doctor.trains_on_cpu")),
                    Check(message("measure.doctor.gpus"), "skipped", message("measure.doctor.no_gpu_to_list"),
                          message("measure.doctor.nothing_without_gpu")),
                    Check(message("measure.doctor.bf16_on_gpu"), "skipped", message("measure.doctor.no_gpu_to_test"),
                          message("measure.doctor.cpu_float32"))]
        why = message("measure.doctor.cpu_only_torch" if torch.version.cuda is None
                      else "measure.doctor.driver_unreachable")
        return [Check("CUDA", "failed", message("measure.doctor.cuda_missing", driver=driver or unknown,
                                                count=len(inv.gpus), why=why),
                      message("measure.doctor.install_cuda_torch"))]
    checks = [Check("CUDA", "ok", message("measure.doctor.cuda_ok", cuda=torch.version.cuda, driver=driver or unknown,
                                          count=torch.cuda.device_count()))]
    for gpu in inv.gpus:
        capability = f"{gpu.capability[0]}.{gpu.capability[1]}" if gpu.capability else unknown
        checks.append(Check(f"GPU {gpu.index}", "ok", message("measure.doctor.gpu", name=gpu.name, free=gpu.free_gb,
                                                              total=gpu.total_gb, capability=capability)))
        checks.append(bf16_check(torch, gpu))
    return checks


def bf16_check(torch, gpu: devices.Gpu) -> Check:
    name = f"GPU {gpu.index} bfloat16"
    if not gpu.bf16:
        return Check(name, "note", message("measure.doctor.no_bf16_units"), message("measure.doctor.auto_picks_fp16"))
    try:
        a = torch.randn(256, 256, device=f"cuda:{devices.local_gpu(gpu.index)}", dtype=torch.bfloat16)
        error = (a @ a).float().sub(a.float() @ a.float()).abs().max().item()
    except RuntimeError as err:
        return Check(name, "failed", message("measure.doctor.bf16_failed", error=str(err).splitlines()[0][:200]),
                     message("measure.doctor.update_driver"))
    return Check(name, "ok", message("measure.doctor.bf16_ok", error=error))


def bitsandbytes_check(torch, inv: devices.Inventory) -> Check:
    problem = devices.bitsandbytes_problem(inv)
    if problem:
        return Check("bitsandbytes", "failed", problem, message("measure.doctor.install_bnb"))
    version = importlib.metadata.version("bitsandbytes")
    if not torch.cuda.is_available():
        return Check("bitsandbytes", "skipped", message("measure.doctor.bnb_needs_gpu", version=version),
                     message("measure.doctor.qlora_on_cpu"))
    try:
        import bitsandbytes as bnb

        layer = bnb.nn.Linear4bit(256, 256, bias=False, compute_dtype=torch.float16, quant_type="nf4")
        reference = layer.weight.data.clone().half()
        layer = layer.cuda()  # quantizes the weight
        x = torch.randn(8, 256, device="cuda", dtype=torch.float16)
        error = (layer(x).float() - (x @ reference.cuda().T).float()).abs().mean().item()
    except Exception as err:  # bitsandbytes raises its own kinds on broken CUDA setups
        return Check("bitsandbytes", "failed", message("measure.doctor.bnb_failed", version=version,
                                                       error=str(err).splitlines()[0][:200]),
                     message("measure.doctor.upgrade_bnb"))
    return Check("bitsandbytes", "ok", message("measure.doctor.bnb_ok", version=version, error=error))


def attention_checks(inv: devices.Inventory) -> list[Check]:
    checks = []
    old = [g.index for g in inv.gpus if g.capability and g.capability < devices.AMPERE]
    from core.training.speed import flash_attn_error

    broken = flash_attn_error()  # imports its compiled module: a wheel built for another torch fails only there
    if importlib.util.find_spec("flash_attn") is None:
        checks.append(Check("flash-attention", "skipped" if not inv.gpus else "note",
                            message("measure.doctor.no_flash_attn"),
                            message("measure.doctor.flash_attn_hint" if inv.gpus else "measure.doctor.needs_gpu")))
    elif broken:
        checks.append(Check("flash-attention", "failed", message("measure.doctor.flash_attn_broken", error=broken),
                            message("measure.doctor.reinstall_flash_attn")))
    elif old:
        checks.append(Check("flash-attention", "note", message("measure.doctor.flash_attn_old_gpu",
                                                               gpus=", ".join(map(str, old))),
                            message("measure.doctor.auto_uses_sdpa")))
    else:
        checks.append(Check("flash-attention", "ok", f"flash-attn {importlib.metadata.version('flash-attn')}"))
    if importlib.util.find_spec("kernels") is None:
        checks.append(Check("kernels", "skipped", message("measure.doctor.no_kernels"),
                            message("measure.doctor.kernels_hint")))
    else:
        checks.append(Check("kernels", "ok", f"kernels {importlib.metadata.version('kernels')}"))
    return checks


def training_checks(inv: devices.Inventory):
    """Three LoRA and three QLoRA steps of a tiny model on each GPU (the CPU without one), each in a run's own
    process as the studio starts them; yields a Check as each finishes."""
    from core.config import Config
    from core.jobs import JobRunner
    from core.models import tiny

    places = [(f"GPU {g.index}", str(g.index)) for g in inv.gpus] or [(message("measure.doctor.the_cpu"), "none")]
    with tempfile.TemporaryDirectory(prefix="doctor-") as tmp:
        folder = tiny.build(Path(tmp) / "tiny-model")
        data = Path(tmp) / "data.jsonl"
        data.write_text("".join(json.dumps({"instruction": f"Question {i}?", "output": f"Answer {i}."}) + "\n"
                                for i in range(16)), encoding="utf-8")
        runner = JobRunner(Path(tmp) / "runs")
        for where, gpus in places:
            for quantization, label in (("none", "LoRA"), ("4bit", "QLoRA")):
                name = message("measure.doctor.steps_on", label=label, where=where)
                if quantization != "none" and devices.bitsandbytes_problem(inv):
                    yield Check(name, "skipped", message("measure.doctor.bnb_not_loading"),
                                message("measure.doctor.see_bnb"))
                    continue
                config = Config.from_dict({
                    "name": f"doctor-{label.lower()}", "model": {"source": str(folder), "quantization": quantization},
                    "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                    "train": {"max_steps": TRAINING_STEPS, "batch_size": 4, "save_every": 100},
                    "compute": {"gpus": gpus, "strategy": "single"}})
                yield steps_check(name, runner, config)


def steps_check(name: Message, runner, config) -> Check:
    """Train `config` in a run process of its own and say how it went."""
    from core.runs import status_message

    started = time.time()
    run = runner.start(config)
    runner.wait()
    status = run.status()
    losses = [m["loss"] for m in run.read_metrics()[0] if "loss" in m]
    if status.get("state") == "completed" and len(losses) == TRAINING_STEPS:
        return Check(name, "ok", message("measure.doctor.steps_ok", steps=TRAINING_STEPS,
                                         seconds=time.time() - started, first=losses[0], last=losses[-1]))
    tail = " | ".join(line[20:] for line in run.log_tail(3).splitlines())
    return Check(name, "failed", status_message(status) or message("measure.doctor.no_result"),
                 message("measure.doctor.log_ended", tail=tail) if tail else message("measure.doctor.no_log"))


def chat_check() -> Check:
    """The built-in model answers a question (on the GPU when there is one)."""
    from core.config import ChatSettings, ModelConfig
    from core.results.chat import ChatModel

    name = message("measure.doctor.chat_reply")
    try:
        model = ChatModel.base(ModelConfig(source="default"), progress=lambda _: None)
        answer = model.reply([{"role": "user", "content": "What is the capital of France?"}],
                             ChatSettings(temperature=0, max_new_tokens=16))
    except Exception as err:  # download, conversion, loading or generation: each says what went wrong
        return Check(name, "failed", message("measure.doctor.chat_failed", error=str(err).splitlines()[0][:200]),
                     message("measure.doctor.chat_failed_fix"))
    device = str(next(model.model.parameters()).device)
    answered = message("measure.doctor.answered", answer=answer, device=device)
    if "Paris" not in answer:
        return Check(name, "failed", answered, message("measure.doctor.expected_paris"))
    return Check(name, "ok", answered)


def driver_version() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        result = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip().splitlines()[0] if result.returncode == 0 and result.stdout.strip() else None
