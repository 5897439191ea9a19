"""The catalogue holds every text a user sees once, in every language, and core says things only by key.

A missing language, a Chinese text that lost a {field} of its English, a key that code says but the catalogue
lacks, or a core error raised with prose instead of a key each fail here, so a reworded sentence can never turn
the Chinese page English unnoticed.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pickle
import pkgutil
import re
import string
from pathlib import Path


import core
from core.catalogue.language import LANGUAGES, speaking
from core.catalogue.message import Message, StudioError, entries, say, text_of
from core.config import ChatSettings, ComputeConfig, DataConfig, LoraConfig, ModelConfig, TrainConfig

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
SECTIONS = {"model": ModelConfig, "data": DataConfig, "lora": LoraConfig, "train": TrainConfig,
            "compute": ComputeConfig, "chat": ChatSettings}


def fields_of(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_entry_has_every_language_and_the_same_fields():
    wrong = []
    for key, texts in entries().items():
        if any(not text.strip() for text in texts):
            wrong.append(f"{key}: an empty text")
        elif len({frozenset(fields_of(text)) for text in texts}) != 1:
            wrong.append(f"{key}: the languages fill different fields {[sorted(fields_of(t)) for t in texts]}")
    assert not wrong, "\n".join(wrong)


def test_chinese_texts_are_chinese():
    """A Chinese column that only copies the English is a missing translation (short codes and names excepted)."""
    zh = LANGUAGES.index("zh")
    copied = [key for key, texts in entries().items()
              if not CJK.search(texts[zh]) and re.search(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", texts[zh])]
    assert not copied, f"English in the Chinese column: {copied}"


def test_every_option_has_a_label_and_a_help_line():
    keys = ["name", "sweep_of"] + [f"{prefix}.{f.name}" for prefix, section in SECTIONS.items()
                                   for f in dataclasses.fields(section)]
    missing = [f"{key}.{part}" for key in keys for part in ("label", "help") if f"{key}.{part}" not in entries()]
    assert not missing, missing
    option_keys = {key.rsplit(".", 1)[0] for key in importlib.import_module("core.catalogue.options").TEXTS
                   if key.endswith((".label", ".help"))}
    assert not option_keys - set(keys), f"texts for options that do not exist: {sorted(option_keys - set(keys))}"


def test_say_follows_the_context_and_nests_messages():
    assert say("state.failed") == "failed"
    with speaking("zh-CN"):
        assert say("state.failed") == "失败"
        assert str(Message("state.failed")) == "failed", "str() of a message is the English, for the log"
        assert text_of(Message("state.failed")) == "失败"
    assert say("state.failed", lang="zh") == "失败"


def test_an_error_crosses_a_process_boundary_with_its_key():
    err = StudioError("state.failed")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is StudioError and again.key == "state.failed" and str(again) == "failed"


def test_a_message_keeps_its_key_and_values_in_json():
    inner = Message("state.failed")
    outer = Message("probes.step", {"step": 3, "why": inner})
    assert Message.from_json(outer.to_json()) == outer


# ---- every key the code says exists -----------------------------------------------------------------------------

SAYERS = {"say", "Message", "message", "StudioError"}
KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


def python_files():
    for folder in ("core", "webui"):
        yield from (ROOT / folder).rglob("*.py")
    yield ROOT / "launch.py"


def error_classes() -> set[str]:
    for info in pkgutil.walk_packages(core.__path__, "core."):
        importlib.import_module(info.name)
    found, todo = set(), [StudioError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


def test_every_key_said_in_the_code_is_in_the_catalogue():
    """Constant keys given to say(), Message(), or any of the studio's errors."""
    callers = SAYERS | error_classes()
    missing = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in callers or (name == "say" and not isinstance(node.func, ast.Name)):
                continue  # session.say(...) writes the run log, which stays English
            first = node.args[0]
            if name == "say" and len(node.args) > 1 and (isinstance(first, ast.Name) or (
                    isinstance(first, ast.Constant) and first.value in LANGUAGES)):
                first = node.args[1]  # webui's say(lang, key) while it lasts
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and KEY.match(first.value) \
                    and first.value not in entries():
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {first.value}")
    assert not missing, "\n".join(missing)


def test_core_raises_its_errors_by_key():
    """Every error core raises for a user carries a catalogue key: never an f-string or English prose."""
    prose = []
    errors = error_classes()
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in errors and node.exc.args:
                first = node.exc.args[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str) and " " not in first.value):
                    prose.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not prose, "raised with prose instead of a key:\n" + "\n".join(prose)


def test_every_error_class_of_core_says_its_message_by_key():
    """An exception class core defines for users derives from StudioError (and keeps its built-in base)."""
    error_classes()  # imports every module of core
    plain = []
    for info in pkgutil.walk_packages(core.__path__, "core."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == info.name \
                    and not issubclass(value, StudioError):
                plain.append(f"{info.name}.{name}")
    assert not plain, plain


def test_every_entry_is_said_somewhere():
    """A text no code says is dead weight for translators. A key counts as said when the code holds it whole, or
    builds it: an f-string or a sum starting with its prefix ('state.' + name) or ending with its suffix ('.label')."""
    whole, starts, ends = set(), set(), set()
    for path in python_files():
        if "catalogue" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                whole.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                first, last = node.values[0], node.values[-1]
                if isinstance(first, ast.Constant) and "." in first.value:
                    starts.add(first.value)
                if isinstance(last, ast.Constant) and last.value.startswith("."):
                    ends.add(last.value)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.left, ast.Constant) \
                    and isinstance(node.left.value, str) and "." in node.left.value:
                starts.add(node.left.value)
    unsaid = [key for key in entries() if key not in whole and not key.startswith(tuple(starts))
              and not key.endswith(tuple(ends))]
    assert not unsaid, f"catalogue entries no code says: {unsaid}"
