"""A copy of the tiny test model whose answers never end, so an answer runs to max_new_tokens: for tests that a
stopped or abandoned answer frees the model (conftest's endless_run, the replay stop tests)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def never_ending_base(tiny_model: Path, folder: Path) -> Path:
    """`folder`/never-ending: no end-of-sequence id, and the chat template's end-of-turn (which the studio also
    stops on) is never chosen; a context of 16,384 that holds such an answer, which the API checks before
    generating (RoPE needs no new weights)."""
    from transformers import AutoTokenizer

    from core.data.templates import turn_end_ids

    base = folder / "never-ending"
    shutil.copytree(tiny_model, base)
    ends = sorted(turn_end_ids(AutoTokenizer.from_pretrained(base)))
    for name in ("config.json", "generation_config.json"):
        settings = json.loads((base / name).read_text(encoding="utf-8"))
        settings["eos_token_id"] = None
        if name == "generation_config.json":
            settings["suppress_tokens"] = ends
        else:
            settings["max_position_embeddings"] = 16384
        (base / name).write_text(json.dumps(settings), encoding="utf-8")
    return base
