"""The batch against a loopback teacher (the real `openai` client): rows with their provenance, known answers
checked, Chinese near-duplicates dropped, faults counted per reason, Stop then resume with no row lost or repeated,
and the API key in no file written."""

from __future__ import annotations

import json
import threading

import pytest

from core.making.batch import MakeDataJob, ledger_path, preview
from core.making.config import MakeDataConfig
from core.making.recipes import RecipeError
from tests.making.teacher_server import TeacherServer, last_user_text

KEY = "sk-test-0123456789abcdef-never-written"
CHINESE_SEEDS = ["请写一首关于秋天的短诗", "把这句话翻译成英文：今天天气很好", "解释一下什么是光合作用"]
# The teacher's new tasks: the first two are near-copies (of a seed, and of each other); only the last two are new.
CHINESE_TASKS = [
    {"instruction": "请写一首关于秋天的诗", "input": "", "output": "秋风起，落叶黄，雁南飞。"},
    {"instruction": "列出三种常见的水果", "input": "", "output": "苹果、香蕉、橙子。"},
    {"instruction": "请列出三种常见的水果", "input": "", "output": "葡萄、梨、桃子。"},
    {"instruction": "用一句话介绍长城", "input": "", "output": "长城是中国古代修建的军事防御工程。"},
]


def answer(messages: list[dict]) -> str:
    """The scripted teacher: arithmetic questions answered with reasoning; task and document prompts in JSON."""
    text = last_user_text(messages)
    if '"instruction"' in text:
        return "```json\n" + json.dumps(CHINESE_TASKS, ensure_ascii=False) + "\n```"
    if '"question"' in text:
        return json.dumps([{"question": "What does the passage say about owls?", "answer": "Owls hunt at night."}])
    left, right = text.removeprefix("What is ").rstrip("?").split("+")
    return f"{left} plus {right}. The answer is: {int(left) + int(right)}"


def config_for(server: TeacherServer, tmp_path, kind: str, input_path, **recipe) -> MakeDataConfig:
    return MakeDataConfig.from_dict({
        "teacher": {"base_url": server.url, "model": "teacher", "api_key_env": "TEST_TEACHER_KEY", "concurrency": 3,
                    "timeout_s": 2, "retries": 2, "price_in": 2.0, "price_out": 8.0},
        "recipe": {"kind": kind, "input": str(input_path), **recipe},
        "output": str(tmp_path / "out" / "made.jsonl")})


def read_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def questions_file(tmp_path, count: int, wrong: set[int] = frozenset()):
    """`count` sums with known answers; those numbered in `wrong` carry a wrong one."""
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps({"question": f"What is {n}+{n}?", "answer": str(2 * n + (n in wrong))}) + "\n"
                            for n in range(count)), encoding="utf-8")
    return path


def test_answers_are_kept_only_where_they_agree_with_the_known_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_TEACHER_KEY", KEY)
    with TeacherServer(answer, key=KEY) as server:
        config = config_for(server, tmp_path, "answer", questions_file(tmp_path, 6, wrong={2, 4}), reasoning=True)
        seen = []
        progress = MakeDataJob(config, progress=seen.append).run()
    rows = read_rows(tmp_path / "out" / "made.jsonl")
    assert sorted(r["instruction"] for r in rows) == [f"What is {n}+{n}?" for n in (0, 1, 3, 5)]
    assert all(r["output"].endswith(f"The answer is: {2 * int(r['instruction'][8])}") for r in rows)
    made_by = rows[0]["made_by"]
    assert made_by["teacher"] == f"teacher @ {server.url}" and made_by["recipe"] == "answer"
    assert made_by["item"].startswith("q:") and made_by["time"].endswith("+00:00")
    assert (progress.done, progress.total, progress.kept, progress.dropped_by_reason) == (6, 6, 4, {"disagrees": 2})
    assert progress.finished and progress.seconds_left == 0 and len(seen) == 7
    assert progress.cost == pytest.approx(progress.tokens_in * 2e-6 + progress.tokens_out * 8e-6) and progress.cost > 0
    assert "kept 4 rows, dropped 2 (disagrees with the known answer: 2)" == str(progress.summary())
    assert server.requests[0]["messages"][0]["content"].startswith("Think step by step")  # reasoning asked for


def test_chinese_near_duplicates_of_seeds_and_of_each_other_are_dropped(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": s, "output": "……"}, ensure_ascii=False) + "\n"
                             for s in CHINESE_SEEDS), encoding="utf-8")
    with TeacherServer(answer) as server:
        config = config_for(server, tmp_path, "self_instruct", seeds, count=2, rouge_threshold=0.7)
        progress = MakeDataJob(config, api_key="").run()
        prompt = last_user_text(server.requests[0]["messages"])
    rows = read_rows(tmp_path / "out" / "made.jsonl")
    assert [r["instruction"] for r in rows] == ["列出三种常见的水果", "用一句话介绍长城"]
    assert progress.dropped_by_reason == {"duplicate": 2} and progress.kept == 2
    assert "请写出" in prompt and sum(seed in prompt for seed in CHINESE_SEEDS) == 3  # a Chinese prompt, 3 seeds


def test_questions_from_documents_name_their_passage(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "owls.md").write_text("# Owls\n\nOwls hunt at night.\n\n" + "They have soft feathers. " * 80,
                                  encoding="utf-8")
    with TeacherServer(answer) as server:
        config = config_for(server, tmp_path, "documents", docs, count=10, passage_chars=1000, rouge_threshold=0.9)
        progress = MakeDataJob(config, api_key="").run()
        prompts = [last_user_text(body["messages"]) for body in server.requests]
    rows = read_rows(tmp_path / "out" / "made.jsonl")
    assert progress.done == progress.total == 3  # the document cut into 3 passages
    assert len(rows) == 1 and progress.dropped_by_reason == {"duplicate": 2}  # the same question thrice
    assert rows[0]["made_by"]["source"].startswith("owls.md #")
    assert sum("Owls hunt at night." in prompt for prompt in prompts) == 1


def test_faults_are_retried_or_counted_and_never_end_the_batch(tmp_path):
    faults = {1: "429", 3: "500", 5: "drop", 7: "bad", 9: "length"}
    with TeacherServer(answer, faults=faults) as server:
        config = config_for(server, tmp_path, "answer", questions_file(tmp_path, 8))
        progress = MakeDataJob(config, api_key="").run()
    assert progress.done == 8 and progress.kept == 7 and progress.dropped_by_reason == {"malformed": 1}
    assert "malformed" in str(progress.note) or "chat completion" in str(progress.note)


def test_stop_then_resume_loses_no_row_and_repeats_none(tmp_path):
    stop = threading.Event()
    with TeacherServer(answer, delay_s=0.05) as server:
        config = config_for(server, tmp_path, "answer", questions_file(tmp_path, 30))
        first = MakeDataJob(config, api_key="", stop=stop,
                            progress=lambda p: stop.set() if p.done >= 10 else None).run()
        written = read_rows(tmp_path / "out" / "made.jsonl")
        second = MakeDataJob(config, api_key="").run()
        asked = [last_user_text(body["messages"]) for body in server.requests]
    rows = read_rows(tmp_path / "out" / "made.jsonl")
    assert not first.finished and 10 <= len(written) < 30
    assert rows[:len(written)] == written  # nothing of the first run lost or rewritten
    assert sorted(r["made_by"]["item"] for r in rows) == sorted(f"q:{n}" for n in range(30))
    assert len(asked) == len(set(asked)) == 30  # no question asked twice
    assert second.finished and (second.done, second.total, second.kept) == (30, 30, 30)


def test_a_torn_last_line_is_cut_and_its_request_asked_again(tmp_path):
    """A process killed mid-write leaves half a line; resuming cuts it off and asks that question again."""
    with TeacherServer(answer) as server:
        config = config_for(server, tmp_path, "answer", questions_file(tmp_path, 3))
        MakeDataJob(config, api_key="").run()
        output = tmp_path / "out" / "made.jsonl"
        lines = output.read_text(encoding="utf-8").splitlines(keepends=True)
        output.write_text("".join(lines[:2]) + lines[2][:20], encoding="utf-8")
        ledger = ledger_path(output)
        ledger.write_text("".join(ledger.read_text().splitlines(keepends=True)[:2]))
        progress = MakeDataJob(config, api_key="").run()
    assert progress.kept == 3 and len(read_rows(output)) == 3 and len(server.requests) == 4


def test_the_key_is_in_no_file_written(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_TEACHER_KEY", KEY)
    with TeacherServer(answer, key=KEY, faults={2: "500"}) as server:
        config = config_for(server, tmp_path, "answer", questions_file(tmp_path, 4, wrong={1}))
        (tmp_path / "out").mkdir()
        config.save(tmp_path / "out" / "make.yaml")
        MakeDataJob(config).run()
        assert server.seen_keys and all(k == f"Bearer {KEY}" for k in server.seen_keys)  # the key was used ...
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 4  # questions, config, output, ledger
    assert not [p for p in written if KEY.encode() in p.read_bytes()]  # ... and written nowhere


def test_preview_gives_five_rows_and_writes_nothing(tmp_path):
    with TeacherServer(answer) as server:
        config = config_for(server, tmp_path, "answer", questions_file(tmp_path, 20))
        rows = preview(config, api_key="")
    assert len(rows) == 5 and all(r["made_by"]["recipe"] == "answer" for r in rows)
    assert not (tmp_path / "out").exists()


def test_empty_seed_file_is_said_plainly(tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("\n\n", encoding="utf-8")
    with TeacherServer(answer) as server:
        config = config_for(server, tmp_path, "self_instruct", seeds)
        with pytest.raises(RecipeError) as caught:
            MakeDataJob(config, api_key="").run()
    assert caught.value.key in ("making.recipes.no_seeds", "making.recipes.unreadable")
    assert str(seeds) in str(caught.value) and not server.requests


def test_the_output_is_training_data_the_data_tab_reads(tmp_path):
    from core.data.load import load

    with TeacherServer(answer) as server:
        MakeDataJob(config_for(server, tmp_path, "answer", questions_file(tmp_path, 3)), api_key="").run()
    loaded = load(tmp_path / "out" / "made.jsonl")
    assert loaded.format == "alpaca" and len(loaded.rows) == 3 and not loaded.problems
    assert {row["messages"][1]["content"] for row in loaded.rows} == {f"{n} plus {n}. The answer is: {2 * n}"
                                                                      for n in range(3)}


def test_a_request_that_failed_is_asked_again_on_resume(tmp_path):
    with TeacherServer(answer, faults={1: "500", 2: "500", 3: "500"}) as server:
        config = config_for(server, tmp_path, "answer", questions_file(tmp_path, 3))
        config.teacher.concurrency = 1
        first = MakeDataJob(config, api_key="").run()
        second = MakeDataJob(config, api_key="").run()
    assert (first.kept, first.dropped_by_reason) == (2, {"failed": 1}) and "3 times" in str(first.note)
    assert (second.done, second.kept, second.total) == (3, 3, 3)
    assert sorted(r["made_by"]["item"] for r in read_rows(tmp_path / "out" / "made.jsonl")) == ["q:0", "q:1", "q:2"]
