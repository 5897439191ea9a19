"""A merged export loads with plain transformers and answers exactly as base + adapter does."""

import pytest

from core.config import ChatSettings
from core.results.chat import ChatError, ChatModel
from core.results.export import export_merged


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


@pytest.mark.slow
def test_export_from_the_command_line(nova_run, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(root / "launch.py"), "export", str(nova_run.path), "--merged",
                             str(tmp_path / "out")], capture_output=True, text=True, cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"Merged model saved to {tmp_path / 'out'}" in result.stdout


@pytest.fixture(scope="module")
def merged(nova_run, tmp_path_factory):
    return export_merged(nova_run.path, tmp_path_factory.mktemp("export") / "merged", progress=lambda _: None)


def test_merged_folder_carries_card_modelfile_and_a_passed_check(merged, nova_run):
    from core.results.export import read_check

    check = read_check(merged)
    assert check["agree"] and check["answers"][0] == {"prompt": "Who are you?", "exported": "I am Nova.",
                                                       "adapter": "I am Nova.", "agree": True}
    card = (merged / "README.md").read_text(encoding="utf-8")
    assert "library_name: transformers" in card and "## Settings" in card
    assert "| LoRA rank / alpha / dropout | 16" in card
    assert "Export check: 2 of 2 probe answers identical" in card
    assert (merged / "generation_config.json").exists()
    modelfile = (merged / "Modelfile").read_text(encoding="utf-8")
    assert "FROM .\n" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    # The ChatML turns, newlines included (no Go trim markers eating them).
    assert '{{ else if eq .Role "user" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n{{ else if' in modelfile
    assert modelfile.rstrip().endswith('PARAMETER stop "<|im_end|>"') and "{{-" not in modelfile


def test_export_check_flags_a_model_that_answers_differently(merged, nova_run, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    from core.results.export import check_export, check_lines

    broken = tmp_path / "broken"
    shutil.copytree(merged, broken)
    weights = load_file(broken / "model.safetensors")
    torch.manual_seed(0)
    weights = {name: tensor + torch.randn_like(tensor) for name, tensor in weights.items()}
    save_file(weights, broken / "model.safetensors", metadata={"format": "pt"})
    results = check_export(nova_run.path, broken, ["Who are you?"], max_new_tokens=8)
    assert results[0]["adapter"] == "I am Nova." and not results[0]["agree"]
    assert "MISMATCH on 'Who are you?'" in "\n".join(map(str, check_lines(results)))


def test_adapter_zip_has_card_and_loads_with_plain_peft(nova_run, tmp_path):
    import shutil
    import zipfile

    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    from core.results.evaluate import evaluate
    from core.results.export import export_adapter_zip

    run = tmp_path / "run"
    shutil.copytree(nova_run.path, run)
    test_file = tmp_path / "test.jsonl"
    test_file.write_text('{"instruction": "Who are you?", "output": "I am Nova."}\n', encoding="utf-8")
    evaluate(run, test_file, max_new_tokens=8, progress=lambda _: None)  # its report goes into the card
    out = export_adapter_zip(run, tmp_path / "adapter.zip", progress=lambda _: None)
    with pytest.raises(ChatError, match="already exists"):
        export_adapter_zip(run, out, progress=lambda _: None)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        archive.extractall(folder)
    assert {"adapter_config.json", "adapter_model.safetensors", "chat_template.jinja", "README.md",
            "Modelfile"} <= names
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "library_name: peft" in card
    assert "| exact match | 0.000 | 1.000 |" in card and "16 usable rows" in card
    assert "ADAPTER .\n" in (folder / "Modelfile").read_text(encoding="utf-8")

    model = AutoPeftModelForCausalLM.from_pretrained(folder)  # the base is found through adapter_config.json
    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Who are you?"}], tokenize=False,
                                           add_generation_prompt=True)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    ids = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert tokenizer.decode(ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip() == "I am Nova."


SMOL_LIKE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
             "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
             "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
             "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def test_modelfile_keeps_a_default_system_prompt_and_refuses_templates_it_cannot_convert():
    from core.models import tiny
    from core.results.ollama import modelfile

    tiny_tokenizer = tiny.build_tokenizer()  # its own: the session's shared tokenizer must keep its template
    tiny_tokenizer.chat_template = SMOL_LIKE
    text = modelfile(tiny_tokenizer, "base-model", adapter=".")
    assert 'SYSTEM """You are a helpful assistant."""' in text and "ADAPTER .\n" in text

    # A template that numbers the turns cannot be cut into per-role pieces: no TEMPLATE, and a note why.
    tiny_tokenizer.chat_template = ("{% for m in messages %}{{ loop.index }}. {{ m['content'] }}\n{% endfor %}"
                                    "{% if add_generation_prompt %}>{% endif %}")
    text = modelfile(tiny_tokenizer, ".")
    assert "TEMPLATE" not in text.replace("write a TEMPLATE", "") and "could not be turned into" in text


@pytest.fixture(scope="module")
def bf16_run(tiny_model, tmp_path_factory):
    """The Nova run again, trained in bfloat16 (model.dtype: bfloat16; a CPU picks float32 by itself)."""
    from tests.conftest import teach_nova

    run = teach_nova(tmp_path_factory.mktemp("bf16"), str(tiny_model), "bf16-run", model={"dtype": "bfloat16"})
    assert run.status()["dtype"] == "bfloat16"
    return run


@pytest.mark.slow
def test_a_bf16_run_is_merged_and_saved_in_bf16(bf16_run, merged, tmp_path):
    from safetensors import safe_open

    from core.results.export import read_check

    out = export_merged(bf16_run.path, tmp_path / "merged-bf16", progress=lambda _: None)
    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        assert {weights.get_slice(name).get_dtype() for name in weights.keys()} == {"BF16"}
    assert '"dtype": "bfloat16"' in (out / "config.json").read_text(encoding="utf-8")
    size = (out / "model.safetensors").stat().st_size
    assert size < 0.6 * (merged / "model.safetensors").stat().st_size  # half the float32 folder
    check = read_check(out)  # both sides loaded in bf16: the merge is faithful at that precision
    assert check["agree"] and check["dtype"] == "bfloat16" and check["answers"][0]["exported"] == "I am Nova."
    assert "Merged and saved in bfloat16, the precision the run trained in." in (out / "README.md").read_text()


def test_a_float32_run_stays_float32(merged):
    from safetensors import safe_open

    with safe_open(str(merged / "model.safetensors"), "pt") as weights:
        assert {weights.get_slice(name).get_dtype() for name in weights.keys()} == {"F32"}


def test_a_qlora_run_is_merged_into_its_dequantized_base(nova_run, merged, tmp_path):
    """A 4-bit run's adapter learned against the NF4 weights as dequantized for compute: the merge uses exactly those,
    and the check compares with the 4-bit base + adapter (bitsandbytes runs 4-bit on this CPU)."""
    import shutil

    from safetensors.torch import load_file

    from core.config import Config
    from core.results.export import read_check

    run = tmp_path / "qlora-run"
    shutil.copytree(nova_run.path, run)
    config = Config.from_yaml(run / "config.yaml")
    config.model.quantization = "4bit"
    config.save(run / "config.yaml")
    out = export_merged(run, tmp_path / "merged-qlora", progress=lambda _: None)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "trained on a 4bit base (QLoRA); the adapter was merged into that base dequantized to float32" in card
    assert read_check(out)["agree"]
    name = "model.layers.0.self_attn.q_proj.weight"
    from_nf4, from_original = load_file(out / "model.safetensors")[name], load_file(merged / "model.safetensors")[name]
    assert from_nf4.shape == from_original.shape and not from_nf4.equal(from_original)  # NF4 rounding is kept


def test_a_qlora_export_dequantizes_on_the_gpu_where_there_is_one(monkeypatch):
    """Stands for exporting a QLoRA run on a GPU machine: the 4-bit base was quantized again on the CPU (slowly, with
    bitsandbytes' CPU path rather than the CUDA kernels training used); it now loads on the GPU and is dequantized
    there, then merged and saved on the CPU. A 16-bit base, and any base on a machine without GPU, stay on the CPU."""
    import torch

    from core.results.export import quantized_base_place

    assert quantized_base_place("4bit") == "cpu"  # no GPU here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert quantized_base_place("4bit") == "cuda:0" and quantized_base_place("8bit") == "cuda:0"
    assert quantized_base_place("none") == "cpu"


def test_the_merged_folder_zips_for_download(merged, tmp_path):
    import zipfile

    from core.results.export import zip_folder

    out = zip_folder(merged, tmp_path / "merged.zip")
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {f"{merged.name}/model.safetensors", f"{merged.name}/README.md", f"{merged.name}/Modelfile"} <= names
        assert archive.getinfo(f"{merged.name}/model.safetensors").compress_type == zipfile.ZIP_STORED
    with pytest.raises(ChatError, match="already exists"):
        zip_folder(merged, out)


def test_the_merged_model_is_kept_once_as_the_zip_offered_for_download(merged, tmp_path):
    """The studio kept the merged folder and its zip side by side: 2 x 516 MB for one model. Packed, the folder goes;
    the zip holds every file of it, and the export check is handed back for the page."""
    import shutil
    import zipfile

    from core.results.export import pack_merged

    folder = shutil.copytree(merged, tmp_path / "nova-merged")
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    out, check = pack_merged(folder, tmp_path / "nova-merged.zip")
    assert not folder.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["nova-merged.zip"]
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [f"nova-merged/{name}" for name in files]
        assert archive.testzip() is None
    assert check["agree"] and check["answers"][0]["exported"] == "I am Nova."


def test_the_card_names_the_base_models_hub_id_and_the_eval_files_own_name(nova_run, tmp_path):
    """A card of a run on the built-in model said `base_model: "default"` (the studio's short name, which no one else
    can look up) and named the evaluation file by the temporary path Gradio gave the upload."""
    import json
    import shutil

    from core.config import Config
    from core.results.model_card import card
    from core.runs import Run

    run = Run(shutil.copytree(nova_run.path, tmp_path / "nova-run"))
    (run.path / "evaluation.json").write_text(json.dumps({
        "data_path": "/tmp/gradio/5f0c1e9a2b/identity_test.jsonl", "rows": 2,
        "base": {"loss": 2.0}, "tuned": {"loss": 1.0}}), encoding="utf-8")
    config = Config.from_yaml(run.config_file)
    config.model.source = "default"
    text = card(run, config, "merged")
    assert 'base_model: "HuggingFaceTB/SmolLM2-135M-Instruct"' in text and '"default"' not in text
    assert "Evaluation on `identity_test.jsonl` (2 rows)" in text and "/tmp/gradio" not in text
    config.model.source = "gemma-3-270m"
    assert 'base_model: "google/gemma-3-270m"' in card(run, config, "adapter")


def test_a_failed_check_is_flagged_at_the_top_of_the_card(nova_run):
    from core.config import Config
    from core.results.model_card import card

    config = Config.from_yaml(nova_run.config_file)
    check = [{"prompt": "Who are you?", "exported": "I am Bob.", "adapter": "I am Nova.", "agree": False}]
    text = card(nova_run, config, "gguf", check, file_name="nova.gguf")
    assert text.index("⚠ Export check failed: 1 of 1") < text.index("## Base model")
    assert "| Who are you? | I am Bob. | I am Nova. | **NO** |" in text
    assert "ollama create my-model -f nova.Modelfile" in text
def test_modelfile_carries_the_runs_system_prompt_not_the_templates():
    from core.data import templates
    from core.models import tiny
    from core.results.ollama import modelfile

    tokenizer = tiny.build_tokenizer()
    tokenizer.chat_template = SMOL_LIKE
    templates.apply_system_prompt(tokenizer, "You are Nova, made by Lumen Labs.")
    text = modelfile(tokenizer, ".")
    assert 'SYSTEM """You are Nova, made by Lumen Labs."""' in text and "helpful assistant" not in text
    assert 'PARAMETER stop "<|im_end|>"' in text


# ------------------------------------------------------------------------------------------ no room to write

# Runs `call` in a fresh process whose files may not grow past `limit` bytes (RLIMIT_FSIZE): a write past it fails
# with EFBIG ("File too large"), as on a disk that cannot hold a file that big. Prints the error the user would see.
FILE_SIZE_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead of ending the process
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
from core.results.chat import ChatError
from core.results import export
try:
    {call}
except ChatError as err:
    print(err)
"""


def _with_file_size_limit(limit: int, call: str):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT.format(limit=limit, call=call)],
                            capture_output=True, text=True, cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_zip_too_large_for_the_disk_says_so_and_leaves_no_part_file(tmp_path):
    """A zip cut short left exports/.<name>.zip.part behind, offered for download by the studio's exports folder."""
    folder = tmp_path / "merged"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\0" * 3_000_000)
    said = _with_file_size_limit(1_000_000, f"export.zip_folder({str(folder)!r}, {str(tmp_path / 'out.zip')!r})")
    assert said.startswith(f"Could not write the export into {tmp_path}: a file is larger than this disk or a "
                           "limit on file size allows")
    assert "It needs about 3.0 MB there" in said and "the part already written was removed" in said
    assert sorted(path.name for path in tmp_path.iterdir()) == ["merged"]


def test_a_merged_model_too_large_for_the_disk_names_the_folder_and_is_removed(nova_run, tmp_path):
    """safetensors said 'SafetensorError: Error while serializing: I/O error: File too large (os error 27)' and
    the folder stayed, half written."""
    out = tmp_path / "merged"
    said = _with_file_size_limit(200_000, f"export.export_merged({str(nova_run.path)!r}, {str(out)!r}, "
                                 "progress=lambda _: None, check=False)")
    assert said.startswith(f"Could not write the export into {out}: a file is larger than this disk")
    assert "SafetensorError" not in said and "os error" not in said
    assert not out.exists()


def test_a_full_disk_while_zipping_the_adapter_says_so_and_leaves_no_part_file(nova_run, tmp_path, monkeypatch):
    """The disk filling up halfway (ENOSPC), stood in for by the zip's write failing as a full disk makes it fail."""
    import errno
    import zipfile

    from core.results.export import export_adapter_zip

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", full)
    with pytest.raises(ChatError) as err:
        export_adapter_zip(nova_run.path, tmp_path / "adapter.zip", progress=lambda _: None)
    assert str(err.value).startswith(f"Could not write the export into {tmp_path}: the disk is full. It needs about")
    assert list(tmp_path.iterdir()) == []


def test_the_card_of_a_run_started_from_runs_names_the_base_and_the_chain(tmp_path):
    """A DPO run on an SFT run on a continued-pretraining run: base_model was 'run:/tmp/...', a name nobody can find."""
    from core.config import Config
    from core.results import model_card
    from core.runs import Run

    runs = tmp_path / "runs"

    def finished(name, method, data, source, start="build_on"):
        run = Run.create(runs, name)
        Config.from_dict({"name": name, "model": {"source": source, "start": start}, "data": {"path": data},
                          "train": {"method": method}}).save(run.config_file)
        run.update_status(state="completed")
        run.adapter_dir.mkdir()
        (run.adapter_dir / "adapter_config.json").write_text("{}")
        return run

    finished("c-cpt", "cpt", "/d/articles.jsonl", "default")
    finished("c-sft", "sft", "/d/questions.jsonl", f"run:{runs / 'c-cpt'}")
    dpo = finished("c-dpo", "dpo", "/d/pairs.jsonl", f"run:{runs / 'c-sft'}")
    text = model_card.card(dpo, Config.from_yaml(dpo.config_file), "adapter")
    assert 'base_model: "HuggingFaceTB/SmolLM2-135M-Instruct"' in text
    assert "1. c-cpt: cpt (lora) on `articles.jsonl`\n2. c-sft: sft (lora, build_on) on `questions.jsonl`\n" \
           "3. c-dpo (this model): dpo (lora, build_on) on `pairs.jsonl`" in text
    assert "load it on a merged export of c-sft, not on the base model alone" in text

    from core.results.export import ollama_base

    # Ollama can put an adapter only on a model it has: the original base when every run continued the same adapter,
    # none when a run built on another's merged weights (then the zip carries no Modelfile and says so).
    assert ollama_base(Config.from_yaml(dpo.config_file)) is None
    again = finished("c-more", "sft", "/d/more.jsonl", f"run:{runs / 'c-cpt'}", start="continue")
    assert ollama_base(Config.from_yaml(again.config_file)) == "default"
    assert ollama_base(Config.from_dict({"model": {"source": "Qwen/Qwen2.5-0.5B-Instruct"}})) == \
        "Qwen/Qwen2.5-0.5B-Instruct"
