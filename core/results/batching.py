"""Several chat answers generated together, for the demo page and its API: one thread owns the model and steps every
running answer at once, so a second visitor does not wait for the first one's long answer.

Between two decode steps the thread admits the requests that are waiting: it prefills them (together, left
padded), samples their first token at once (their time to first token is one step of the others, not the others'
whole answers), then merges their key/value cache into the running batch, left padding the shorter side. Each row
keeps its own temperature, top_p, max_tokens and stop ids, and streams its text to its own queue; a row whose
client stopped or left is dropped at the next step, the others go on. Answers with the adapter and without it (the
`NAME-base` model) run as two batches stepped in turn, since one forward pass has one adapter state.

transformers 5's own continuous batching (`generate_batch`) was tried first: on this CPU it took 33 s for two
16-token answers from SmolLM2-135M (its paged cache and scheduler are sized for a GPU), takes one generation config
for all requests, and would need the adapter merged, losing the base model beside it.
"""

from __future__ import annotations

import itertools
import queue
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.catalogue.message import StudioError
from core.config import ChatSettings
from core.data import templates
from core.models.generate import stop_ids, without_empty_think
from core.models.scored import plain_cache

# 8 rows per step is where a small model on a CPU still gains from batching (a step of 8 costs ~2 steps of 1);
# 8 more may wait for a free row, so a burst is queued rather than refused, while a flood gets "busy, retry".
MAX_RUNNING = 8
MAX_WAITING = 8
TOP_K = 50  # what generate() samples from when the model's generation config names no top_k
RETRY_AFTER = 5  # seconds a refused request is told to wait: about what a short answer takes to free a row
WAITING_TICK_S = 0.5  # how often a page's answer that waits for a row hands back control (see Answer.text)


class QueueFull(StudioError, RuntimeError):
    """MAX_RUNNING answers are being written and MAX_WAITING more wait: the caller should retry later."""


class GenerationFailed(StudioError, RuntimeError):
    """The model failed while generating; every answer in progress ends with this."""


_END = object()


@dataclass(eq=False)
class Answer:
    """One request's answer as it is written: iterate for its text pieces; `close()` (or `cancel.set()`) drops it."""

    prompt_ids: list[int]
    settings: ChatSettings
    use_adapter: bool
    cancel: threading.Event = field(default_factory=threading.Event)
    pieces: queue.Queue = field(default_factory=queue.Queue)
    ids: list[int] = field(default_factory=list)  # generated so far (the stop id left out)
    finished_by_stop: bool = False
    _shown: int = 0  # characters of the current text chunk already handed out
    _chunk_start: int = 0  # where in `ids` the current text chunk starts

    def __iter__(self):
        return self

    def __next__(self) -> str:
        return self._read(self.pieces.get())

    def next_within(self, seconds: float) -> str | None:
        """The next piece, or None when none came within `seconds`; StopIteration at the end, as `next`."""
        try:
            return self._read(self.pieces.get(timeout=seconds))
        except queue.Empty:
            return None

    def text(self, tick_s: float = WAITING_TICK_S) -> Iterator[str]:
        """The answer's text pieces for a page, without an empty think block, "" every `tick_s` while the answer
        waits for a row. A page stops an answer by closing its generator, which cannot be done while it waits inside
        `next`: the ticks let it close (and this answer's row or place be freed) at once. Closing this frees it."""
        try:
            while (first := self.next_within(tick_s)) is None:
                yield ""
            yield from without_empty_think(itertools.chain([first], self))
        except StopIteration:  # ended before its first piece (stopped, or an empty answer)
            return
        finally:
            self.close()

    def _read(self, piece) -> str:
        if piece is _END:
            self.pieces.put(_END)  # read again after the end: still the end, never a wait
            raise StopIteration
        if isinstance(piece, BaseException):
            self.pieces.put(_END)
            raise piece
        return piece

    def close(self) -> None:
        self.cancel.set()


class Batcher:
    """Generates the answers of every request submitted to it, MAX_RUNNING at a time, on one thread.

    It holds its model weakly: the studio lets its chat model go (for a run's memory) while the batcher's thread may
    still idle, and the model must go at once, not when the thread does."""

    def __init__(self, chat_model, max_running: int = MAX_RUNNING, max_waiting: int = MAX_WAITING):
        self._model = weakref.ref(chat_model)
        self.max_running, self.max_waiting = max_running, max_waiting
        self.stops = set(stop_ids(chat_model.model, chat_model.tokenizer))
        config = getattr(chat_model.model, "generation_config", None)
        self.top_k = getattr(config, "top_k", None) or TOP_K
        self.suppressed = list(getattr(config, "suppress_tokens", None) or [])  # never chosen, as in generate()
        self._waiting: list[Answer] = []
        self._batches: dict[bool, _Batch] = {}  # by adapter state: one forward pass has one
        self._running = 0  # rows in the batches, counted under the lock (the batches change on the model's thread)
        self._joining: list[Answer] = []  # admitted, being prefilled: in no batch yet, but holding rows
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def chat_model(self):
        model = self._model()
        if model is None:
            raise GenerationFailed("results.chat.generation_failed", error="the model was unloaded")
        return model

    def submit(self, messages: list[dict], settings: ChatSettings, use_adapter: bool = True) -> Answer:
        """Queue one answer and return it at once (its pieces come as they are written); QueueFull when full."""
        if settings.system_prompt.strip():
            messages = [{"role": "system", "content": settings.system_prompt}] + [
                m for m in messages if m["role"] != "system"]
        tokenizer = self.chat_model.tokenizer
        prompt = templates.prompt_for_chat(tokenizer, messages)
        answer = Answer(tokenizer(prompt, add_special_tokens=False)["input_ids"], settings,
                        use_adapter or not self.chat_model.has_adapter)
        with self._wake:
            # Rows and places whose clients left count as free at once, not at the model's next step.
            waiting = sum(not _dropped(a) for a in self._waiting)
            rows = set(self._joining).union(a for batch in list(self._batches.values()) for a in list(batch.rows))
            running = sum(not _dropped(a) for a in rows)
            if waiting >= self.max_waiting + max(0, self.max_running - running):
                raise QueueFull("results.api.busy", seconds=RETRY_AFTER)
            self._waiting.append(answer)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="batcher", daemon=True)
                self._thread.start()
            self._wake.notify()
        return answer

    def _serve(self) -> None:
        import torch

        # Denormal floats in the hidden states made SmolLM2's forward passes ~10x slower on this CPU (11.7 s against
        # 1.0 s for a 36-token prompt); flushing them to zero is per thread, and changes no answer here.
        torch.set_flush_denormal(True)
        while True:
            with self._wake:
                while not self._waiting and not self._running:
                    if not self._wake.wait(timeout=30):
                        self._thread = None  # idle: a later submit starts a fresh thread
                        return
                newcomers = self._admit()
            model = None
            try:
                model = self.chat_model  # held while stepping, never while idle (see the class)
                with model._lock, torch.no_grad():
                    for use_adapter in (True, False):
                        self._advance(use_adapter, [a for a in newcomers if a.use_adapter == use_adapter])
                with self._wake:
                    self._joining = []
            except BaseException as err:  # every answer in progress ends with the error instead of hanging
                failed = GenerationFailed("results.chat.generation_failed", error=str(err))
                with self._wake:
                    everyone = newcomers + [a for b in self._batches.values() for a in b.rows]
                    self._batches.clear()
                    self._running, self._joining = 0, []
                for answer in everyone:
                    answer.pieces.put(failed)
                    answer.pieces.put(_END)
            finally:
                model = None

    def _admit(self) -> list[Answer]:
        """The waiting answers that join now (called holding the lock): as many as there are free rows, except
        those whose batch is running with a cache that cannot take newcomers (they join when it is done)."""
        for answer in self._waiting:
            if _dropped(answer):
                answer.pieces.put(_END)
        self._waiting = [a for a in self._waiting if not _dropped(a)]
        closed = {key for key, batch in self._batches.items() if not plain_cache(batch.cache)}
        newcomers = [a for a in self._waiting if a.use_adapter not in closed][:self.max_running - self._running]
        self._waiting = [a for a in self._waiting if a not in newcomers]
        self._running += len(newcomers)
        self._joining = newcomers
        return newcomers

    def _advance(self, use_adapter: bool, joining: list[Answer]) -> None:
        """One step for the batch of this adapter state: the newcomers' prefill, or else one decode step."""
        batch = self._batches.get(use_adapter)
        if not joining and not batch:
            return
        with self._adapter(use_adapter):
            if joining:
                fresh = self._prefill(joining)
                batch = fresh if batch is None else batch.merge(fresh)
            else:
                self._step(batch)
        before = len(batch.rows)
        batch = batch.without_done()
        with self._wake:
            self._running -= before - len(batch.rows)
            if batch.rows:
                self._batches[use_adapter] = batch
            else:
                self._batches.pop(use_adapter, None)

    def _adapter(self, use_adapter: bool):
        import contextlib

        model = self.chat_model.model
        if use_adapter or not self.chat_model.has_adapter:
            return contextlib.nullcontext()
        return model.disable_adapter()

    def _prefill(self, answers: list[Answer]) -> "_Batch":
        """The newcomers' prompts in one left-padded forward pass, and their first tokens."""
        import torch

        device = self.chat_model.model.device
        width = max(len(a.prompt_ids) for a in answers)
        ids = torch.zeros((len(answers), width), dtype=torch.long)
        mask = torch.zeros((len(answers), width), dtype=torch.long)
        for row, answer in enumerate(answers):
            ids[row, width - len(answer.prompt_ids):] = torch.tensor(answer.prompt_ids)
            mask[row, width - len(answer.prompt_ids):] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.chat_model.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                                    logits_to_keep=1)
        batch = _Batch(list(answers), out.past_key_values, mask, positions[:, -1:] + 1)
        self._emit(batch, out.logits[:, -1, :])
        return batch

    def _step(self, batch: "_Batch") -> None:
        import torch

        last = torch.tensor([[a.ids[-1]] for a in batch.rows], device=batch.mask.device)
        batch.mask = torch.cat([batch.mask, torch.ones_like(last)], dim=1)
        out = self.chat_model.model(input_ids=last, attention_mask=batch.mask, position_ids=batch.positions,
                                    past_key_values=batch.cache, use_cache=True)
        batch.cache, batch.positions = out.past_key_values, batch.positions + 1
        self._emit(batch, out.logits[:, -1, :])

    def _emit(self, batch: "_Batch", logits) -> None:
        """Pick each row's next token as its own settings say, and hand each row its new text."""
        for answer, token in zip(batch.rows, self._pick(batch.rows, logits)):
            if _dropped(answer):
                continue
            if token in self.stops:
                answer.finished_by_stop = True
            else:
                answer.ids.append(token)
                self._show(answer)
            if answer.finished_by_stop or len(answer.ids) >= answer.settings.max_new_tokens:
                self._show(answer, final=True)
                answer.pieces.put(_END)

    def _pick(self, rows: list[Answer], logits) -> list[int]:
        import torch

        logits = logits.float()
        if self.suppressed:
            logits[:, self.suppressed] = float("-inf")
        picked = logits.argmax(dim=-1)
        for row, answer in enumerate(rows):
            if answer.settings.temperature > 0:
                picked[row] = _sample(logits[row], answer.settings.temperature, answer.settings.top_p, self.top_k)
        return [int(t) for t in picked.to(torch.long).tolist()]

    def _show(self, answer: Answer, final: bool = False) -> None:
        """New text since the last piece, as TextIteratorStreamer hands it out: held back while it ends inside a
        character's bytes, and decoded afresh from the last line break (decoding token by token would split
        characters and lose spaces)."""
        text = self.chat_model.tokenizer.decode(answer.ids[answer._chunk_start:], skip_special_tokens=True)
        if not final and text.endswith("\ufffd"):
            return
        if final:
            text = text.rstrip("\ufffd")
        new = text[answer._shown:]
        if new:
            answer.pieces.put(new)
        answer._shown = len(text)
        if text.endswith("\n"):
            answer._chunk_start, answer._shown = len(answer.ids), 0


def _sample(logits, temperature: float, top_p: float, top_k: int) -> int:
    """One token as generate() samples it: temperature, then top-k, then top-p (nucleus)."""
    import torch

    scores = logits / temperature
    top = torch.topk(scores, min(top_k, scores.shape[-1]))
    probs = torch.softmax(top.values, dim=-1)
    if top_p < 1:
        before = probs.cumsum(-1) - probs  # mass of the more likely tokens: keep each token it does not cover
        probs = torch.where(before < top_p, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    return int(top.indices[torch.multinomial(probs, 1)])


def _dropped(answer: Answer) -> bool:
    return answer.cancel.is_set()


class _Batch:
    """The rows being written with one adapter state: their key/value cache, attention mask and next positions."""

    def __init__(self, rows: list[Answer], cache, mask, positions):
        self.rows, self.cache, self.mask, self.positions = rows, cache, mask, positions

    def done(self, answer: Answer) -> bool:
        return (_dropped(answer) or answer.finished_by_stop
                or len(answer.ids) >= answer.settings.max_new_tokens)

    def without_done(self) -> "_Batch":
        """Finished, stopped and abandoned rows taken out (their memory freed), and the left padding no row needs
        any more trimmed."""
        import torch

        keep = [i for i, a in enumerate(self.rows) if not self.done(a)]
        for i, answer in enumerate(self.rows):
            if i not in keep and _dropped(answer):
                answer.pieces.put(_END)  # a client that left reads nothing more; one still reading sees the end
        if len(keep) == len(self.rows):
            return self
        self.rows = [self.rows[i] for i in keep]
        if not keep:
            return self
        index = torch.tensor(keep, device=self.mask.device)
        self.mask, self.positions = self.mask[index], self.positions[index]
        if not plain_cache(self.cache):
            self.cache.batch_select_indices(index)
            return self
        unused = int((self.mask.sum(0) == 0).long().cumprod(0).sum())  # leading columns padding for every row
        self.mask = self.mask[:, unused:]
        for layer in _layers(self.cache):
            layer.keys, layer.values = layer.keys[index, :, unused:], layer.values[index, :, unused:]
        return self

    def merge(self, other: "_Batch") -> "_Batch":
        """One batch of both, the shorter side's cache and mask left padded to the longer one's length."""
        import torch

        width = max(self.mask.shape[1], other.mask.shape[1])
        for mine, theirs in zip(_layers(self.cache), _layers(other.cache), strict=True):
            mine.keys = torch.cat([_pad_left(mine.keys, width, 2), _pad_left(theirs.keys, width, 2)])
            mine.values = torch.cat([_pad_left(mine.values, width, 2), _pad_left(theirs.values, width, 2)])
        self.mask = torch.cat([_pad_left(self.mask, width, 1), _pad_left(other.mask, width, 1)])
        self.positions = torch.cat([self.positions, other.positions])
        self.rows = self.rows + other.rows
        return self


def _layers(cache) -> list:
    return list(cache.layers)


def _pad_left(tensor, width: int, dim: int):
    import torch

    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([torch.zeros(shape, dtype=tensor.dtype, device=tensor.device), tensor], dim=dim)


_batchers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_batchers_lock = threading.Lock()


def batcher_for(chat_model) -> Batcher:
    """The one Batcher of a loaded ChatModel (made on first use), shared by every request to it."""
    with _batchers_lock:
        if chat_model not in _batchers:
            _batchers[chat_model] = Batcher(chat_model)
        return _batchers[chat_model]
