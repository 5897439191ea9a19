"""What the studio keeps between clicks: the engine's job runner, where files live, and the loaded chat model.

Nothing here trains or generates; it holds references to core objects so every browser tab sees the same run.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Config
from core.jobs import JobRunner, check_inputs
from core.models import devices
from core.runs import Run, list_runs
from core.training.queue import Entry, QueueError, RunQueue

APP_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = APP_ROOT / "assets" / "datasets"
SAMPLES = {"identity.jsonl": "sample.identity"}  # file name -> its label in core/catalogue/labels.py
# How often an open page polls the run folder: each tick costs the browser a round of updates (an idle tab cost
# Chromium most of a core at one a second), so once a second only while a run goes, else every IDLE_POLL_SECONDS.
TRAINING_POLL_SECONDS = 1.0
IDLE_POLL_SECONDS = 5.0


@dataclass
class Studio:
    runs_dir: Path
    runner: JobRunner = field(init=False)
    _chat: tuple | None = field(default=None, init=False)  # (key, ChatModel)
    _chat_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _tokenizers: dict = field(default_factory=dict, init=False)
    _starting_until: float = field(default=0.0, init=False)  # time.monotonic() until which a start is expected

    def __post_init__(self):
        self.runs_dir = Path(self.runs_dir).resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        # The chat's model lets go of its memory before a run starts: the run's own process needs the GPU.
        # The queue (runs_dir/queue.json) outlives the studio: its next entry starts when a run ends, and at start-up
        # unless a run the last studio left interrupted holds it (the Train tab offers Resume or Skip).
        self.runner = JobRunner(self.runs_dir, before_start=self.release_chat, queue=RunQueue(self.runs_dir))
        self.interrupted = self.runner.after_restart()  # runs a crash left 'training' are told apart

    @property
    def uploads_dir(self) -> Path:
        return self.runs_dir.parent / "uploads"

    @property
    def configs_dir(self) -> Path:
        return self.runs_dir.parent / "configs"

    @property
    def exports_dir(self) -> Path:
        return self.runs_dir.parent / "exports"

    # ---- data files -------------------------------------------------------------------------------------------

    def keep_upload(self, temp_path: str) -> Path:
        """Copy an uploaded file out of Gradio's temporary cache, so the run's config keeps pointing at it."""
        source = Path(temp_path)
        name = safe_file_name(source.name)
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        target = self.uploads_dir / name
        if target.exists() and not _same_file(source, target):
            stem, suffix = target.stem, target.suffix
            target = self.uploads_dir / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"
        shutil.copyfile(source, target)
        return target

    # ---- runs -------------------------------------------------------------------------------------------------

    def runs(self) -> list[Run]:
        return list_runs(self.runs_dir)

    def run_named(self, name: str) -> Run | None:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        run = Run(self.runs_dir / name)
        return run if run.status_file.exists() else None

    def start_run(self, config: Config, resume: Run | None = None) -> Run:
        """Start a run as the command line does: a missing model or data that cannot be trained on (a bad row with
        data.skip_bad_rows off, no usable row) is refused here, by key, before a run folder exists; otherwise the
        run failed seconds after "Started" and the page went on showing the previous one. Raises the StudioError."""
        if self.runner.busy:  # the run in progress is the reason to give, not the data
            return self.runner.start(config, resume=resume)
        check_inputs(config, self.runs_dir)
        return self.runner.start(config, resume=resume)

    @property
    def queue(self) -> RunQueue:
        return self.runner.queue

    def add_to_queue(self, config: Config) -> Entry:
        """Queue a run (its config and data checked now, by key); it starts at once if the run in progress ended
        meanwhile, so an entry never waits with nothing training."""
        entry = self.queue.add(config)
        self.runner.start_next()
        return entry

    def add_chain(self, stages: list) -> list[Entry]:
        """Queue a chain's stages (each checked now; a stage that cannot be queued is named), one after another;
        the first starts at once when nothing trains."""
        entries = self.queue.add_chain(stages)
        self.runner.start_next()
        return entries

    def start_queued_if_idle(self) -> None:
        """A page's poll: an entry `launch.py queue add` put in the queue while the studio idles starts, unless
        another process (`launch.py queue run`, `launch.py train`) trains in this runs folder: it would share the GPU
        with it (start_next leaves the entries then)."""
        try:
            if self.runner.busy or self.queue.held_by() or not self.queue.entries():
                return
        except QueueError:  # an unreadable queue file: the queue panel says so
            return
        self.runner.start_next()

    def poll_seconds(self) -> float:
        """The Train tab's polling interval now: quick while a run goes or is being started (a Start click checks
        the data first, for seconds), slow while none does."""
        starting = time.monotonic() < self._starting_until
        return TRAINING_POLL_SECONDS if self.runner.busy or starting else IDLE_POLL_SECONDS

    def expect_run(self, seconds: float = 30.0) -> None:
        """A start was clicked: poll quickly for a while even before the runner is busy."""
        self._starting_until = time.monotonic() + seconds

    def current_run(self) -> Run | None:
        """The run in progress, else the newest one: what the Train tab shows when a page opens."""
        if self.runner.busy:
            return self.runner.run
        runs = self.runs()
        return runs[0] if runs else None

    def tokenizer_for(self, source: str, system_prompt: str | None = None):
        """Tokenizers are small and reused for every preview; keep the ones asked for, one per system prompt."""
        import copy

        from core.data import templates
        from core.models import load as models

        if source not in self._tokenizers:
            tokenizer, _ = models.load_tokenizer(models.tokenizer_source(source, progress=lambda _: None))
            self._tokenizers[source] = tokenizer
        if system_prompt is None:
            return self._tokenizers[source]
        key = (source, system_prompt)
        if key not in self._tokenizers:
            tokenizer = copy.deepcopy(self._tokenizers[source])
            templates.apply_system_prompt(tokenizer, system_prompt)
            self._tokenizers[key] = tokenizer
        return self._tokenizers[key]

    # ---- chat model cache -------------------------------------------------------------------------------------

    def chat_model(self, key: str, loader):
        """Keep one chat model loaded; load another only when the choice changes (loading takes seconds)."""
        with self._chat_lock:
            if self._chat is None or self._chat[0] != key:
                self._chat = None  # let the previous model go before the next one loads: never two in memory
                self._chat = (key, loader())
            return self._chat[1]

    def release_chat(self) -> None:
        """Let the chat's model go, and its GPU memory with it, before a run or a fit check needs the room."""
        with self._chat_lock:
            if self._chat is None:
                return
            self._chat = None
        devices.release_memory()


def safe_file_name(name: str) -> str:
    """Keep only the last path part and plain characters: '../../x.jsonl' -> 'x.jsonl'."""
    name = re.split(r"[\\/]", name)[-1]
    name = re.sub(r"[^A-Za-z0-9._\-\u4e00-\u9fff]+", "_", name).lstrip(".") or "upload"
    stem, dot, extension = name.rpartition(".")
    if dot and len(extension) <= 10:  # shorten the stem, never the extension the loader goes by
        return stem[:120 - len(extension) - 1] + "." + extension
    return name[:120]


def _same_file(a: Path, b: Path) -> bool:
    return filecmp.cmp(a, b, shallow=False)
