"""What usable rows may still get wrong, and what training on them will cost, seen before anything loads a model.

`check()` tokenizes rows exactly as training does (core.data.templates.tokenize_row) and returns warnings, each with
the rows it concerns, and the statistics the Data tab and `launch.py data` show: token lengths against
max_length, the share of tokens that carry loss, steps per epoch and, once this machine has trained this model,
the time per epoch. Warnings and statistics are Messages (core/catalogue/data.py): str() is the English the command
line prints, text_of() the page's language.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import dataclass, field

from core.catalogue.message import Message
from core.data import blocks
from core.data import templates
from core.data.chat_layout import TemplateError
from core.data.formats import PLACEHOLDER, Mapping

# Other model families' chat markup. Found inside a row's text, it sits on top of this model's own template, so
# the model learns two layouts at once (or a literal marker) instead of one.
FOREIGN_MARKERS = ("<|im_start|>", "<|im_end|>", "[INST]", "[/INST]", "<<SYS>>", "<s>", "</s>", "<|user|>",
                   "<|assistant|>", "<|system|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                   "<|begin_of_text|>", "<start_of_turn>", "<end_of_turn>", "<|endoftext|>", "### Instruction:",
                   "### Response:", "\nHuman:", "\nAssistant:")
# Tokenizing is the slow part; past this many rows, statistics come from a sample and say so.
MAX_CHECKED_ROWS = 2000
# Chinese, Japanese and Korean characters (ideographs, kana, hangul): each says about what a word says elsewhere.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
CJK_CHARACTER = re.compile(f"[{CJK}]")
OTHER_WORD = re.compile(f"(?:(?![{CJK}])[^\\W_])+")
# "Most of the text": CJK characters against CJK characters plus the other words, so that "Nova" or "AI" in a
# Chinese sentence does not outweigh it letter by letter.
CJK_SHARE = 0.5
# A vocabulary made for these languages spends about one token per character; one made for English spells most of
# them in UTF-8 bytes, 2 to 3 tokens each, and the model learns them slowly or not at all.
CJK_TOKENS_PER_CHARACTER = 1.5
CJK_SAMPLE = 4000  # characters of the data tokenized to measure that


# A warning's short name, by kind (the Data tab's "Show rows with" choices).
WARNING_NAMES = {"too_long": Message("data.check.name.too_long"), "all_cut": Message("data.check.name.all_cut"),
                 "no_eos": Message("data.check.name.no_eos"), "duplicate": Message("data.check.name.duplicate"),
                 "foreign_markup": Message("data.check.name.foreign_markup"),
                 "placeholder": Message("data.check.name.placeholder"),
                 "no_template": Message("data.check.name.no_template"), "template": Message("data.check.name.template"),
                 "thinking": Message("data.check.name.thinking"),
                 "thinking_kept": Message("data.check.name.thinking_kept"),
                 "bad_rows": Message("data.check.name.bad_rows"),
                 "language": Message("data.check.name.language")}
# "1 row is" / "3 rows are" by the verb that follows the count (English agrees with it; Chinese needs no verb).
COUNTED = {"": ("data.check.count.row", "data.check.count.rows"),
           "is": ("data.check.count.row_is", "data.check.count.rows_are"),
           "loses": ("data.check.count.row_loses", "data.check.count.rows_lose"),
           "repeats": ("data.check.count.row_repeats", "data.check.count.rows_repeat"),
           "contains": ("data.check.count.row_contains", "data.check.count.rows_contain"),
           "uses": ("data.check.count.row_uses", "data.check.count.rows_use")}


@dataclass
class DataWarning:
    kind: str  # too_long, all_cut, no_eos, duplicate, foreign_markup, placeholder, no_template, template, thinking,
    # thinking_kept, bad_rows, language
    message: Message  # str() is the English; text_of() the page's language
    rows: list[int] = field(default_factory=list)  # indices into LoadedData.rows

    @property
    def name(self) -> Message:
        """The warning's short name ("Too long")."""
        return WARNING_NAMES[self.kind]

    @property
    def values(self) -> dict:
        """The figures inside `message` (rows, max_length ...)."""
        return self.message.values


@dataclass
class Report:
    warnings: list[DataWarning]
    lengths: list[int]  # tokens per checked row, before cutting
    trained_tokens: int  # tokens that carry loss, after cutting to max_length
    seen_tokens: int  # tokens the model sees, after cutting
    checked: int  # rows checked (all, or the first MAX_CHECKED_ROWS)
    max_length: int

    @property
    def trained_share(self) -> float:
        return self.trained_tokens / self.seen_tokens if self.seen_tokens else 0.0


def check(rows: list[dict], tokenizer, max_length: int, *, template_note: bool | str = False,
          unfilled: dict | None = None) -> Report:
    """Warnings and statistics for `rows` as the tokenizer (with its chat template) and max_length see them.

    `template_note` names the turn format given to a model without a chat template (ensure_chat_template added one,
    e.g. "Gemma" or "ChatML"), or is False; `unfilled` maps
    placeholder names the data uses but the config gives no value for to the number of rows using them.
    """
    checked = rows[:MAX_CHECKED_ROWS]
    warnings: list[DataWarning] = []
    if template_note:
        layout = template_note if isinstance(template_note, str) else "ChatML"
        warnings.append(DataWarning("no_template", Message("data.check.no_template", {"layout": layout})))
    warnings += _language_fit(checked, tokenizer)
    seen = _measure(checked, tokenizer, max_length)
    if not seen.lengths:  # every row refused: nothing to measure, and training would have nothing to learn
        raise TemplateError("data.check.no_row_usable", reason=seen.refused[0][1])

    if seen.long_rows:
        warnings.append(DataWarning("too_long", Message("data.check.too_long", {
            "count": _count(seen.long_rows, "is"), "max_length": max_length, "cut_tokens": seen.cut_tokens,
            "longest": max(seen.lengths)}), seen.long_rows))
    if seen.all_cut:
        count = _count(seen.all_cut, "loses")
        warnings.append(DataWarning("all_cut", Message("data.check.all_cut", {"count": count}), seen.all_cut))
    if seen.no_eos:
        reason = Message("data.check.no_eos_token" if tokenizer.eos_token_id is None else "data.check.eos_cut")
        warnings.append(DataWarning("no_eos", Message("data.check.no_eos", {"count": _count(seen.no_eos),
                                                                            "reason": reason}), seen.no_eos))
    if seen.dropped_thinking:
        count = _count(seen.dropped_thinking)
        warnings.append(DataWarning("thinking", Message("data.check.thinking", {"count": count}),
                                    seen.dropped_thinking))
    if seen.kept_thinking:
        rows = [index for index, _ in seen.kept_thinking]
        answers = sum(count for _, count in seen.kept_thinking)
        answers = Message("data.check.count.answer") if answers == 1 else Message("data.check.count.answers",
                                                                                   {"answers": answers})
        warnings.append(DataWarning("thinking_kept", Message("data.check.thinking_kept", {
            "count": _count(rows), "answers": answers}), rows))
    if seen.refused:
        warnings.append(DataWarning("template", Message("data.check.template", {
            "count": _count(seen.refused, "is"), "reason": seen.refused[0][1]}), [i for i, _ in seen.refused]))
    warnings += _duplicates(checked)
    warnings += _foreign_markup(checked, tokenizer)
    if unfilled:
        rows_using = [i for i, row in enumerate(checked)
                      if any(m in unfilled for text in _texts(row) for m in PLACEHOLDER.findall(text))]
        names = ", ".join("{{" + name + "}}" for name in sorted(unfilled))
        warnings.append(DataWarning("placeholder", Message("data.check.placeholder", {
            "count": _count(rows_using, "uses"), "names": names}), rows_using))
    return Report(warnings, seen.lengths, seen.trained_total, seen.seen_total, len(checked), max_length)


@dataclass
class _Measured:
    """What one pass over the checked rows found (row indexes into them)."""

    lengths: list = field(default_factory=list)
    long_rows: list = field(default_factory=list)
    cut_tokens: int = 0
    all_cut: list = field(default_factory=list)
    no_eos: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # (index, reason)
    dropped_thinking: list = field(default_factory=list)
    kept_thinking: list = field(default_factory=list)  # (index, answers whose thinking the template leaves out)
    trained_total: int = 0
    seen_total: int = 0


def _measure(rows: list[dict], tokenizer, max_length: int) -> _Measured:
    """Tokenize each row as training does and note its length, what max_length cuts, and what it trains."""
    seen = _Measured()
    stops = templates.turn_end_ids(tokenizer)
    for index, row in enumerate(rows):
        try:
            record = templates.tokenize_row(tokenizer, row, max_length=10 ** 9)
        except templates.RowTemplateError as err:
            seen.refused.append((index, err.message))
            continue
        ids, labels = record["input_ids"], record["labels"]
        seen.lengths.append(len(ids))
        kept = labels[:max_length]
        trained = sum(1 for label in kept if label != templates.IGNORE)
        seen.trained_total += trained
        seen.seen_total += len(kept)
        if len(ids) > max_length:
            seen.long_rows.append(index)
            seen.cut_tokens += len(ids) - max_length
            if trained == 0:
                seen.all_cut.append(index)
        if any(not stops.intersection(run) for run in _trained_runs(ids[:max_length], kept)):
            seen.no_eos.append(index)
        answers = [m for m in row.get("messages", []) if m["role"] == "assistant"]
        thought = sum(m["content"].count("</think>") for m in answers)
        written = tokenizer.decode(ids)
        # Thinking is trained where a reasoning model's template writes or drops it (Qwen3, DeepSeek-R1); a
        # template with no place for it (reasoning_content under Llama's) leaves it out.
        reasoned = [m["reasoning_content"].strip() for m in answers if m.get("reasoning_content")]
        if (thought and written.count("</think>") < thought) or any(r not in written for r in reasoned):
            seen.dropped_thinking.append(index)
        written_in = templates.thinking_kept(tokenizer, row)
        if written_in:
            seen.kept_thinking.append((index, written_in))
    return seen


def _count(rows: list, verb: str = "") -> Message:
    """'1 row is', '3 rows are': warnings are read by people."""
    one, many = COUNTED[verb]
    return Message(one) if len(rows) == 1 else Message(many, {"rows": len(rows)})


def _trained_runs(ids: list[int], labels: list[int]) -> list[list[int]]:
    """The token ids of each stretch that carries loss: one per assistant turn (or the completion, or the text)."""
    runs, current = [], []
    for token_id, label in zip(ids, labels):
        if label != templates.IGNORE:
            current.append(token_id)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _duplicates(rows: list[dict]) -> list[DataWarning]:
    seen: dict[str, int] = {}
    repeats = []
    for index, row in enumerate(rows):
        key = json.dumps(row, sort_keys=True, ensure_ascii=False)
        if key in seen:
            repeats.append(index)
        else:
            seen[key] = index
    if not repeats:
        return []
    return [DataWarning("duplicate", Message("data.check.duplicate", {"count": _count(repeats, "repeats")}), repeats)]


def _foreign_markup(rows: list[dict], tokenizer) -> list[DataWarning]:
    markers = set(FOREIGN_MARKERS) | {t for t in getattr(tokenizer, "all_special_tokens", []) if len(t) > 2}
    found: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        for text in _texts(row):
            for marker in markers:
                if marker in text:
                    found.setdefault(marker.strip(), []).append(index)
    warnings = []
    for marker, indices in sorted(found.items(), key=lambda item: -len(item[1])):
        indices = sorted(set(indices))
        warnings.append(DataWarning("foreign_markup", Message("data.check.foreign_markup", {
            "count": _count(indices, "contains"), "marker": repr(marker)}), indices))
    return warnings


def cjk_share(rows: list[dict]) -> tuple[float, str]:
    """The share of the rows' text that is Chinese, Japanese or Korean (each such character against each other
    word), and the first CJK_SAMPLE of those characters, in order."""
    characters, count, words = [], 0, 0
    for row in rows:
        for text in _texts(row):
            found = CJK_CHARACTER.findall(text)
            count += len(found)
            words += len(OTHER_WORD.findall(text))
            if len(characters) < CJK_SAMPLE:
                characters += found[:CJK_SAMPLE - len(characters)]
    return (count / (count + words) if count + words else 0.0), "".join(characters)


def tokens_per_character(tokenizer, characters: str) -> float:
    """How many tokens this tokenizer spends on each of these characters, measured on the tokenizer itself."""
    if not characters:
        return 0.0
    return len(tokenizer(characters, add_special_tokens=False)["input_ids"]) / len(characters)


def _language_fit(rows: list[dict], tokenizer) -> list[DataWarning]:
    """A warning when most of the data is CJK text and this model's vocabulary spells those characters in bytes:
    the tuned model then answers nonsense in that language."""
    share, characters = cjk_share(rows)
    if share <= CJK_SHARE:
        return []
    per_character = tokens_per_character(tokenizer, characters)
    if per_character <= CJK_TOKENS_PER_CHARACTER:
        return []
    return [DataWarning("language", Message("data.check.language", {"share": 100 * share,
                                                                    "per_character": per_character}))]


def _texts(row: dict):
    for message in row.get("messages", []):
        yield message["content"]
    for key in ("prompt", "completion", "text", "chosen", "rejected"):
        if isinstance(row.get(key), str):
            yield row[key]


# ---------------------------------------------------------------------------------------------- what it will cost

@dataclass
class Plan:
    train_rows: int
    eval_rows: int
    steps_per_epoch: int
    total_steps: int
    trained_tokens_per_epoch: int
    seconds_per_epoch: float | None  # None until a run of this model on this machine has measured its speed
    speed_source: str = ""  # which run the speed comes from
    replay_rows: int = 0  # knowledge-replay rows asked for, counted in the steps (the run drops unfinished answers)


def plan(report: Report, train_rows: int, eval_rows: int, batch_size: int, grad_accum: int, epochs: float,
         max_steps: int, speed: tuple[float, str] | None = None, replay_rows: int = 0) -> Plan:
    """Steps and time for the training split plus the knowledge-replay rows (the same count `launch.py train` and
    the fit check plan with); `speed` is (trained tokens per second, where that was measured)."""
    steps_per_epoch = max(1, math.ceil((train_rows + replay_rows) / (batch_size * grad_accum)))
    total = max_steps if max_steps > 0 else math.ceil(steps_per_epoch * epochs)
    per_row = report.trained_tokens / report.checked if report.checked else 0
    tokens = round(per_row * (train_rows + replay_rows))
    seconds = tokens / speed[0] if speed and speed[0] > 0 else None
    return Plan(train_rows, eval_rows, steps_per_epoch, total, tokens, seconds, speed[1] if speed else "",
                replay_rows)


def measured_speed(runs: list, model_source: str) -> tuple[float, str] | None:
    """Median trained tokens per second of the newest finished run of this model here, from its metrics.jsonl."""
    from core.config import Config, ConfigError

    for run in runs:  # newest first
        try:
            if Config.from_yaml(run.config_file).model.source != model_source:
                continue
        except ConfigError:  # a run folder with a damaged config tells us nothing
            continue
        rates = [m["tokens_per_second"] for m in run.read_metrics()[0] if m.get("tokens_per_second")]
        if len(rates) >= 3:
            return statistics.median(rates[1:]), run.path.name  # the first step includes warm-up
    return None


def histogram_bins(lengths: list[int], max_length: int, bins: int = 30) -> list[tuple[int, int, int]]:
    """(low, high, count) bins over the token lengths, for a chart that any plotting library can draw."""
    if not lengths:
        return []
    top = max(max(lengths), max_length)
    width = max(1, math.ceil(top / bins))
    counts = [0] * (top // width + 1)
    for length in lengths:
        counts[length // width] += 1
    return [(i * width, (i + 1) * width, count) for i, count in enumerate(counts)]


# ---------------------------------------------------------------------------------------------- all of it at once

@dataclass
class Inspection:
    """Everything the Data tab and `launch.py data` show about a dataset under a run's config."""

    loaded: object  # core.data.load.LoadedData
    report: Report
    plan: Plan
    held_out: object | None = None  # the separate eval file's LoadedData, when data.eval_path is set


def inspect(config, tokenizer, runs: list = (), loaded=None) -> Inspection:
    """Load the config's data (unless given), check it with this tokenizer, and plan the run.

    Raises core.data.load.DataError for a file that cannot be used at all.
    """
    from core.data import load as datasets_io

    mapping = Mapping(dict(config.data.columns), dict(config.data.roles))
    if loaded is None:
        loaded = datasets_io.load(config.data.path, config.data.format, mapping=mapping,
                                  placeholders=dict(config.data.placeholders))
    held_out = None
    trained = _method_rows(config.train.method, loaded)  # the rows the run trains on (kto's halves, cpt's text)
    if config.data.eval_path:
        held_out = datasets_io.load(config.data.eval_path, config.data.format, mapping=mapping,
                                    placeholders=dict(config.data.placeholders))
        train_rows, eval_count = trained, len(held_out.rows)
    else:
        train, evaluation = datasets_io.split_indices(len(trained), config.data.eval_fraction, config.train.seed)
        train_rows, eval_count = [trained[i] for i in train], len(evaluation)
    # Steps are counted as the run counts them: cpt trains blocks of max_length tokens, not documents; grpo asks
    # each question num_generations times.
    train_count = (len(blocks.blocks(tokenizer, train_rows, config.train.max_length))
                   if config.train.method == "cpt" else len(train_rows))
    if config.train.method == "grpo":
        train_count *= config.train.num_generations
    unfilled = {name: count for name, count in loaded.placeholders.items() if name not in config.data.placeholders}
    report = check(loaded.rows, tokenizer, config.train.max_length,
                   template_note=getattr(tokenizer, "studio_added_template", False), unfilled=unfilled)
    if not config.data.skip_bad_rows:  # the run refuses such a file: the check says so too, in the same words
        report.warnings[:0] = [_refused(data) for data in (loaded, held_out) if data is not None and data.skipped]
    t = config.train
    speed = measured_speed(list(runs), config.model.source)
    # A model without a chat template of its own has no answers to replay (the run skips replay then).
    replay_rows = 0 if getattr(tokenizer, "studio_added_template", False) or t.method != "sft" else config.data.replay
    return Inspection(loaded, report, plan(report, train_count, eval_count, t.batch_size, t.grad_accum, t.epochs,
                                           t.max_steps, speed, replay_rows), held_out)


def _refused(data) -> DataWarning:
    """The run's own refusal of a file with rows that cannot be used (core.data.load.load_for_training's error),
    as a warning: the rows it names are not among the usable ones, so it lists none."""
    from core.data.errors import joined

    return DataWarning("bad_rows", Message("data.load.bad_rows", {
        "skipped": data.skipped, "total": data.total, "path": data.path,
        "problems": joined([p.said() for p in data.problems[:3]]), "more": " ..." if data.skipped > 3 else ""}))


def _method_rows(method: str, loaded) -> list[dict]:
    """The rows `method` trains on; the file's own rows where it does not fit the method (the run refuses it and
    says why, so the plan here stays a rough one)."""
    from core.data import method_rows
    from core.data.errors import DataError

    try:
        return method_rows.for_method(method, loaded).rows
    except DataError:
        return loaded.rows


def summary_lines(inspection: Inspection) -> list[Message]:
    """The statistics in plain sentences (the CLI prints their English; the studio shows them beside its chart)."""
    report, p = inspection.report, inspection.plan
    lengths = report.lengths
    sample = ("" if report.checked == len(inspection.loaded.rows)
              else Message("data.check.tokens_sample", {"rows": report.checked}))
    lines = [Message("data.check.split", {
                 "train": p.train_rows, "held_out": p.eval_rows,
                 "separate": Message("data.check.split_separate") if inspection.held_out else "",
                 "replay": Message("data.check.split_replay", {"rows": p.replay_rows}) if p.replay_rows else ""}),
             Message("data.check.tokens", {"sample": sample, "median": statistics.median(lengths),
                                           "longest": max(lengths), "max_length": report.max_length,
                                           "share": 100 * report.trained_share}),
             Message("data.check.steps", {"per_epoch": p.steps_per_epoch, "total": p.total_steps,
                                          "tokens": p.trained_tokens_per_epoch})]
    if not inspection.loaded.complete:
        lines.append(Message("data.check.partial", {"rows": inspection.loaded.total}))
    if p.seconds_per_epoch is not None:
        lines.append(Message("data.check.time", {"per_epoch": duration(p.seconds_per_epoch), "run": p.speed_source}))
    else:
        lines.append(Message("data.check.time_unknown"))
    return lines


def duration(seconds: float) -> Message:
    """A duration as people say it ('45 s', '12 min', '2.5 h'; core.runs.duration_text's English), as a message."""
    if seconds < 90:
        return Message("duration.seconds", {"seconds": seconds})
    if seconds < 5400:
        return Message("duration.minutes", {"minutes": seconds / 60})
    return Message("duration.hours", {"hours": seconds / 3600})

