"""What each recipe asks, in the input's language, and how a reply becomes rows."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from core.catalogue.message import text_of
from core.making.batch import MakeDataJob
from core.making.config import MakeDataConfig, RecipeConfig
from core.making.recipes import (Dropped, RecipeError, WorkItem, cut_passages, json_objects, passages,
                                 read_questions, rows_of, work_items)
from core.making.teacher import Completion


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
    (tmp_path / "skip.docx").write_bytes(b"PK")
    assert [(p.name, p.number) for p in passages(RecipeConfig(kind="documents", input=str(tmp_path),
                                                              passage_chars=500))] == [("a.md", 0), ("a.md", 1),
                                                                                        ("a.md", 2)]


# ---------------------------------------------------------------------------------------------- PDF documents

def pdf_bytes(pages: list[list[str]], password: str | None = None) -> bytes:
    """A real PDF with one text line per string (Helvetica, drawn by a content stream); an empty page has none."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                                NameObject("/Subtype"): NameObject("/Type1"),
                                                NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): font})})
        stream = DecodedStreamObject()
        stream.set_data(("BT /F1 11 Tf 14 TL 72 720 Td " + " ".join(f"({line}) Tj T*" for line in lines) + " ET")
                        .encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password is not None:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


OWLS = ["Owls hunt at night and sleep by day.", "Their feathers make no sound in flight."]
MICE = ["Mice store seeds for the winter."]


def test_a_pdf_is_read_page_by_page_and_each_passage_names_its_page(tmp_path):
    data = pdf_bytes([OWLS, [], MICE])
    assert "Owls hunt at night" in PdfReader(io.BytesIO(data)).pages[0].extract_text()  # the test's PDF is real
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "animals.pdf").write_bytes(data)
    (tmp_path / "docs" / "notes.md").write_text("Cats purr.", encoding="utf-8")
    items = list(work_items(RecipeConfig(kind="documents", input=str(tmp_path / "docs"))))
    assert [(item.id, item.source) for item in items] == [
        ("p:animals.pdf:0", "animals.pdf p.1 #1"), ("p:animals.pdf:1", "animals.pdf p.3 #2"),
        ("p:notes.md:0", "notes.md #1")]  # the blank page 2 gives no passage
    assert all(line in items[0].messages[0]["content"] for line in OWLS)
    assert "Mice store seeds" in items[1].messages[0]["content"] and "Owls" not in items[1].messages[0]["content"]
    single = passages(RecipeConfig(kind="documents", input=str(tmp_path / "docs" / "animals.pdf")))
    assert [(p.name, p.page) for p in single] == [("animals.pdf", 1), ("animals.pdf", 3)]


class ScriptedTeacher:
    """Answers every passage with one question on its first sentence; counts what it was asked."""

    def __init__(self):
        self.asked = 0

    def complete(self, messages, max_tokens=None, retries=None) -> Completion:
        self.asked += 1
        sentence = messages[-1]["content"].split("---\n")[1].split(".")[0]
        pairs = [{"question": f"Is it true that {sentence.lower()}?", "answer": f"Yes: {sentence}."}]
        return Completion(json.dumps(pairs), "stop", 10, 10)


def documents_job(tmp_path, input_path, teacher) -> MakeDataJob:
    config = MakeDataConfig.from_dict({"teacher": {"base_url": "http://127.0.0.1:9/v1", "model": "t"},
                                       "recipe": {"kind": "documents", "input": str(input_path), "count": 5},
                                       "output": str(tmp_path / "made.jsonl")})
    return MakeDataJob(config, api_key="", teacher=teacher)


def test_rows_made_from_a_pdf_say_which_file_and_page_they_came_from(tmp_path):
    (tmp_path / "animals.pdf").write_bytes(pdf_bytes([OWLS, MICE]))
    documents_job(tmp_path, tmp_path / "animals.pdf", ScriptedTeacher()).run()
    rows = [json.loads(line) for line in (tmp_path / "made.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["made_by"]["source"] for row in rows] == ["animals.pdf p.1 #1", "animals.pdf p.2 #2"]


@pytest.mark.parametrize("kind, data, english, chinese", [
    ("scan", pdf_bytes([[], []]), "has no text layer (a scanned PDF?)", "没有文本层"),
    ("encrypted", pdf_bytes([OWLS], password="secret"), "is encrypted: save a copy without a password", "已加密"),
    ("damaged", pdf_bytes([OWLS])[:300], "is not a readable PDF", "不是可读取的 PDF"),
])
def test_a_pdf_without_readable_text_is_named_and_no_request_is_sent(tmp_path, kind, data, english, chinese):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "good.md").write_text("Owls hunt at night.", encoding="utf-8")
    (tmp_path / "docs" / f"{kind}.pdf").write_bytes(data)
    teacher = ScriptedTeacher()
    with pytest.raises(RecipeError) as raised:
        documents_job(tmp_path, tmp_path / "docs", teacher).run()
    assert english in str(raised.value) and f"{kind}.pdf" in str(raised.value)
    assert chinese in text_of(raised.value, "zh") and f"{kind}.pdf" in text_of(raised.value, "zh")
    assert teacher.asked == 0 and not (tmp_path / "made.jsonl").exists()


def test_a_pdf_encrypted_only_against_editing_is_read(tmp_path):
    (tmp_path / "open.pdf").write_bytes(pdf_bytes([OWLS], password=""))
    assert [p.source for p in passages(RecipeConfig(kind="documents", input=str(tmp_path / "open.pdf")))] == [
        "open.pdf p.1 #1"]
