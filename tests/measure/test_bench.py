"""`launch.py bench`: both sides train the same tokens, and the report prints every figure it promises."""

from __future__ import annotations

import json

import pytest

from core.measure import bench


def test_synthetic_rows_spread_over_the_asked_lengths(tiny_tokenizer):
    from core.data import templates

    rows = bench.synthetic_rows(tiny_tokenizer, 24, seed=1, low=50, high=2000, max_length=4096)
    lengths = [len(templates.tokenize_row(tiny_tokenizer, row, 10 ** 6)["input_ids"]) for row in rows]
    assert min(lengths) < 150 and max(lengths) > 700
    assert all(30 <= n <= 2300 for n in lengths)
    assert rows == bench.synthetic_rows(tiny_tokenizer, 24, seed=1, low=50, high=2000, max_length=4096)


@pytest.mark.slow
def test_bench_tiny_end_to_end(tmp_path, capsys):
    import launch

    out_file = tmp_path / "bench.json"
    assert launch.main(["bench", "--model", "tiny", "--steps", "2", "--rounds", "1", "--batch-size", "2",
                        "--max-length", "512", "--json", str(out_file)]) == 0
    out = capsys.readouterr().out
    for label in ("trained tokens/s (carry loss)", "all tokens/s (padding included)", "step time, median",
                  "peak memory (GB, RSS)", "time to first step", "final loss", "MFU",
                  "peak RSS of the process (CPU)", "CPU estimate"):
        assert label in out
    report = json.loads(out_file.read_text())
    assert report["ratio_trained_tokens_per_s"] > 0 and report["ratio_peak_memory"] > 0
    assert report["A"]["trained_tokens"] == report["B"]["trained_tokens"]  # the same rows, the same loss mask
    assert abs(report["A"]["final_loss"] - report["B"]["final_loss"]) < 0.05
    assert report["B"]["notes"]["gradient_checkpointing"] is True  # trl's default, kept in the reference


def test_a_misspelt_option_for_a_is_refused_by_name(capsys):
    import launch

    assert launch.main(["bench", "--model", "tiny", "--steps", "1", "--rounds", "1", "--batch-size", "1",
                        "--max-length", "128", "--option", "padding_fre=on"]) == 1
    assert "Did you mean 'train.padding_free'?" in capsys.readouterr().err
