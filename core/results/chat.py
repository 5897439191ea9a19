"""Talk to a fine-tuned run (base model + its adapter, or the whole model a full or freeze run saved) or to the base
model alone, streaming the answer.

With an adapter one loaded model serves both: the adapter is switched off for base answers, so a side-by-side demo
needs no second copy in memory. A full or freeze run's model is held beside its base (core.results.whole_model),
switched the same way.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from core.catalogue.message import Message, StudioError, message
from core.config import ChatSettings, Config, ModelConfig
from core.data import templates
from core.models import load as models
from core.models.generate import stop_ids, without_empty_think
from core.runs import Run


class ChatError(StudioError, RuntimeError):
    """The run cannot be chatted with; the message says why and what to do."""


class ChatModel:
    def __init__(self, model, tokenizer, has_adapter: bool, label: str, placement_note: Message | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.has_adapter = has_adapter
        self.label = label
        self.placement_note = placement_note  # where it went to keep off a training run's GPUs, for the chat panel
        self._lock = threading.Lock()  # one generation at a time on one model

    @classmethod
    def from_run(cls, run_dir: str | Path, progress=print, held_gpus: Sequence[int] = ()) -> "ChatModel":
        """`held_gpus`: the GPUs a training run holds right now, which the chat model keeps off (away_from)."""
        run, config = open_trained_run(run_dir)
        placed, note = away_from(config.model, held_gpus)
        model = tuned_model(run, placed, progress)
        model.eval()
        # The adapter (or model) folder holds the tokenizer the run trained with, chat template included.
        tokenizer, _ = models.load_tokenizer(str(run.weights_dir))
        return cls(model, tokenizer, has_adapter=True, label=run.name, placement_note=note)

    @classmethod
    def base(cls, config: ModelConfig, progress=print, held_gpus: Sequence[int] = ()) -> "ChatModel":
        placed, note = away_from(config, held_gpus)
        loaded = models.load(placed, progress=progress)
        loaded.model.eval()
        return cls(loaded.model, loaded.tokenizer, has_adapter=False, label=config.source, placement_note=note)

    def stream(self, messages: list[dict], settings: ChatSettings | None = None,
               use_adapter: bool = True, cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield the answer piece by piece. `messages` is the conversation so far, ending with the user's turn.

        Generation ends within a token when `cancel` is set or when the caller stops reading (closes this
        generator: a closed browser tab, a client gone, a Stop button), so the model is free for the next chat.
        """
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        settings = settings or ChatSettings()
        if settings.system_prompt.strip():
            messages = [{"role": "system", "content": settings.system_prompt}] + [
                m for m in messages if m["role"] != "system"]
        prompt = templates.prompt_for_chat(self.tokenizer, messages)
        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.model.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(**inputs, streamer=streamer, max_new_tokens=settings.max_new_tokens,
                      pad_token_id=self.tokenizer.pad_token_id, eos_token_id=stop_ids(self.model, self.tokenizer))
        if settings.temperature > 0:
            kwargs.update(do_sample=True, temperature=settings.temperature, top_p=settings.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        stopped = threading.Event()  # set when the reader leaves; `cancel` is the caller's own way to say the same
        kwargs["stopping_criteria"] = StoppingCriteriaList([_StopWhenSet(stopped, cancel)])
        errors: list[BaseException] = []

        def generate():
            import torch

            try:
                with self._lock, torch.no_grad():
                    if self.has_adapter and not use_adapter:
                        with self.model.disable_adapter():
                            self.model.generate(**kwargs)
                    else:
                        self.model.generate(**kwargs)
            except BaseException as err:  # surfaced to the caller below instead of dying in the thread
                errors.append(err)
                streamer.end()

        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        try:
            yield from without_empty_think(streamer)
        finally:
            stopped.set()
            worker.join()
        if errors:
            raise ChatError("results.chat.generation_failed", error=str(errors[0]))

    def vote(self, messages: list[dict], settings: ChatSettings | None = None, use_adapter: bool = True,
             seed: int | None = None):
        """settings.votes sampled answers at once and their majority after settings.answer_pattern (a voting.Vote)."""
        *_, last = self.vote_in_steps(messages, settings, use_adapter, seed, batch=(settings or ChatSettings()).votes)
        return last.vote

    def vote_in_steps(self, messages: list[dict], settings: ChatSettings | None = None, use_adapter: bool = True,
                      seed: int | None = None, batch: int | None = None):
        """The vote a few samples at a time: a voting.Tally after each batch ("k of N samples"), the last one with
        the vote. The model is locked for each batch only, so a closed page never leaves it locked."""
        from core.results import voting

        settings = settings or ChatSettings()
        if settings.system_prompt.strip():
            messages = [{"role": "system", "content": settings.system_prompt}] + [
                m for m in messages if m["role"] != "system"]
        prompt = templates.prompt_for_chat(self.tokenizer, messages)
        return voting.vote_in_steps(self.model, self.tokenizer, prompt, settings.votes, settings.answer_pattern,
                                    temperature=settings.temperature, top_p=settings.top_p,
                                    max_new_tokens=settings.max_new_tokens, seed=seed,
                                    use_adapter=use_adapter or not self.has_adapter, batch=batch,
                                    guard=lambda: self._lock)

    def reply(self, messages: list[dict], settings: ChatSettings | None = None, use_adapter: bool = True) -> str:
        return "".join(self.stream(messages, settings, use_adapter)).strip()


class _StopWhenSet:
    """A stopping criterion for generate(): stop every sequence once one of the events is set."""

    def __init__(self, *events: threading.Event | None):
        self.events = [e for e in events if e is not None]

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        done = any(e.is_set() for e in self.events)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


def away_from(config: ModelConfig, held_gpus: Sequence[int]) -> tuple[ModelConfig, Message | None]:
    """(the model config placed off the GPUs a training run holds, what that means for the chat panel). With
    device_map 'auto' over every GPU the chat model took memory from the run, whose out-of-memory retry then halved
    its batch for good. It goes to the first GPU the run does not use, else to the CPU (slower, but the run keeps
    its memory); with no run on a GPU it stays as configured."""
    import torch

    if not held_gpus or not torch.cuda.is_available() or config.device_map == "cpu":
        return config, None
    held = ", ".join(map(str, held_gpus))
    free = [gpu for gpu in range(torch.cuda.device_count()) if gpu not in held_gpus]
    if free:
        return (dataclasses.replace(config, device_map=f"cuda:{free[0]}", max_memory={}),
                message("results.chat.beside_run_on_gpu", gpu=free[0], held=held))
    return (dataclasses.replace(config, device_map="cpu", max_memory={}),
            message("results.chat.beside_run_on_cpu", held=held))


def open_trained_run(run_dir: str | Path) -> tuple[Run, Config]:
    """A run folder with a usable adapter (or whole model), and its config; ChatError saying what is missing
    otherwise."""
    run = Run(Path(run_dir))
    if not run.config_file.exists():
        raise ChatError("results.chat.not_a_run", path=str(run.path))
    if run.has_model() and not run.has_adapter():
        check_weights(run.model_dir, "model")
    else:
        check_adapter(run.adapter_dir)
    return run, Config.from_yaml(run.config_file)


def tuned_model(run: Run, base: ModelConfig, progress=print, beside_base: bool = True):
    """The run's tuned model loaded as `base` says (precision, placement, quantization): the base with the adapter
    on it, or the whole model a full or freeze run saved, held beside the base itself when `beside_base` (so that
    answers with the adapter "off" come from the base, as for LoRA)."""
    if not (run.has_model() and not run.has_adapter()):
        return attach_adapter(models.load(base, progress=progress).model, run, base.source)
    import dataclasses

    from core.results.whole_model import BesideBase

    tuned = models.load(dataclasses.replace(base, source=str(run.model_dir)), progress=progress).model
    return BesideBase(tuned, models.load(base, progress=progress).model) if beside_base else tuned


def attach_adapter(base_model, run: Run, base_source: str):
    """The base model with the run's adapter on it; a plain message when the adapter was made for another model."""
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(base_model, str(run.adapter_dir))
    except (RuntimeError, ValueError, KeyError) as err:
        raise ChatError("results.chat.adapter_mismatch", adapter=str(run.adapter_dir), base=base_source,
                        error=str(err).splitlines()[0][:200]) from None


def check_adapter(adapter_dir: Path) -> None:
    """Refuse missing or unsafe adapters before loading anything (never unpickle a .bin)."""
    if not (adapter_dir / "adapter_config.json").exists():
        raise ChatError("results.chat.no_adapter", folder=str(adapter_dir))
    check_weights(adapter_dir, "adapter_model")


def check_weights(folder: Path, stem: str) -> None:
    """Refuse a folder whose weights (`stem`.safetensors, or its sharded index) are missing, only pickled (a .bin
    can run code when loaded) or damaged."""
    weights = folder / f"{stem}.safetensors"
    if not weights.exists():
        if (folder / f"{stem}.safetensors.index.json").exists():
            return  # sharded: transformers checks each shard as it loads it
        if (folder / f"{stem}.bin").exists():
            raise ChatError("results.chat.pickle_only", folder=str(folder), stem=stem)
        raise ChatError("results.chat.no_weights", folder=str(folder), stem=stem)
    from safetensors import safe_open

    try:
        with safe_open(str(weights), "pt") as f:
            f.keys()
    except Exception as err:  # safetensors raises its own error types for damaged files
        raise ChatError("results.chat.damaged", path=str(weights), error=str(err)) from None
