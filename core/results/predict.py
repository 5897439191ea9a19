"""Answer a whole test file: every row asked, the answer pulled out by the answer pattern, the majority of N samples
kept, one JSON row per input row written as it comes (so that running the same command again resumes).

A test file has no reference answers, so rows are read here rather than by core.data.load (whose formats need the
answer): a conversation is asked up to its last assistant turn (or whole, when it ends with the user), a `prompt`
as trained by prompt/completion, and a question (alpaca's instruction and input, question/query, or the contest
shape: problem, question, options) as one user turn. A row whose samples the pattern never matches gets answer
null: it is listed at the end, never guessed.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.catalogue.message import Message, StudioError, message
from core.data.errors import DataError, RowError
from core.data.files import open_source
from core.data.answers import DEFAULT_ANSWER_PATTERN, compile_pattern, found_answer
from core.data.formats import ROLES
from core.data.questions import question_text
from core.models.generate import answer_batch, generate, prompt_of

# Rows answered in one generate call when there is one (greedy) answer per row. Not sized by free memory as
# evaluation is: the out file grows, the progress line moves and Stop takes effect between batches, and on a CPU a
# batch of 32 rows of 256 tokens would leave the page without a new line, and Stop waiting, for minutes.
GREEDY_BATCH = 8


class PredictError(StudioError, ValueError):
    """The test file, the out file or the settings cannot be used; the message says which and what to fix."""


@dataclass
class Question:
    row: int  # 1-based record number in the file, as the out file's `row` and the messages say it
    id: object  # the row's own id, kept for the submission file; None when it has none
    messages: list[dict] | None = None  # asked with the chat template
    raw: str | None = None  # or a plain prompt, asked as prompt/completion training wrote it

    def prompt(self, tokenizer) -> str:
        if self.messages is not None:
            return prompt_of(tokenizer, {"messages": self.messages + [{"role": "assistant", "content": ""}]})[0]
        return prompt_of(tokenizer, {"prompt": self.raw, "completion": ""})[0]


@dataclass
class PredictReport:
    out_path: str
    total: int
    kept: int  # rows already in the out file from an earlier run
    missing: list[int] = field(default_factory=list)  # rows with no answer
    seconds: float = 0.0
    csv_path: str | None = None

    def notes(self) -> list[Message]:
        notes = [message("results.predict.done", total=self.total, path=self.out_path, new=self.total - self.kept,
                         kept=self.kept, seconds=round(self.seconds, 1))]
        if self.missing:
            notes.append(message("results.predict.no_answer", count=len(self.missing),
                                 rows=", ".join(map(str, self.missing))))
        else:
            notes.append(message("results.predict.all_answered"))
        if self.csv_path:
            notes.append(message("results.predict.csv_written", path=self.csv_path))
        return notes


def resolve_run(run: str | Path, runs_dir: str | Path = "runs") -> Path:
    """A run folder as given, or the run of that name in the runs folder."""
    given = Path(run)
    if (given / "config.yaml").exists() or not (Path(runs_dir) / given).is_dir():
        return given  # a path that is no run is refused by name when the run is opened
    return Path(runs_dir) / given


def read_questions(data_path: str | Path) -> list[Question]:
    """Every record of the test file as a Question, in order; PredictError naming the file or the row otherwise."""
    try:
        records = list(open_source(str(data_path), []).records)
    except DataError as err:
        raise PredictError("results.predict.unreadable", error=err) from None
    if not records:
        raise PredictError("results.predict.no_rows", path=str(data_path))
    questions = []
    for number, (where, record) in enumerate(records, 1):
        if isinstance(record, RowError):
            raise PredictError("results.predict.bad_row", row=number, where=where, error=record.message)
        asked = question_of(record) if isinstance(record, dict) else None
        if asked is None:
            fields = ", ".join(record) if isinstance(record, dict) else type(record).__name__
            raise PredictError("results.predict.no_question", row=number, where=where, fields=fields)
        questions.append(Question(number, record.get("id"), *asked))
    return questions


def question_of(record: dict) -> tuple[list[dict] | None, str | None] | None:
    """(messages, None) or (None, raw prompt) for one record, or None when it asks nothing."""
    lowered = {str(key).lower(): value for key, value in record.items()}
    turns = next((lowered[k] for k in ("messages", "conversations", "conversation") if k in lowered), None)
    if isinstance(turns, list):
        messages = _conversation(turns)
        return (messages, None) if messages else None
    if isinstance(lowered.get("prompt"), str) and lowered["prompt"].strip():
        return None, lowered["prompt"]
    text = question_text(lowered)
    if not text:
        return None
    system = lowered.get("system")
    head = [{"role": "system", "content": system}] if isinstance(system, str) and system.strip() else []
    return head + [{"role": "user", "content": text}], None


def _conversation(turns: list) -> list[dict]:
    """The turns as role/content messages, up to the last assistant turn (the reference, when there is one)."""
    messages = []
    for turn in turns:
        if not isinstance(turn, dict):
            return []
        role = ROLES.get(str(turn.get("role", turn.get("from", ""))).lower())
        content = turn.get("content", turn.get("value"))
        if role is None or not isinstance(content, str):
            return []
        messages.append({"role": role, "content": content})
    while messages and messages[-1]["role"] == "assistant":
        messages.pop()
    return messages if any(m["role"] == "user" for m in messages) else []


def answer_row(question: Question, texts: list[str], compiled: re.Pattern | None) -> dict:
    """The out file's row: the majority of the answers found (a tie goes to the first seen), and every text."""
    counts = dict(Counter(a for a in (found_answer(t, compiled) for t in texts) if a is not None).most_common())
    row = {"row": question.row}
    if question.id is not None:
        row["id"] = question.id
    row.update(answer=next(iter(counts), None), votes=counts, texts=texts)
    return row


def kept_rows(out_path: Path, questions: list[Question]) -> list[dict]:
    """The rows an earlier run already wrote to `out_path`, checked against this file's rows. A last line cut short
    (the run was killed while writing it) is dropped from the file, to be answered again."""
    if not out_path.exists():
        return []
    text = out_path.read_text(encoding="utf-8")
    lines, cut = text.split("\n")[:-1], text.rsplit("\n", 1)[-1]
    kept = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        i = len(kept)
        if not (isinstance(row, dict) and i < len(questions) and row.get("row") == questions[i].row
                and row.get("id") == questions[i].id):
            raise PredictError("results.predict.out_mismatch", path=str(out_path), line=number)
        kept.append(row)
    if cut:
        out_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    return kept


def check_request(data_path: str | Path, out_path: str | Path, votes: int, pattern: str,
                  csv_path: str | Path | None = None) -> tuple[list[Question], re.Pattern | None, list[dict]]:
    """Everything that can be wrong before the model loads: (questions, compiled pattern, rows already done)."""
    if votes < 1:
        raise PredictError("results.predict.bad_votes", votes=votes)
    compiled = compile_pattern(pattern)
    for path in filter(None, (out_path, csv_path)):
        if not Path(path).parent.is_dir():
            raise PredictError("results.predict.no_out_folder", path=str(path), folder=str(Path(path).parent))
    questions = read_questions(data_path)
    return questions, compiled, kept_rows(Path(out_path), questions)


def answer_questions(model, tokenizer, questions: list[Question], compiled: re.Pattern | None, *, votes: int = 1,
                     max_new_tokens: int = 256, temperature: float = 0.7, top_p: float = 0.9, seed: int = 42,
                     use_adapter: bool = True) -> Iterator[list[dict]]:
    """The out file's rows, a few at a time: greedy and batched for one vote; for several, `votes` samples per
    row seeded by the row's number, so that a resumed run answers as an uninterrupted one would."""
    if votes == 1:
        for start in range(0, len(questions), GREEDY_BATCH):
            chunk = questions[start:start + GREEDY_BATCH]
            answers = answer_batch(model, tokenizer, [q.prompt(tokenizer) for q in chunk],
                                   max_new_tokens=max_new_tokens, use_adapter=use_adapter)
            yield [answer_row(q, [text], compiled) for q, (text, _) in zip(chunk, answers)]
        return
    for question in questions:
        texts = generate(model, tokenizer, question.prompt(tokenizer), max_new_tokens, n=votes,
                         temperature=temperature if temperature > 0 else 0.7, top_p=top_p,
                         seed=seed + question.row, use_adapter=use_adapter)
        yield [answer_row(question, texts, compiled)]


def predict(run_dir: str | Path, data_path: str | Path, out_path: str | Path, *, votes: int = 1,
            pattern: str = DEFAULT_ANSWER_PATTERN, base: bool = False, csv_path: str | Path | None = None,
            max_new_tokens: int = 256, temperature: float = 0.7, seed: int = 42, progress=print,
            chat_model=None) -> PredictReport:
    """Answer every row of `data_path` into `out_path` (JSON lines), resuming what is there; the report at the end.
    Bad input is refused before the model loads."""
    from core.results.chat import ChatModel

    questions, compiled, kept = check_request(data_path, out_path, votes, pattern, csv_path)
    total, out_path = len(questions), Path(out_path)
    if kept:
        progress(message("results.predict.resumed", done=len(kept), total=total, path=str(out_path)))
    rows, started = list(kept), time.monotonic()
    if len(kept) < total:
        model = chat_model or ChatModel.from_run(run_dir, progress=progress)
        started = time.monotonic()  # rows/s counts answering, not loading
        with out_path.open("a", encoding="utf-8") as out:
            for answered in answer_questions(model.model, model.tokenizer, questions[len(kept):], compiled,
                                             votes=votes, max_new_tokens=max_new_tokens, temperature=temperature,
                                             seed=seed, use_adapter=not base):
                out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in answered))
                out.flush()  # a killed run keeps every row written so far
                rows += answered
                elapsed = time.monotonic() - started
                progress(message("results.predict.progress", done=len(rows), total=total,
                                 speed=round((len(rows) - len(kept)) / max(elapsed, 1e-9), 2)))
    if csv_path:
        write_csv(Path(csv_path), rows)
    return PredictReport(str(out_path), total, len(kept), [r["row"] for r in rows if r["answer"] is None],
                         time.monotonic() - started, str(csv_path) if csv_path else None)


def write_csv(path: Path, rows: list[dict]) -> None:
    """The submission file: id (the row's id, or its number when it has none) and answer (empty when none)."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "answer"])
        for row in rows:
            writer.writerow([row.get("id", row["row"]), "" if row["answer"] is None else row["answer"]])
