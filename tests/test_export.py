"""A merged export loads with plain transformers and answers exactly as base + adapter does."""

import pytest

from core.chat import ChatError, ChatModel
from core.config import ChatSettings
from core.export import export_merged


def test_merged_model_answers_like_base_plus_adapter(nova_run, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = export_merged(nova_run.path, tmp_path / "merged", progress=lambda _: None)
    assert (out / "model.safetensors").exists() and (out / "chat_template.jinja").exists()

    tokenizer = AutoTokenizer.from_pretrained(out)  # plain transformers, nothing of ours
    model = AutoModelForCausalLM.from_pretrained(out)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Who are you?"}], tokenize=False,
                                           add_generation_prompt=True)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    ids = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    exported = tokenizer.decode(ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()

    in_app = ChatModel.from_run(nova_run.path, progress=lambda _: None).reply(
        [{"role": "user", "content": "Who are you?"}], ChatSettings(temperature=0, max_new_tokens=8))
    assert exported == in_app == "I am Nova."


def test_export_never_overwrites(nova_run, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(ChatError, match="already exists and is not empty"):
        export_merged(nova_run.path, taken, progress=lambda _: None)
    assert (taken / "keep.txt").read_text() == "mine"


def test_export_from_the_command_line(nova_run, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "launch.py"), "export", str(nova_run.path), "--merged",
                             str(tmp_path / "out")], capture_output=True, text=True, cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"Merged model saved to {tmp_path / 'out'}" in result.stdout
