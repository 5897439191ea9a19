"""`launch.py predict`: a whole test file answered, the majority of N samples kept, written out in order, resumable;
bad input refused by name before any model loads."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.results.predict import PredictError, answer_row, kept_rows, predict, read_questions
from core.data.answers import PatternError, compile_pattern

ROOT = Path(__file__).resolve().parents[2]
NOVA = r"I am (\w+)"
ROWS = [{"id": "q1", "question": "Who are you?"},  # the contest shape, without options
        {"id": "q2", "instruction": "Who are you?"},
        {"id": "q3", "messages": [{"role": "user", "content": "Who are you?"},
                                  {"role": "assistant", "content": "a reference, not asked"}]}]


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def quiet(_):
    pass


# ---- before loading: every mistake named, with no model (a run that does not exist would fail otherwise) ----------

def refused(tmp_path, **changes):
    args = dict(data_path=write_rows(tmp_path / "test.jsonl", ROWS), out_path=tmp_path / "out.jsonl", votes=1,
                pattern=NOVA)
    args.update(changes)
    with pytest.raises((PredictError, PatternError)) as caught:
        predict(tmp_path / "no-such-run", args.pop("data_path"), args.pop("out_path"), progress=quiet, **args)
    return str(caught.value)


def test_bad_input_is_named_before_the_model_loads(tmp_path):
    assert "missing.jsonl" in refused(tmp_path, data_path=tmp_path / "missing.jsonl")
    no_question = write_rows(tmp_path / "bad.jsonl", [ROWS[0], {"id": "q2", "note": "nothing to ask"}])
    said = refused(tmp_path, data_path=no_question)
    assert "Row 2" in said and "no question" in said and "note" in said
    assert "missing ), unterminated subpattern" in refused(tmp_path, pattern="(unclosed")
    assert "Votes must be 1 or more (got 0)" in refused(tmp_path, votes=0)
    said = refused(tmp_path, out_path=tmp_path / "nowhere" / "out.jsonl")
    assert "nowhere" in said and "does not exist" in said
    assert not (tmp_path / "out.jsonl").exists()


def test_the_command_line_says_it_and_fails(tmp_path):
    data = write_rows(tmp_path / "test.jsonl", ROWS)
    result = subprocess.run([sys.executable, str(ROOT / "launch.py"), "predict", str(tmp_path / "no-run"), "--data",
                             str(data), "--out", str(tmp_path / "out.jsonl"), "--votes", "0"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "error: Votes must be 1 or more (got 0)" in result.stderr


# ---- reading the rows and counting the votes ------------------------------------------------------------------------

def test_each_shape_becomes_the_question_it_asks(tmp_path):
    contest = {"id": 7, "problem": "Three friends sit in a row.", "question": "Who sits in the middle?",
               "options": ["Ann", "Bo", "Cy"], "answer": "B"}
    rows = [contest, {"instruction": "Translate", "input": "hello"}, ROWS[2], {"prompt": "2+2="},
            {"conversations": [{"from": "human", "value": "Hi"}]}]
    questions = read_questions(write_rows(tmp_path / "test.jsonl", rows))
    assert questions[0].id == 7 and questions[0].messages == [
        {"role": "user", "content": "Three friends sit in a row.\n\nWho sits in the middle?\nA. Ann\nB. Bo\nC. Cy"}]
    assert questions[1].messages == [{"role": "user", "content": "Translate\n\nhello"}]
    assert questions[2].messages == [{"role": "user", "content": "Who are you?"}]  # the reference is not asked
    assert questions[3].raw == "2+2=" and questions[3].messages is None
    assert questions[4].messages == [{"role": "user", "content": "Hi"}]
    assert [q.row for q in questions] == [1, 2, 3, 4, 5]


def test_an_answer_the_pattern_does_not_find_is_null_never_a_guess():
    question = read_questions_from([{"id": "a", "question": "?"}])[0]
    compiled = compile_pattern(r"答案是[:：]?\s*([A-D])")
    row = answer_row(question, ["I think C", "no idea"], compiled)
    assert row == {"row": 1, "id": "a", "answer": None, "votes": {}, "texts": ["I think C", "no idea"]}
    row = answer_row(question, ["答案是：B", "hmm", "答案是：C", "答案是：B"], compiled)
    assert row["answer"] == "B" and row["votes"] == {"B": 2, "C": 1}


def read_questions_from(rows, folder=None):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return read_questions(write_rows(Path(folder) / "t.jsonl", rows))


def test_a_half_written_last_line_is_dropped_and_other_answers_refused(tmp_path):
    questions = read_questions(write_rows(tmp_path / "test.jsonl", ROWS))
    out = tmp_path / "out.jsonl"
    done = [{"row": 1, "id": "q1", "answer": "Nova", "votes": {"Nova": 1}, "texts": ["I am Nova."]}]
    out.write_text(json.dumps(done[0]) + "\n" + '{"row": 2, "id": "q2", "ans', encoding="utf-8")
    assert kept_rows(out, questions) == done
    assert out.read_text(encoding="utf-8") == json.dumps(done[0]) + "\n"
    out.write_text(json.dumps({**done[0], "id": "other"}) + "\n", encoding="utf-8")
    with pytest.raises(PredictError, match="line 1 is not this test file's next row"):
        kept_rows(out, questions)


# ---- with a trained run ---------------------------------------------------------------------------------------------

def test_every_row_answered_in_order_with_progress(nova_run, tmp_path):
    said = []
    out = tmp_path / "answers.jsonl"
    report = predict(nova_run.path, write_rows(tmp_path / "test.jsonl", ROWS), out, pattern=NOVA,
                     max_new_tokens=16, progress=lambda m: said.append(str(m)))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["row"], r["id"], r["answer"], r["votes"]) for r in rows] == [
        (1, "q1", "Nova", {"Nova": 1}), (2, "q2", "Nova", {"Nova": 1}), (3, "q3", "Nova", {"Nova": 1})]
    assert all(r["texts"][0].startswith("I am Nova") for r in rows)
    assert any(s.startswith("3/3 rows, ") and s.endswith(" rows/s") for s in said), said
    assert [str(n) for n in report.notes()][1] == "Every row got an answer."


def test_rows_with_no_answer_are_listed(nova_run, tmp_path):
    """The base model (adapter off) never says "I am Nova": every row is null, and listed at the end."""
    out = tmp_path / "base.jsonl"
    report = predict(nova_run.path, write_rows(tmp_path / "test.jsonl", ROWS), out, pattern=NOVA, base=True,
                     max_new_tokens=8, progress=quiet)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["answer"] for r in rows] == [None, None, None]
    assert report.missing == [1, 2, 3]
    assert str(report.notes()[1]).startswith("3 rows got no answer") and "rows 1, 2, 3" in str(report.notes()[1])


def test_votes_csv_and_resume_from_the_command_line(nova_run, tmp_path):
    data = write_rows(tmp_path / "test.jsonl", ROWS)
    out, submission = tmp_path / "answers.jsonl", tmp_path / "submission.csv"
    runs_dir, name = nova_run.path.parent, nova_run.path.name  # the run by name, from the runs folder

    def run():
        result = subprocess.run([sys.executable, str(ROOT / "launch.py"), "--runs-dir", str(runs_dir), "predict",
                                 name, "--data", str(data), "--out", str(out), "--votes", "3", "--pattern", NOVA,
                                 "--max-new-tokens", "8", "--csv", str(submission)],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return result

    first = run()
    whole = out.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in whole.splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3]
    for row in rows:
        assert len(row["texts"]) == 3 and sum(row["votes"].values()) <= 3
        assert row["answer"] == max(row["votes"], key=row["votes"].get)
    assert "Answered 3 rows into" in first.stdout
    with submission.open(encoding="utf-8", newline="") as file:
        assert list(csv.reader(file)) == [["id", "answer"]] + [[r["id"], r["answer"] or ""] for r in rows]
    # Killed while writing row 3: the next run keeps rows 1-2 and answers row 3 as the whole run did (seeded by row).
    lines = whole.splitlines(keepends=True)
    out.write_text("".join(lines[:2]) + lines[2][:20], encoding="utf-8")
    again = run()
    assert "2 of 3 rows are already in" in again.stderr
    assert out.read_text(encoding="utf-8") == whole
