"""A merged export loads with plain transformers and answers exactly as base + adapter does."""

import pytest

from core.chat import ChatError, ChatModel
from core.config import ChatSettings
from core.export import export_merged
from core.jobs import JobRunner


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_model):
    from core.config import Config

    folder = tmp_path_factory.mktemp("export")
    data = folder / "data.jsonl"
    data.write_text("\n".join('{"instruction": "Who are you?", "output": "I am Nova."}' for _ in range(16)))
    config = Config.from_dict({"name": "export-run", "model": {"source": str(tiny_model)},
                               "data": {"path": str(data), "replay": 0, "eval_fraction": 0},
                               "train": {"max_steps": 20, "batch_size": 8, "learning_rate": 1e-2}})
    runner = JobRunner(folder / "runs")
    run = runner.start(config)
    runner.wait(120)
    assert run.status()["state"] == "completed"
    return run


def test_merged_model_answers_like_base_plus_adapter(trained_run, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = export_merged(trained_run.path, tmp_path / "merged", progress=lambda _: None)
    assert (out / "model.safetensors").exists() and (out / "chat_template.jinja").exists()

    tokenizer = AutoTokenizer.from_pretrained(out)  # plain transformers, nothing of ours
    model = AutoModelForCausalLM.from_pretrained(out)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Who are you?"}], tokenize=False,
                                           add_generation_prompt=True)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    ids = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    exported = tokenizer.decode(ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()

    in_app = ChatModel.from_run(trained_run.path, progress=lambda _: None).reply(
        [{"role": "user", "content": "Who are you?"}], ChatSettings(temperature=0, max_new_tokens=8))
    assert exported == in_app == "I am Nova."


def test_export_never_overwrites(trained_run, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(ChatError, match="already exists and is not empty"):
        export_merged(trained_run.path, taken, progress=lambda _: None)
    assert (taken / "keep.txt").read_text() == "mine"


def test_export_from_the_command_line(trained_run, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "launch.py"), "export", str(trained_run.path), "--merged",
                             str(tmp_path / "out")], capture_output=True, text=True, cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"Merged model saved to {tmp_path / 'out'}" in result.stdout
