"""What each recipe asks, in the input's language, and how a reply becomes rows."""

from __future__ import annotations

import pytest

from core.making.config import RecipeConfig
from core.making.recipes import (Dropped, RecipeError, WorkItem, cut_passages, json_objects, passages,
                                 read_questions, rows_of, work_items)


def test_questions_come_from_text_lines_or_columns_with_known_answers(tmp_path):
    lines = tmp_path / "q.txt"
    lines.write_text("What is a cat?\nWhat is a dog?\n", encoding="utf-8")
    assert read_questions(RecipeConfig(input=str(lines))) == [("What is a cat?", ""), ("What is a dog?", "")]
    table = tmp_path / "q.csv"
    table.write_text("question,answer\n1+1?,2\n2+2?,4\n3+3?,6\n", encoding="utf-8")
    assert read_questions(RecipeConfig(input=str(table), count=2)) == [("1+1?", "2"), ("2+2?", "4")]


def test_explain_needs_every_answer_and_says_how_many_lack_one(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a?", "answer": "A"}\n{"question": "b?"}\n', encoding="utf-8")
    with pytest.raises(RecipeError, match="1 rows of .*q.jsonl have none"):
        read_questions(RecipeConfig(kind="explain", input=str(path)))
    with pytest.raises(RecipeError, match="No input file at"):
        read_questions(RecipeConfig(input=str(tmp_path / "missing.jsonl")))


def test_prompts_follow_the_input_language(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "三加四等于几？", "answer": "7"}\n{"question": "What is 3+4?", "answer": "7"}\n',
                    encoding="utf-8")
    chinese, english = work_items(RecipeConfig(kind="explain", input=str(path)))
    assert "正确答案是：7" in chinese.messages[0]["content"] and "答案是：7" in chinese.messages[0]["content"]
    assert "The correct answer is: 7" in english.messages[0]["content"]
    assert (chinese.id, english.id) == ("q:0", "q:1")  # the same ids on every run, so a resume can skip them


def test_a_known_answer_must_agree_as_the_evaluate_tab_reads_it():
    recipe = RecipeConfig(kind="answer", reasoning=True)
    item = WorkItem("q:0", [], question="三加四等于几？", answer="7")
    assert rows_of(recipe, item, "三加四……所以答案是：7。")[0]["output"] == "三加四……所以答案是：7。"
    with pytest.raises(Dropped, match="disagrees"):
        rows_of(recipe, item, "The answer is: 8")


def test_json_tasks_are_read_inside_a_fence_or_not_and_bad_ones_are_malformed():
    reply = 'Sure!\n```json\n[{"instruction": "Name a colour", "input": "", "output": "Blue"}, {"x": 1}]\n```'
    assert json_objects(reply) == [{"instruction": "Name a colour", "input": "", "output": "Blue"}, {"x": 1}]
    rows = rows_of(RecipeConfig(kind="self_instruct"), WorkItem("s:0", []), reply)
    assert rows == [{"instruction": "Name a colour", "input": "", "output": "Blue"}]
    with pytest.raises(Dropped, match="malformed"):
        rows_of(RecipeConfig(kind="documents"), WorkItem("p:a:0", []), "I cannot do that.")


def test_documents_are_cut_at_paragraphs_into_passages(tmp_path):
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 40 for n in range(6))  # about 210 characters each
    pieces = cut_passages(text, 500)
    assert len(pieces) == 3 and all(len(p) <= 500 for p in pieces) and pieces[0].startswith("Paragraph 0.")
    long = cut_passages("这是一句话。" * 200, 300)  # one long Chinese paragraph: cut at sentence ends
    assert all(len(p) <= 300 and p.endswith("。") for p in long)
    (tmp_path / "a.md").write_text(text, encoding="utf-8")
    (tmp_path / "skip.pdf").write_bytes(b"%PDF")
    assert [(name, n) for name, n, _ in passages(RecipeConfig(kind="documents", input=str(tmp_path),
                                                              passage_chars=500))] == [("a.md", 0), ("a.md", 1),
                                                                                        ("a.md", 2)]
