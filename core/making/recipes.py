"""The four recipes: what the teacher is asked (in the input's language, English or Chinese), and how its reply
becomes rows.

- answer: the teacher answers each question of a file (optionally reasoning step by step); where the file gives
  a known answer, the row is kept only when the teacher's final answer agrees (the Evaluate tab's answer pattern);
- explain: the teacher is given each question with its known answer and explains how to reach it (the logic
  contest write-up's way), kept when its final answer is that answer;
- self_instruct: new instruction/input/output tasks from a few seed examples shown per request (Alpaca's way);
- documents: .txt/.md/.pdf files cut into passages (a PDF page by page); question/answer pairs grounded in each.

Each request is a WorkItem with an id that stays the same between runs ('q:7', 's:12', 'p:notes.md:3'), so a
resumed batch skips what is done. `rows_of` turns a reply into candidate rows or raises Dropped with its reason;
lengths and near-duplicates are the batch's checks, which see every row.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass, field
from itertools import count as counting
from pathlib import Path
from typing import Iterator, NamedTuple

from core.catalogue.message import StudioError
from core.data.errors import DataError
from core.data.files import open_source, read_text
from core.making.config import RecipeConfig
from core.making.dedupe import CJK
from core.data.answers import extract_answer, normalize

QUESTION_KEYS = ("question", "prompt", "query", "instruction", "text", "problem", "问题")
ANSWER_KEYS = ("answer", "output", "response", "completion", "solution", "答案")
DOCUMENT_EXTENSIONS = (".txt", ".md", ".markdown", ".pdf")
HAS_CJK = re.compile(f"[{CJK}]")
JSON_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class RecipeError(StudioError, ValueError):
    """The recipe's input cannot be used (missing, empty, no known answers for explain): said before any request."""


class Dropped(StudioError, ValueError):  # noqa: N818 - not a failure: a reply gave no row, counted by its reason
    """A reply that gives no row; `reason` is one of the batch's drop reasons ('disagrees', 'malformed' ...)."""

    def __init__(self, reason: str):
        super().__init__("making.reason." + reason)
        self.reason = reason


@dataclass
class WorkItem:
    id: str
    messages: list[dict]
    question: str = ""
    answer: str = ""  # the known answer, where the input has one
    source: str = ""  # the document and passage, for documents
    seeds: list = field(default_factory=list)


def chinese(text: str) -> bool:
    """Mostly Chinese (or Japanese, Korean): the prompt is then written in Chinese, so the rows come back in it."""
    letters = sum(ch.isalpha() for ch in text)
    return bool(letters) and len(HAS_CJK.findall(text)) * 3 >= letters


# ---------------------------------------------------------------------------------------------- items

def work_items(recipe: RecipeConfig) -> Iterator[WorkItem]:
    """The requests of a recipe, in order; self_instruct's never end (the batch stops at `count` rows kept)."""
    if recipe.kind in ("answer", "explain"):
        return _question_items(recipe)
    if recipe.kind == "self_instruct":
        return _self_instruct_items(recipe, read_seeds(recipe))
    return _document_items(recipe)


def read_questions(recipe: RecipeConfig) -> list[tuple[str, str]]:
    """(question, known answer or '') for each row of the input file, at most `count`."""
    found = []
    for record in _records(recipe.input):
        question = _first(record, QUESTION_KEYS)
        extra = str(record.get("input") or "").strip() if "instruction" in record else ""
        if question:
            found.append(("\n\n".join(p for p in (question, extra) if p), _first(record, ANSWER_KEYS)))
        if len(found) >= recipe.count:
            break
    if not found:
        raise RecipeError("making.recipes.no_questions", path=recipe.input, keys=", ".join(QUESTION_KEYS[:4]))
    if recipe.kind == "explain":
        missing = sum(1 for _, answer in found if not answer)
        if missing:
            raise RecipeError("making.recipes.explain_needs_answers", path=recipe.input, missing=missing,
                              keys=", ".join(ANSWER_KEYS[:3]))
    return found


def read_seeds(recipe: RecipeConfig) -> list[dict]:
    """Seed tasks {instruction, input, output} from the input file and those typed in."""
    seeds = [{"instruction": text, "input": "", "output": ""} for text in recipe.seeds]
    if recipe.input.strip():
        for record in _records(recipe.input):
            instruction = _first(record, QUESTION_KEYS)
            if instruction:
                seeds.append({"instruction": instruction, "input": str(record.get("input") or "").strip(),
                              "output": _first(record, ANSWER_KEYS)})
    if not seeds:
        raise RecipeError("making.recipes.no_seeds", path=recipe.input or "-")
    return seeds


class Passage(NamedTuple):
    name: str  # the file, relative to the folder given
    number: int  # the passage's place in its file, from 0: part of the request's id
    text: str
    page: int = 0  # a PDF's page, from 1; 0 for text files

    @property
    def source(self) -> str:
        """Where the passage came from, as a row's made_by.source: 'notes.md #2', 'report.pdf p.3 #5'."""
        return f"{self.name} p.{self.page} #{self.number + 1}" if self.page else f"{self.name} #{self.number + 1}"


def passages(recipe: RecipeConfig) -> list[Passage]:
    """Every passage of the .txt/.md/.pdf files the input names, cut at paragraph ends (a PDF's within each page)."""
    path = Path(recipe.input)
    if not path.exists():
        raise RecipeError("making.recipes.missing", path=recipe.input)
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in DOCUMENT_EXTENSIONS) if path.is_dir() \
        else [path]
    cut = []
    for file in files:
        name = str(file.relative_to(path)) if path.is_dir() else file.name
        pages = pdf_pages(file) if file.suffix.lower() == ".pdf" else [(0, read_text(str(file)))]
        pieces = [(page, piece) for page, text in pages for piece in cut_passages(text, recipe.passage_chars)]
        cut += [Passage(name, number, text, page) for number, (page, text) in enumerate(pieces)]
    if not cut:
        raise RecipeError("making.recipes.no_documents", path=recipe.input,
                          extensions=", ".join(DOCUMENT_EXTENSIONS))
    return cut


def pdf_pages(file: Path) -> list[tuple[int, str]]:
    """(page number from 1, text) of each page of a PDF with text on it. A scan (no text layer), an encrypted PDF or
    a damaged one is refused by name before any request is sent."""
    from pypdf import PdfReader  # loaded only when a PDF is given
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(file)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise RecipeError("making.recipes.pdf_encrypted", path=str(file))
        pages = [(number, (page.extract_text() or "").strip()) for number, page in enumerate(reader.pages, 1)]
    except RecipeError:
        raise
    except PyPdfError as err:
        raise RecipeError("making.recipes.pdf_damaged", path=str(file), why=str(err) or type(err).__name__) \
            from None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as err:
        # A damaged file can fail anywhere inside the parser, not only with pypdf's own errors.
        raise RecipeError("making.recipes.pdf_damaged", path=str(file), why=type(err).__name__) from None
    pages = [(number, text) for number, text in pages if text]
    if not pages:
        raise RecipeError("making.recipes.pdf_no_text", path=str(file))
    return pages


def _opens_without_password(reader) -> bool:
    """Many PDFs are encrypted only against editing, with an empty password to read them."""
    from pypdf.errors import PyPdfError

    try:
        return bool(reader.decrypt(""))
    except PyPdfError:  # AES without pypdf's crypto extra installed: as locked as a password
        return False


def cut_passages(text: str, size: int) -> list[str]:
    """Paragraphs packed into passages of at most `size` characters; a longer paragraph is cut at sentence ends."""
    pieces = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        while len(paragraph) > size:
            end = max(paragraph.rfind(mark, 0, size) for mark in ".。!！?？\n")
            end = end + 1 if end > size // 2 else size
            pieces.append(paragraph[:end].strip())
            paragraph = paragraph[end:].strip()
        if paragraph:
            pieces.append(paragraph)
    packed, current = [], ""
    for piece in pieces:
        if current and len(current) + 2 + len(piece) > size:
            packed.append(current)
            current = ""
        current = f"{current}\n\n{piece}" if current else piece
    return packed + ([current] if current else [])


def _question_items(recipe: RecipeConfig) -> Iterator[WorkItem]:
    for number, (question, answer) in enumerate(read_questions(recipe)):
        yield WorkItem(f"q:{number}", question_messages(recipe, question, answer), question=question, answer=answer)


def _self_instruct_items(recipe: RecipeConfig, seeds: list[dict]) -> Iterator[WorkItem]:
    for number in counting():
        # The same request always shows the same seeds, so a resumed batch asks what the first one would have.
        shown = random.Random(recipe.seed * 1_000_003 + number).sample(seeds, min(recipe.seeds_per_request,
                                                                                  len(seeds)))
        yield WorkItem(f"s:{number}", self_instruct_messages(recipe, shown), seeds=shown)


def _document_items(recipe: RecipeConfig) -> Iterator[WorkItem]:
    for passage in passages(recipe):
        yield WorkItem(f"p:{passage.name}:{passage.number}", document_messages(recipe, passage.name, passage.text),
                       source=passage.source)


def _records(path: str) -> Iterator[dict]:
    if not path.strip() or not os.path.exists(path):
        raise RecipeError("making.recipes.missing", path=path or "-")
    try:
        for _, record in open_source(path, []).records:
            if isinstance(record, dict):
                yield record
    except DataError as err:
        raise RecipeError("making.recipes.unreadable", path=path, why=err.message) from None


def _first(record: dict, keys) -> str:
    for key in keys:
        value = record.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return ""


# ---------------------------------------------------------------------------------------------- prompts
# Written in the input's language: a teacher asked in English about Chinese text tends to answer in English.

REASONING = ("Think step by step. End with a last line of the form 'The answer is: <answer>'.",
             "请一步一步地思考，并在最后一行写出“答案是：<答案>”。")
EXPLAIN = ("Question:\n{question}\n\nThe correct answer is: {answer}\n\nExplain step by step how to reach this answer, "
           "as a teacher would, without saying that you were given it. End with the line 'The answer is: {answer}'.",
           "问题：\n{question}\n\n正确答案是：{answer}\n\n请像老师一样一步一步地解释如何得出这个答案，不要提到答案是事先给出的。"
           "最后一行写“答案是：{answer}”。")
SELF_INSTRUCT = ("Here are examples of tasks:\n\n{examples}\n\nWrite {n} new, different tasks of the same kind, each "
                 "with a complete, high-quality output. Answer only with a JSON array of objects with the keys "
                 '"instruction", "input" (may be empty) and "output".',
                 "下面是一些任务示例：\n\n{examples}\n\n"
                 "请写出 {n} 个同类但各不相同的新任务，每个都附上完整、高质量的输出。"
                 '只用一个 JSON 数组作答，其中每个对象含有 "instruction"、"input"（可为空）和 "output" 三个键。')
DOCUMENT = ("Here is a passage from {name}:\n---\n{passage}\n---\nWrite {n} questions that this passage answers, each "
            "with its answer taken from the passage. Answer only with a JSON array of objects with the keys "
            '"question" and "answer".',
            "以下是 {name} 中的一段文字：\n---\n{passage}\n---\n"
            "请写出 {n} 个这段文字能回答的问题，并给出取自原文的答案。"
            '只用一个 JSON 数组作答，其中每个对象含有 "question" 和 "answer" 两个键。')


def question_messages(recipe: RecipeConfig, question: str, answer: str) -> list[dict]:
    zh = int(chinese(question))
    if recipe.kind == "explain":
        return [{"role": "user", "content": EXPLAIN[zh].format(question=question, answer=answer)}]
    if recipe.reasoning:
        return [{"role": "system", "content": REASONING[zh]}, {"role": "user", "content": question}]
    return [{"role": "user", "content": question}]


def self_instruct_messages(recipe: RecipeConfig, seeds: list[dict]) -> list[dict]:
    zh = int(chinese(" ".join(seed["instruction"] for seed in seeds)))
    examples = "\n\n".join(f"{number}. " + json.dumps({k: v for k, v in seed.items() if v}, ensure_ascii=False)
                           for number, seed in enumerate(seeds, 1))
    return [{"role": "user", "content": SELF_INSTRUCT[zh].format(examples=examples, n=recipe.tasks_per_request)}]


def document_messages(recipe: RecipeConfig, name: str, text: str) -> list[dict]:
    prompt = DOCUMENT[int(chinese(text))].format(name=name, passage=text, n=recipe.questions_per_passage)
    return [{"role": "user", "content": prompt}]


# ---------------------------------------------------------------------------------------------- replies -> rows

def rows_of(recipe: RecipeConfig, item: WorkItem, reply: str) -> list[dict]:
    """The candidate rows {instruction, input, output} in a reply; raises Dropped('disagrees'/'malformed')."""
    if recipe.kind in ("answer", "explain"):
        if item.answer and not agrees(reply, item.answer, recipe.answer_pattern):
            raise Dropped("disagrees")
        return [{"instruction": item.question, "input": "", "output": reply.strip()}]
    objects = json_objects(reply)
    if recipe.kind == "self_instruct":
        rows = [{"instruction": _first(o, ("instruction",)), "input": _first(o, ("input",)),
                 "output": _first(o, ("output",))} for o in objects]
    else:
        rows = [{"instruction": _first(o, ("question",)), "input": "", "output": _first(o, ("answer",))}
                for o in objects]
    rows = [row for row in rows if row["instruction"] and row["output"]]
    if not rows:
        raise Dropped("malformed")
    return rows


def agrees(reply: str, known: str, pattern: str) -> bool:
    """The teacher's final answer (the answer pattern's capture, else the whole reply) is the known answer."""
    return extract_answer(reply, pattern).casefold() == normalize(known).casefold()


def json_objects(reply: str) -> list[dict]:
    """The objects of the first JSON array in a reply (inside a ```json fence or not); [] when there is none."""
    fenced = JSON_FENCE.search(reply)
    text = fenced.group(1) if fenced else reply
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start:
        return []
    try:
        found = json.loads(text[start:end + 1])
    except json.JSONDecodeError:
        return []
    return [o for o in found if isinstance(o, dict)] if isinstance(found, list) else []
