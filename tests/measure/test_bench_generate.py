"""`launch.py bench --generate`: evaluation batched vs row by row (same answers), replay's kept share, and the demo
API with 8 clients at once against one."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_bench_generate_writes_the_figures_the_checks_read(tmp_path, capsys):
    import launch

    out_file = tmp_path / "generate.json"
    assert launch.main(["bench", "--generate", "--model", "tiny", "--rounds", "1", "--json", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "evaluation (64 rows" in out and "answers identical" in out and "replay:" in out
    report = json.loads(out_file.read_text())
    assert report["eval_rows"] == 64 and report["eval_answers_identical"] is True
    assert report["eval_speedup"] == pytest.approx(
        report["eval_rows_per_s_batched"] / report["eval_rows_per_s_row_by_row"])
    assert report["eval_speedup"] > 0  # its size depends on the machine: the tiny model is all overhead
    assert 0 <= report["replay_kept_share"] <= 1 and report["replay_asked"] == 20
    assert report["replay_kept_share"] == report["replay_kept"] / 20
    # the API's figures, asked through the openai client of a server on 127.0.0.1: sizes depend on the machine
    assert "8 clients at once" in out and "behind another's long answer" in out
    assert report["api_concurrency_speedup"] == pytest.approx(
        report["api_tokens_per_s_8_clients"] / report["api_tokens_per_s_1_client"])
    assert report["api_first_token_ratio"] == pytest.approx(
        report["api_first_token_s_behind_long"] / report["api_first_token_s_alone"])
    assert report["api_answers_identical"] is True and report["api_concurrency_speedup"] > 0


def test_the_test_file_mixes_short_and_long_prompts(tmp_path):
    from core.measure.bench_generate import eval_file

    rows = [json.loads(line) for line in eval_file(tmp_path).read_text(encoding="utf-8").splitlines()]
    lengths = [len(row["messages"][0]["content"]) for row in rows]
    assert len(rows) == 64 and max(lengths) > 4 * min(lengths)
