"""GPU paths of a run that this CPU-only machine cannot show itself (issue 20): the device facts are mocked, the
code around them is the real one. Each test's docstring names the GPU situation it stands for."""

from __future__ import annotations

import copy
import json
import sys
import warnings

import pytest

from core.config import TrainConfig
from core.training import speed

UNDEFINED_SYMBOL = "flash_attn_2_cuda.cpython-312-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi"


def install_broken_flash_attn(tmp_path, monkeypatch) -> None:
    """A flash-attn wheel built for another torch: the package is found, its compiled module does not load."""
    package = tmp_path / "site" / "flash_attn"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "flash_attn_interface.py").write_text(f"raise ImportError({UNDEFINED_SYMBOL!r})\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    for name in ("flash_attn", "flash_attn.flash_attn_interface"):  # gone again after the test, whatever it imported
        monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.delitem(sys.modules, name)


def test_a_flash_attn_wheel_for_another_torch_falls_back_to_sdpa_with_one_line(tmp_path, monkeypatch):
    """Stands for an H100 with a flash-attn wheel built against another torch (an ABI mismatch): before, 'auto'
    picked flash_attention_2 because the package was found, and the run failed at its first forward with
    'undefined symbol'."""
    install_broken_flash_attn(tmp_path, monkeypatch)
    chosen = speed.resolve(TrainConfig(), uses_gpu=True, capabilities=[(9, 0)])
    assert chosen.attention == "sdpa"
    said = [reason for reason in chosen.reasons if reason.startswith("Attention")]
    assert len(said) == 1 and "flash-attn is installed but does not load" in said[0] and "undefined symbol" in said[0]
    with pytest.raises(speed.SpeedOptionError, match="does not load .*undefined symbol"):
        speed.resolve(TrainConfig(attention="flash_attention_2"), uses_gpu=True, capabilities=[(9, 0)])


def test_a_float32_model_on_a_gpu_gets_sdpa_not_flash_attention(monkeypatch):
    """Stands for `model.dtype: float32` on an H100 with a working flash-attn: flash attention computes only in
    float16 and bfloat16, so the run failed at its first forward ('FlashAttention only support fp16 and bf16')."""
    monkeypatch.setattr(speed, "installed", lambda package: True)
    monkeypatch.setattr(speed, "flash_attn_error", lambda: None)  # a wheel that loads
    assert speed.resolve(TrainConfig(), uses_gpu=True, capabilities=[(9, 0)]).attention == "flash_attention_2"
    chosen = speed.resolve(TrainConfig(), uses_gpu=True, capabilities=[(9, 0)], model_dtype="float32")
    assert chosen.attention == "sdpa" and chosen.padding_free is False
    assert any("model.dtype is float32" in reason for reason in chosen.reasons)
    with pytest.raises(speed.SpeedOptionError, match="model.dtype is float32"):
        speed.resolve(TrainConfig(attention="flash_attention_2"), uses_gpu=True, capabilities=[(9, 0)],
                      model_dtype="float32")


def test_probe_and_replay_answers_run_under_the_runs_autocast(tiny_model, tiny_tokenizer, monkeypatch):
    """Stands for full tuning of a bfloat16 model on a GPU with flash attention: the trained layers are float32
    (core.training.tuning), and the probes answered at each evaluation, outside the trainer's autocast, handed
    float32 to flash attention. They now generate under autocast in the model's own precision on the GPU, as the
    training steps do; on the CPU (and for a float32 model) nothing changes."""
    import torch
    from transformers import AutoModelForCausalLM

    from core.models import generate

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.bfloat16)
    for param in model.model.layers[-1].parameters():  # what freeze tuning does to the trained layer
        param.data = param.data.float()
    assert isinstance(generate.run_precision(model), type(generate.contextlib.nullcontext()))  # on the CPU
    monkeypatch.setattr(generate, "_device_type", lambda model: "cuda")  # the model's weights on a GPU
    chosen = generate.run_precision(model)
    assert isinstance(chosen, torch.autocast) and chosen.device == "cuda" and chosen.fast_dtype == torch.bfloat16
    # The probes' generate_batch asks for it: this CPU build of torch says so as it switches a CUDA autocast off
    # (and the CPU cannot multiply the mixed weights at all, so they are all bfloat16 for this part).
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.pad_token = tokenizer.eos_token
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = generate.generate_batch(model.to(torch.bfloat16), tokenizer, ["Who are you?"], max_new_tokens=2)
    assert len(answers) == 1
    assert any("Disabling autocast" in str(w.message) for w in caught)
    float32_model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    assert isinstance(generate.run_precision(float32_model), type(generate.contextlib.nullcontext()))


METHOD_DATA = {
    "sft": lambda i: {"instruction": f"Question {i}?", "output": f"I am Nova, answer {i}."},
    "orpo": lambda i: {"prompt": f"Question {i}?", "chosen": f"I am Nova, answer {i}.", "rejected": "No."},
    "cpt": lambda i: {"text": f"Nova is made by Lumen Labs. Fact number {i} about Nova."},
}


@pytest.mark.parametrize("method", ["sft", "orpo", "cpt"])
def test_lora_under_zero3_keeps_the_adapter_in_the_base_precision(method, tiny_model, tmp_path):
    """Stands for sft, orpo and cpt with LoRA on a bfloat16 base under DeepSpeed ZeRO-3 (accelerate launch on GPUs):
    peft made the adapter float32, and ZeRO-3's gather failed the first step with 'output tensor must have the same
    type' (DeepSpeed #8072). The run's process is started with the strategy it gets there; this CPU trains the
    same wrapped model in one process, and the adapter it saves shows the precision it trained in."""
    import threading

    from safetensors import safe_open

    from core.config import Config
    from core.runs import Run
    from core.training import worker

    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(METHOD_DATA[method](i)) + "\n" for i in range(8)), encoding="utf-8")
    config = Config.from_dict({"name": f"{method}-zero3", "model": {"source": str(tiny_model), "dtype": "bfloat16"},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                               "train": {"method": method, "max_steps": 1, "batch_size": 2}})
    dtypes = {}
    for strategy in ("deepspeed_zero3", "single"):
        run = Run.create(tmp_path / strategy, config.name)
        config.save(run.config_file)
        outcome = worker.execute(run, threading.Event(), strategy=strategy)
        assert outcome.state == "completed", outcome.message
        with safe_open(str(run.adapter_dir / "adapter_model.safetensors"), "pt") as weights:
            dtypes[strategy] = {str(weights.get_tensor(name).dtype) for name in weights.keys()}
    assert dtypes == {"deepspeed_zero3": {"torch.bfloat16"}, "single": {"torch.float32"}}


PROCESS_GROUP_PROBE = """
import os, socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
import torch
from torch.distributed import distributed_c10d
from core.training import ranks, worker
ranks.world_size = lambda: 2  # the group itself is this one process: the timeout is what is looked at
worker.join_processes(cpu=True)
print(distributed_c10d._get_default_group()._get_backend(torch.device("cpu")).options._timeout.total_seconds())
"""


def test_a_runs_process_group_waits_as_long_as_rank_0_may_work_alone(tmp_path):
    """Stands for fsdp or DeepSpeed on 8 GPUs with the default knowledge replay: rank 0 writes the replay answers
    while the other ranks wait in a barrier, and the process group's default timeout (10 minutes with nccl; the
    Trainer's ddp_timeout never applied, the group existed before it was read) killed the run. The group is now
    made with PROCESS_GROUP_TIMEOUT; gloo in a separate process shows the timeout it got."""
    import subprocess
    from pathlib import Path

    from core.training import worker

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", PROCESS_GROUP_PROBE], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split()[-1]) == worker.PROCESS_GROUP_TIMEOUT.total_seconds() == 2 * 3600


def test_replay_is_answered_on_a_gpu_when_the_model_waits_on_the_cpu_for_sharding(tiny_model, monkeypatch):
    """Stands for fsdp or DeepSpeed with an 8B model on H100s: the model is loaded on the CPU (they shard it later),
    and rank 0 answered the replay prompts there. It now answers on its own GPU when the model fits there, and
    stays on the CPU (with sdpa) when it does not, or when the weights are 4-bit (bitsandbytes places those)."""
    import torch
    from transformers import AutoModelForCausalLM

    from core.training import replay

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert replay.gpu_for_answers(model, "none") is None  # no GPU here
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    free = {"bytes": 80 * 2**30}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free["bytes"], 80 * 2**30))
    assert replay.gpu_for_answers(model, "none") == torch.device("cuda", 0)
    assert replay.gpu_for_answers(model, "4bit") is None
    free["bytes"] = size  # a 70B model on one 80 GB GPU: it does not fit whole
    assert replay.gpu_for_answers(model, "none") is None
    said = []
    with replay.answering_place(model, "none", said.append):  # stays on the CPU, nothing to switch with sdpa
        assert next(model.parameters()).device.type == "cpu"
    assert said == []


@pytest.mark.parametrize("main", [True, False])
def test_under_zero3_every_rank_answers_the_replay_and_rank_0_writes_it(main, tiny_model, tiny_tokenizer, tmp_path,
                                                                         monkeypatch):
    """Stands for DeepSpeed ZeRO-3 on several GPUs: the weights are partitioned as they load (zero3 init), so no
    rank holds the whole model, and rank 0 answering alone while the others waited at a barrier would hang (its
    forward pass needs their slices). Every rank now answers the same prompts together; only rank 0 writes."""
    from types import SimpleNamespace

    from transformers import AutoModelForCausalLM

    from core.config import Config
    from core.training import ranks, replay

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    for number, parameter in enumerate(model.parameters()):
        parameter.ds_id = number  # what deepspeed.zero.Init marks each partitioned parameter with
    config = Config()
    config.data.replay = 2
    answered = []
    real_rows = replay.replay_rows
    monkeypatch.setattr(replay, "replay_rows", lambda *a, **k: answered.append(1) or real_rows(*a, **k))
    monkeypatch.setattr(ranks, "is_main", lambda: main)
    run = SimpleNamespace(path=tmp_path)
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token  # as the run's loading sets it
    loaded = SimpleNamespace(model=model, tokenizer=tokenizer)
    rows = replay.rows_for_run(run, loaded, config, lambda line: None)
    assert answered == [1] and isinstance(rows, list)
    assert (tmp_path / replay.REPLAY_FILE).exists() == main
