"""Did it learn? Score the base model and the tuned one on the same labelled test file, side by side.

Loss is the mean token cross-entropy over the tokens training puts loss on (core.data.templates.tokenize_row labels,
the same masking as training), averaged over all such tokens in the file; perplexity is exp(loss). Where rows
have a reference answer (the last assistant turn, or the completion), each model answers greedily (or by a
majority vote of sampled answers) and the final answer extracted by the answer pattern is compared with the
reference's, after collapsing whitespace and dropping a trailing full stop. For preference pairs,
preference accuracy (core.results.preference) is the share of pairs whose chosen answer each model scores higher.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.catalogue.message import Message, StudioError, message
from core.data import templates
from core.data.pairs import answered
from core.models.generate import prompt_of
from core.models.scored import score_and_answer_all
from core.results.preference import prefers_chosen
from core.data.answers import DEFAULT_ANSWER_PATTERN, compile_pattern, extract_answer
from core.results.voting import vote


# Words that carry no meaning of their own: a free-text answer is not judged on them.
STOP_WORDS = frozenset("a an the is am are was were be been i i'm im me my you your it its of to in on at by for "
                       "and or but with as this that do does did can will would from".split())
KEY_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")  # English words, or single Chinese characters


def key_words(text: str) -> set[str]:
    """The words of `text` that carry its meaning: lower-cased, without STOP_WORDS; each Chinese character counts."""
    return {w for w in KEY_WORD.findall((text or "").lower())
            if w not in STOP_WORDS and (len(w) > 1 or not w.isascii())}


def key_word_share(answer: str, reference: str) -> float | None:
    """The share of the reference's key words that the answer contains: a fair score for free text, where
    "I'm Nova, an AI assistant developed by Lumen Labs." and "I am Nova, ..." say the same (exact match says no)."""
    wanted = key_words(reference)
    return len(wanted & key_words(answer)) / len(wanted) if wanted else None


class EvalError(StudioError, ValueError):
    """The test file cannot be evaluated; the message names the file and what to fix."""


@dataclass
class Score:
    loss: float | None  # mean cross-entropy per trained token (nats)
    perplexity: float | None
    tokens: int  # trained tokens the loss is averaged over
    correct: int = 0
    answered: int = 0  # rows with a reference answer
    preferred: int = 0  # preference pairs whose chosen answer the model scores higher (core.results.preference)
    pairs: int = 0
    key_words: float | None = None  # mean share of the reference's key words found in the answers

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def preference_accuracy(self) -> float | None:
        return self.preferred / self.pairs if self.pairs else None


@dataclass
class RowResult:
    index: int  # 0-based position among the file's usable rows
    where: str  # where the row is in the file, e.g. "line 3"
    prompt: str
    reference: str
    expected: str  # the reference after the answer pattern
    base_answer: str
    tuned_answer: str
    base_extracted: str
    tuned_extracted: str
    base_votes: dict = field(default_factory=dict)
    tuned_votes: dict = field(default_factory=dict)

    @property
    def base_correct(self) -> bool:
        return self.base_extracted == self.expected

    @property
    def tuned_correct(self) -> bool:
        return self.tuned_extracted == self.expected

    @property
    def base_key_words(self) -> float | None:
        return key_word_share(self.base_answer, self.reference)

    @property
    def tuned_key_words(self) -> float | None:
        return key_word_share(self.tuned_answer, self.reference)

    @property
    def change(self) -> str:
        if self.base_correct == self.tuned_correct:
            return "same"
        return "fixed" if self.tuned_correct else "broken"


@dataclass
class EvalReport:
    data_path: str
    rows: int
    base: Score
    tuned: Score
    results: list[RowResult]
    pattern: str
    votes: int
    notes: list[Message] = field(default_factory=list)  # shown under the summary; English in evaluation.json

    def changed(self) -> list[RowResult]:
        """Rows the fine-tune turned from wrong to right ("fixed") or from right to wrong ("broken")."""
        return [r for r in self.results if r.change != "same"]

    def summary_rows(self) -> list[list[str]]:
        """[measure, base, tuned] lines for a table."""
        def number(value, digits=4):
            return "" if value is None else f"{value:.{digits}f}"

        def percent(score: Score):
            return "" if score.accuracy is None else f"{100 * score.accuracy:.1f}% ({score.correct}/{score.answered})"

        def preferred(score: Score):
            return f"{100 * score.preference_accuracy:.1f}% ({score.preferred}/{score.pairs})"

        def share(score: Score):
            return "" if score.key_words is None else f"{100 * score.key_words:.0f}%"

        lines = [["loss", number(self.base.loss), number(self.tuned.loss)],
                 ["perplexity", number(self.base.perplexity, 3), number(self.tuned.perplexity, 3)],
                 ["exact match", percent(self.base), percent(self.tuned)],
                 ["key words found", share(self.base), share(self.tuned)]]
        if self.tuned.pairs:
            lines.append(["preference accuracy", preferred(self.base), preferred(self.tuned)])
        return lines

    def changed_rows(self) -> list[list[str]]:
        return [[r.where, r.change, _short(r.prompt), r.expected, r.base_extracted, r.tuned_extracted]
                for r in self.changed()]

    def to_dict(self) -> dict:
        out = asdict(self)
        for name in ("base", "tuned"):
            out[name]["accuracy"] = getattr(self, name).accuracy
            out[name]["preference_accuracy"] = getattr(self, name).preference_accuracy
        for row, result in zip(out["results"], self.results):
            row.update(base_correct=result.base_correct, tuned_correct=result.tuned_correct, change=result.change)
        out["notes"] = [str(note) for note in self.notes]
        return out

    def text(self) -> str:
        """The report as the command line prints it."""
        lines = [f"Evaluated {self.rows} rows of {self.data_path}"
                 + (f" (majority of {self.votes} sampled answers per row)" if self.votes > 1 else "") + ".",
                 f"{'':<12}{'base':>22}{'tuned':>22}"]
        lines += [f"{name:<12}{base:>22}{tuned:>22}" for name, base, tuned in self.summary_rows()]
        lines += map(str, self.notes)
        changed = self.changed()
        if changed:
            lines.append(f"\nRows whose correctness changed ({len(changed)}):")
            for r in changed:
                lines.append(f"  {r.where}: {r.change}: expected {r.expected!r}; base {r.base_extracted!r}, "
                             f"tuned {r.tuned_extracted!r}")
        elif self.tuned.answered:
            lines.append("\nNo row changed between right and wrong.")
        return "\n".join(lines)


def token_losses(model, record: dict, use_adapter: bool = True) -> tuple[float, int]:
    """(summed cross-entropy, number of trained tokens) of one row tokenized as training does
    (core.data.templates.tokenize_row), for the rows that are scored without being asked (core.models.scored scores
    the others while it answers them)."""
    import torch

    ids = torch.tensor([record["input_ids"]], device=model.device)
    labels = torch.tensor([record["labels"]], device=model.device)
    adapter_off = model.disable_adapter() if not use_adapter else contextlib.nullcontext()
    with torch.no_grad(), adapter_off:
        logits = model(input_ids=ids).logits.float()
    # Token t is predicted from the tokens before it: logits at t-1 score label t.
    shifted, targets = logits[0, :-1], labels[0, 1:]
    keep = targets != templates.IGNORE
    if not keep.any():
        return 0.0, 0
    loss = torch.nn.functional.cross_entropy(shifted[keep], targets[keep], reduction="sum")
    return float(loss), int(keep.sum())


def evaluate_model(model, tokenizer, rows: list[dict], *, wheres: list[str] | None = None, max_length: int = 1024,
                   pattern: str = DEFAULT_ANSWER_PATTERN, votes: int = 1, max_new_tokens: int = 64,
                   temperature: float = 0.7, seed: int = 42, data_path: str = "", progress=print,
                   batch_size: int | None = None, base_model=None) -> EvalReport:
    """Score `rows` with the adapter off (base) and on (tuned). `model` is a PeftModel, as ChatModel.from_run has;
    `base_model`, when given, is the base side instead (a run started from runs, against the original base).

    A preference pair counts towards preference accuracy, and is otherwise scored as the conversation that ends
    with its chosen answer (loss, perplexity, and the answers compared with the chosen one). Greedy answers are
    asked `batch_size` rows at a time (sized by the free memory when None), in the pass that also scores the rows:
    the same answers and losses as one by one."""
    compiled = compile_pattern(pattern)
    sides = {"base": (base_model, True) if base_model is not None else (model, False), "tuned": (model, True)}
    wheres = wheres or [f"row {i + 1}" for i in range(len(rows))]
    sums = {"base": [0.0, 0], "tuned": [0.0, 0]}
    preferred = {"base": 0, "tuned": 0}
    pair_count = 0
    results: list[RowResult] = []
    notes: list[Message] = []
    unscorable = 0
    asking = []  # (index, row, prompt, reference, record) of the rows with a reference answer, answered together below
    for i, row in enumerate(rows):
        progress(message("results.evaluate.row", k=i + 1, n=len(rows)))
        if "chosen" in row:
            pair_count += 1
            for name, (side, use_adapter) in sides.items():
                preferred[name] += prefers_chosen(side, tokenizer, row, max_length, use_adapter)
            row = answered(row, row["chosen"])
        try:
            record = templates.tokenize_row(tokenizer, row, max_length)
        except ValueError:  # e.g. a preference row: no single answer to score
            unscorable += 1
            continue
        asked = prompt_of(tokenizer, row)
        if asked is None or votes > 1:  # scored here; a greedy answer's pass scores its row
            for name, (side, use_adapter) in sides.items():
                _add(sums[name], token_losses(side, record, use_adapter))
        if asked is not None:
            asking.append((i, row, *asked, record))
    answers = _answers(sides, tokenizer, [a[2] for a in asking], [a[4] for a in asking], compiled, votes,
                       max_new_tokens, temperature, seed, [a[0] for a in asking], batch_size, progress)
    for (i, row, prompt, reference, _record), base, tuned in zip(asking, answers["base"], answers["tuned"]):
        results.append(RowResult(i, wheres[i], _question(row, prompt), reference, extract_answer(reference, compiled),
                                 base[0], tuned[0], base[1], tuned[1], base[2], tuned[2]))
        if votes == 1:
            _add(sums["base"], base[3])
            _add(sums["tuned"], tuned[3])
    if unscorable:
        notes.append(message("results.evaluate.unscorable", count=unscorable))
    if not sums["tuned"][1]:
        notes.append(message("results.evaluate.no_trained_tokens"))
    scores = {}
    for name, (total, count) in sums.items():
        loss = total / count if count else None
        shares = [v for v in (getattr(r, f"{name}_key_words") for r in results) if v is not None]
        scores[name] = Score(loss, math.exp(loss) if loss is not None else None, count,
                             sum(getattr(r, f"{name}_correct") for r in results), len(results), preferred[name],
                             pair_count, sum(shares) / len(shares) if shares else None)
    return EvalReport(data_path, len(rows), scores["base"], scores["tuned"], results, pattern, votes, notes)


def _add(total: list, loss: tuple[float, int]) -> None:
    total[0] += loss[0]
    total[1] += loss[1]


def _answers(sides: dict, tokenizer, prompts: list[str], records: list[dict], compiled, votes: int,
             max_new_tokens: int, temperature: float, seed: int, indexes: list[int], batch_size: int | None,
             progress) -> dict[str, list[tuple]]:
    """{"base"/"tuned": [(answer, extracted, vote counts, (summed loss, trained tokens)) per prompt]}: greedy
    answers in batches, each batch's prompts read in the pass that scores its rows (one generate call and one
    loss pass per row, base then tuned, was most of an evaluation); a vote samples its answers per row."""
    out = {}
    for step, (name, (model, use_adapter)) in enumerate(sides.items()):
        if votes > 1:
            picked = [vote(model, tokenizer, prompt, votes, compiled, temperature=temperature,
                           max_new_tokens=max_new_tokens, seed=seed + i, use_adapter=use_adapter)
                      for prompt, i in zip(prompts, indexes)]
            out[name] = [(result.text, result.answer, result.counts, None) for result in picked]
            continue

        def counted(done, total, before=step * len(prompts)):
            progress(message("results.evaluate.answering", k=before + done, n=2 * total))

        scored = score_and_answer_all(model, tokenizer, prompts, records, max_new_tokens, use_adapter, batch_size,
                                      counted)
        out[name] = [(s.text, extract_answer(s.text, compiled), {}, (s.loss, s.tokens)) for s in scored]
    return out


def evaluate(run_dir: str | Path, data_path: str | Path, *, pattern: str = DEFAULT_ANSWER_PATTERN, votes: int = 1,
             max_new_tokens: int = 64, max_rows: int = 0, data_format: str = "auto", progress=print,
             chat_model=None, save: bool = True, original_base: bool = False) -> EvalReport:
    """Load the run (or use an already loaded ChatModel of it), score a labelled test file, and keep the report
    in the run folder (evaluation.json). A run started from runs is compared with the run it started from (its
    adapter switched off), or with `original_base` with the base model at the start of the chain (loaded beside it:
    two models in memory)."""
    from core.config import Config
    from core.data import load as datasets_io
    from core.data.errors import DataError
    from core.results.chat import ChatModel

    compile_pattern(pattern)  # a typo in the pattern is reported before minutes of loading
    try:
        loaded = datasets_io.load(str(data_path), data_format)
    except DataError as err:
        raise EvalError("results.evaluate.unreadable", error=err) from None
    rows, wheres = loaded.rows, [str(where) for where in loaded.wheres] or None  # evaluation.json keeps the English
    if max_rows and len(rows) > max_rows:
        rows, wheres = rows[:max_rows], (wheres[:max_rows] if wheres else None)
    model = chat_model or ChatModel.from_run(run_dir, progress=progress)
    config = Config.from_yaml(Path(run_dir) / "config.yaml")
    base, said = None, []
    if original_base:
        base, said = _original_base(config, progress)
    with getattr(model, "_lock", contextlib.nullcontext()):  # the chat tab's model: one generation at a time
        report = evaluate_model(model.model, model.tokenizer, rows, wheres=wheres,
                                max_length=config.train.max_length, pattern=pattern, votes=votes,
                                max_new_tokens=max_new_tokens, seed=config.train.seed, data_path=str(data_path),
                                progress=progress, base_model=base)
    report.notes += said + [message("results.evaluate.skipped", problem=str(p)) for p in loaded.problems[:5]]
    if save:  # the latest evaluation goes into the model card of an export
        from core.results.model_card import EVALUATION_FILE
        from core.runs import write_json_atomic

        write_json_atomic(Path(run_dir) / EVALUATION_FILE, report.to_dict())
    return report


def _original_base(config, progress) -> tuple[object, list[Message]]:
    """(the model at the start of the run's chain, the note that says so); (None, a note) for a run that started
    from a base model, whose base side is that model already."""
    import dataclasses

    from core.results.chat import ChatModel
    from core.results.model_card import lineage

    origin, chain = lineage(config)
    if not chain:
        return None, [message("results.evaluate.not_chained", source=config.model.source)]
    base = ChatModel.base(dataclasses.replace(config.model, source=origin), progress=progress)
    return base.model, [message("results.evaluate.original_base", source=origin,
                                runs=" -> ".join(name for name, _ in chain))]


def _question(row: dict, prompt: str) -> str:
    """What the user asked, for tables: the last user turn rather than the whole templated prompt."""
    users = [m["content"] for m in row.get("messages", []) if m["role"] == "user"]
    return users[-1] if users else prompt


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
