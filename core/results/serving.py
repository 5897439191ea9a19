"""What `launch.py demo` serves: a run's tuned model, or an exported model folder, with a title, a description and
example prompts to show it to others.

The page and the OpenAI-compatible API (core.results.openai_api) both serve one `Served`, and both have its answers
written by the model's one batcher (core.results.batching), so visitors and API clients are answered together. Its
words start from the run (its name, base model and data; examples from the rows it held out, which it never trained
on) and the presenter can edit them: they are kept in demo.json beside the model, so an edit survives a restart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.catalogue.message import Message, message, text_of
from core.config import ChatSettings, Config, ModelConfig
from core.results.batching import RETRY_AFTER, QueueFull, batcher_for
from core.results.chat import ChatError, ChatModel, open_trained_run
from core.runs import Run, write_json_atomic

DEMO_FILE = "demo.json"
EXAMPLES = 4
FALLBACK_EXAMPLES = ["Who are you?", "What can you do?"]


@dataclass
class Showcase:
    title: str
    description: str
    examples: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> "Showcase | None":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["title"]), str(data["description"]), [str(e) for e in data.get("examples", [])])
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass
class Served:
    """One model to show: a run folder (base + adapter, so the base model is one switch away) or an exported,
    merged folder (the model alone)."""

    folder: Path
    kind: str  # "run" | "export"
    name: str  # the model id the API lists
    showcase: Showcase

    @property
    def has_base(self) -> bool:
        return self.kind == "run"

    @property
    def base_name(self) -> str:
        return f"{self.name}-base"

    def model_ids(self) -> list[str]:
        return [self.name, self.base_name] if self.has_base else [self.name]

    def load(self, progress=print) -> ChatModel:
        if self.kind == "run":
            return ChatModel.from_run(self.folder, progress=progress)
        model = ChatModel.base(ModelConfig(source=str(self.folder)), progress=progress)
        model.label = self.name
        return model

    def save_showcase(self, title: str, description: str) -> Showcase:
        """Keep the presenter's words in demo.json (the examples stay as they are)."""
        title = " ".join(title.split()) or self.name
        self.showcase = Showcase(title[:200], description.strip()[:4000], self.showcase.examples)
        write_json_atomic(self.folder / DEMO_FILE, asdict(self.showcase))
        return self.showcase


def demo_answer(model: ChatModel, messages: list[dict], settings: ChatSettings,
                use_adapter: bool = True) -> Iterator[str]:
    """A demo visitor's answer, streamed as it is written beside every other visitor's and the API's (one batcher per
    model); QueueFull ("demo.busy") at once when its rows and queue are full. Closing the iterator (the page's Stop,
    a closed tab) frees this answer's row only; while it waits for a row it yields "" now and then so that it can be
    closed (batching.Answer.text)."""
    try:
        written = batcher_for(model).submit(messages, settings, use_adapter)
    except QueueFull:
        raise QueueFull("demo.busy", seconds=RETRY_AFTER) from None
    return written.text()


def open_served(path: str | Path) -> Served:
    """A run folder with an adapter, or an exported model folder; ChatError saying what the folder lacks otherwise."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise ChatError("results.serving.not_a_folder", path=str(path))
    if (folder / "config.yaml").exists():
        run, config = open_trained_run(folder)
        kind, showcase = "run", Showcase.read(folder / DEMO_FILE) or run_showcase(run, config)
    elif (folder / "config.json").exists():
        if not any(folder.glob("*.safetensors")):
            raise ChatError("results.serving.no_safetensors", folder=str(folder))
        kind, showcase = "export", Showcase.read(folder / DEMO_FILE) or Showcase(folder.name, "", FALLBACK_EXAMPLES)
    else:
        raise ChatError("results.serving.neither", folder=str(folder))
    return Served(folder, kind, _model_id(folder.name), showcase)


def run_showcase(run: Run, config: Config) -> Showcase:
    """The run's own words: its name, what it was tuned from and on, and questions from its held-out rows."""
    return Showcase(run.name, str(run_description(config)), example_prompts(run, config))


def run_description(config: Config) -> Message:
    """What the run was tuned from and on, as a Message (demo.json keeps its English; a page says it in its own)."""
    from core.models import builtin

    base = builtin.NAME if config.model.source == "default" else Path(config.model.source).name or config.model.source
    method = "QLoRA" if config.model.quantization == "4bit" else "LoRA"
    if config.train.tuning != "lora":
        method = message("results.serving.tuning", tuning=config.train.tuning)
    return message("results.serving.description", base=base, method=method, data=Path(config.data.path).name)


def description_said(served: Served) -> str:
    """The showcase's description for a page: the presenter's words as written, or, where none were saved for a
    run, the run's own words in the current language."""
    if served.kind != "run" or (served.folder / DEMO_FILE).exists():
        return served.showcase.description
    _, config = open_trained_run(served.folder)
    return text_of(run_description(config))


def example_prompts(run: Run, config: Config, limit: int = EXAMPLES) -> list[str]:
    """Questions from the rows the run held out (it never trained on them), else the probes it watched."""
    from core.data import load as datasets_io
    from core.training.probes import questions, read_probes

    try:
        data, held_out = datasets_io.load_for_training(config.data)
        rows = held_out.rows if held_out else datasets_io.split(data.rows, config.data.eval_fraction,
                                                                config.train.seed)[1]
        found = questions(rows, limit)
    except Exception:  # the data file may have moved since training; the demo still opens
        found = []
    if not found:
        records = read_probes(run)
        found = (records[0]["prompts"] if records else [])[:limit]
    return found or FALLBACK_EXAMPLES


def _model_id(name: str) -> str:
    """A model id clients can send back as it is: no spaces or slashes."""
    cleaned = "".join(c if c.isalnum() or c in "-._" else "-" for c in name).strip("-.")
    return cleaned or "model"
