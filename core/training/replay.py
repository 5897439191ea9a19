"""Knowledge replay: the base model answers everyday questions before training, and we train on those answers too.

Measured on SmolLM2-135M with the bundled identity set at learning rate 1e-3: without replay the model learned
its new name but forgot ordinary facts ("As a Nova, I am equipped with a robotic appendage..." for a spider's
legs); with 20 self-answered questions mixed in it learned the name and still said "A spider has 8 legs."
Because the answers are the model's own, training on them pulls the adapter back towards what it already knew.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from pathlib import Path

from core.catalogue.message import message
from core.runs import STOP_FILE, write_text_atomic

ANSWER_TOKENS = 128  # an answer not ended within this many tokens is dropped (kept_text says so)
BATCH_SIZE = 8  # prompts answered together; a stop keeps the batches finished before it
GPU_HEADROOM = 1.25  # the weights plus room for the answers' cache and activations, as a share of the weights
PROMPTS_FILE = Path(__file__).resolve().parents[2] / "assets" / "datasets" / "general_prompts.json"
# Asked of the replay questions only (the rows trained keep just the question and answer): without it SmolLM2-135M
# ran past ANSWER_TOKENS on 7 of 20 everyday questions, and those answers were dropped as unfinished.
SHORT_ANSWERS = "Answer in one or two short sentences."


def bundled_prompts() -> list[str]:
    return json.loads(PROMPTS_FILE.read_text(encoding="utf-8"))


def pick_prompts(count: int, seed: int) -> list[str]:
    prompts = bundled_prompts()
    return random.Random(seed).sample(prompts, min(count, len(prompts)))


def replay_rows(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8,
                progress=None, should_stop=None, stopped=None, record=None,
                instruction: str | None = SHORT_ANSWERS) -> list[dict]:
    """Answer each prompt greedily with the base model, asked with `instruction` (replay_prompt; None: the bare
    question); return conversation rows for training (question and answer only).

    An answer is kept only when it ended on one of the model's stop ids (its EOS, any id of its generation
    config, its template's end-of-turn token): an empty one would teach silence, a cut-off one stopping mid-sentence.
    `progress(answered, asked, kept)` is called after each batch: on a CPU a batch takes minutes.
    `should_stop()` (the run's Stop, read after every token) cuts the batch short; `stopped()` (the same question,
    asked of every process together under ZeRO-3) then ends the replay after that batch. `record(answers)` gets each
    batch's finished answers as {"prompt", "answer", "kept"}: those a stop cut short are left out, to be asked again.
    """
    from core.models.generate import answer_batch

    stopped = stopped or should_stop
    rows = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start:start + batch_size]
            asked = [replay_prompt(tokenizer, p, instruction) for p in batch]
            answers = answer_batch(model, tokenizer, asked, max_new_tokens, should_stop=should_stop)
            cut = bool(stopped and stopped())
            finished = [{"prompt": prompt, "answer": answer, "kept": bool(answer and done)}
                        for prompt, (answer, done) in zip(batch, answers) if done or not cut]
            rows += [conversation(item) for item in finished if item["kept"]]
            if record:
                record(finished)
            if progress:
                progress(start + len(finished), len(prompts), len(rows))
            if cut:
                break
    finally:
        model.train(was_training)
    return rows


def replay_prompt(tokenizer, question: str, instruction: str | None = SHORT_ANSWERS) -> str:
    """The question in the model's chat template after a system turn with `instruction` (asking for a short answer);
    a template that refuses system turns gets it in front of the question instead."""
    from jinja2 import TemplateError

    from core.data import templates
    from core.models.generate import chat_prompt

    if not instruction:
        return chat_prompt(tokenizer, question)
    try:
        return templates.prompt_for_chat(tokenizer, [{"role": "system", "content": instruction},
                                                     {"role": "user", "content": question}])
    except TemplateError:  # the template's own raise_exception ("System role not supported")
        return chat_prompt(tokenizer, f"{instruction}\n\n{question}")


def conversation(answered: dict) -> dict:
    return {"messages": [{"role": "user", "content": answered["prompt"]},
                         {"role": "assistant", "content": answered["answer"]}]}


REPLAY_FILE = "replay.jsonl"  # the base model's replay answers, written once: a resume or retry reuses them
# What the answers in replay.jsonl depend on. A later run in the same runs folder whose key is equal (a sweep's next
# learning rate, the same run trained again) copies them instead of asking the base model again: on the identity
# demo the answers were 4.5 of the run's 6.3 min on this CPU.
KEY_FILE = "replay.key.json"
PARTIAL_FILE = "replay.partial.jsonl"  # answers appended as they come: a stopped run keeps them, a resume asks the rest


def rows_for_run(run, loaded, config, say, status=None, stop=None) -> list[dict]:
    """The replay rows: written by rank 0 once per run (the others read them), reused by a resume or a retry.
    `status(**changes)` gets "k of N" and the time left after each batch: on a CPU a batch takes minutes.
    `stop` (the run's stop flag; else its stop file) ends the replay within a token: the answers finished so far stay
    in replay.partial.jsonl and the rows come back empty, for the run to stop; a resume asks only the rest.

    Under DeepSpeed ZeRO-3 the weights are partitioned as they load, so no rank holds the whole model and rank 0
    cannot answer alone (its forward pass needs the other ranks' slices): there every rank answers the same
    prompts together (transformers' generate keeps partitioned ranks in step) and rank 0 writes."""
    from core.training import ranks

    path = run.path / REPLAY_FILE
    asking, copied = Asking(run, stop), False
    with ranks.main_first():
        if not path.exists() and ranks.is_main():
            copied = _copy_from_a_run_alike(run, config, say, status)
    if partitioned(loaded.model):
        if not ranks.any_rank(path.exists()):  # decided together: every rank must take part in every forward
            return _answer(run, loaded, config, say, status, asking.together(), write=ranks.is_main())
    else:
        with ranks.main_first():
            if not path.exists() and ranks.is_main():
                return _answer(run, loaded, config, say, status, asking, write=True)
    if not path.exists():  # rank 0 was stopped before it finished: every process stops with it (Session.stopped)
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not copied:
        say(f"Knowledge replay: reusing the {len(rows)} rows the base model wrote for this run ({REPLAY_FILE}).")
    return rows


class Asking:
    """Whether to stop answering: `token()` after each new token (this process's own flag), `batch()` after each
    batch (with `together()`, decided by every process at once, as ZeRO-3's shared forward passes need)."""

    def __init__(self, run, stop=None, shared: bool = False):
        self.run, self.stop, self.shared = run, stop, shared

    def token(self) -> bool:
        return self.stop.is_set() if self.stop is not None else (self.run.path / STOP_FILE).exists()

    def batch(self) -> bool:
        from core.training import ranks

        return ranks.any_rank(self.token()) if self.shared else self.token()

    def together(self) -> "Asking":
        return Asking(self.run, self.stop, shared=True)


def answers_key(config) -> dict:
    """Everything the replay answers depend on: the base model as loaded, the questions picked, how they are asked.
    The options a sweep varies (learning rate, rank, steps) are not in it."""
    from core.models import parent

    model = config.model
    key = {"source": model.source, "start": model.start, "hub": model.hub, "quantization": model.quantization,
           "dtype": model.dtype, "questions": config.data.replay, "seed": config.train.seed,
           "answer_tokens": ANSWER_TOKENS, "instruction": SHORT_ANSWERS}
    if parent.names_run(model.source):  # a parent run trained again under the same name is another model
        from core.runs import Run

        key["parent_ended_at"] = Run(parent.folder_of(model.source)).status().get("ended_at")
    elif Path(model.source).expanduser().is_dir():  # a model folder whose files were replaced is another model
        key["folder_changed_at"] = max((f.stat().st_mtime for f in Path(model.source).expanduser().iterdir()),
                                       default=0)
    return key


def _copy_from_a_run_alike(run, config, say, status) -> bool:
    """Copy replay.jsonl from another run in the same runs folder whose answers were written with the same key."""
    key = answers_key(config)
    for other in sorted(run.path.parent.iterdir()):
        answers, key_file = other / REPLAY_FILE, other / KEY_FILE
        if other == run.path or not answers.is_file() or not key_file.is_file():
            continue
        try:
            if json.loads(key_file.read_text(encoding="utf-8")) != key:
                continue
            text = answers.read_text(encoding="utf-8")
        except (OSError, ValueError):
            continue  # a file another process is replacing, or one cut short: ask the model instead
        write_text_atomic(run.path / REPLAY_FILE, text)
        write_text_atomic(run.path / KEY_FILE, json.dumps(key))
        (run.path / PARTIAL_FILE).unlink(missing_ok=True)
        rows = sum(1 for line in text.splitlines() if line.strip())
        say(f"Knowledge replay: reusing the {rows} answers the same base model wrote for run {other.name} "
            "(same model, questions and settings).")
        if status:
            asked = config.data.replay
            status(replay_done=asked, replay_asked=asked, replay_kept=rows)
        return True
    return False


def finished_answers(run, prompts: list[str]) -> list[dict]:
    """The answers replay.partial.jsonl keeps for these prompts (a line cut by a killed process is skipped)."""
    path = run.path / PARTIAL_FILE
    if not path.exists():
        return []
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            answered = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(answered, dict) and answered.get("prompt") in prompts:
            found[answered["prompt"]] = answered
    return list(found.values())


def _append(path: Path, answers: list[dict]) -> None:
    if not answers:
        return
    with open(path, "a", encoding="utf-8") as f:  # one write per batch, so a stop keeps every whole batch
        f.write("".join(json.dumps(answered, ensure_ascii=False) + "\n" for answered in answers))


def partitioned(model) -> bool:
    """Whether DeepSpeed ZeRO-3 holds this model's weights in slices across the ranks (its parameters carry a
    ds_id then, and a local shape of 0)."""
    return any(hasattr(p, "ds_id") for p in model.parameters())


def _answer(run, loaded, config, say, status, asking: Asking, write: bool) -> list[dict]:
    prompts = pick_prompts(config.data.replay, config.train.seed)
    answers = finished_answers(run, prompts)
    rest = [prompt for prompt in prompts if prompt not in {answered["prompt"] for answered in answers}]
    if answers:
        say(f"Knowledge replay: reusing {len(answers)} answers written before the run was stopped "
            f"({PARTIAL_FILE}); asking the other {len(rest)}.")
    started, before = time.time(), len(answers)

    def progress(done, asked, kept):  # the Train tab shows "k of N" and the time left from these
        if status and write:
            left = (time.time() - started) / done * (asked - done) if done else None
            done_all = before + done
            status(message=message("training.replay.writing", done=done_all, asked=len(prompts)),
                   replay_done=done_all, replay_asked=len(prompts),
                   replay_kept=sum(a["kept"] for a in answers), replay_seconds_left=left)

    def record(finished):
        answers.extend(finished)
        if write:
            _append(run.path / PARTIAL_FILE, finished)

    progress(0, len(rest), 0)
    with answering_place(loaded.model, config.model.quantization, say):
        replay_rows(loaded.model, loaded.tokenizer, rest, ANSWER_TOKENS, BATCH_SIZE, progress=progress,
                    should_stop=asking.token, stopped=asking.batch, record=record)
    if len(answers) < len(prompts):  # stopped: replay.partial.jsonl keeps what was finished
        say(f"Knowledge replay stopped: {len(answers)} of {len(prompts)} answers written, kept for a resume.")
        return []
    order = {prompt: number for number, prompt in enumerate(prompts)}
    rows = [conversation(a) for a in sorted(answers, key=lambda a: order[a["prompt"]]) if a["kept"]]
    if not write:
        return rows
    write_text_atomic(run.path / REPLAY_FILE, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    write_text_atomic(run.path / KEY_FILE, json.dumps(answers_key(config)))
    (run.path / PARTIAL_FILE).unlink(missing_ok=True)
    say(f"Knowledge replay: {kept_text(len(prompts), len(rows), ANSWER_TOKENS)}; the base model's own answers are "
        "trained with your rows.")
    if status:
        status(replay_done=len(prompts), replay_asked=len(prompts), replay_kept=len(rows))
    return rows


def gpu_for_answers(model, quantization: str):
    """This process's GPU when the model sits on the CPU but fits there whole, else None. fsdp and DeepSpeed load
    the model on the CPU and shard it onto the GPUs only when training starts; rank 0 answering the replay prompts
    on the CPU meanwhile took longer than the others would wait for an 8B model, and fed CPU tensors to flash
    attention. 4-bit and 8-bit weights are not moved: bitsandbytes places them as it loads them."""
    import torch

    if next(model.parameters()).device.type != "cpu" or not torch.cuda.is_available() or quantization != "none":
        return None
    gpu = torch.device("cuda", torch.cuda.current_device())
    size = sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))
    free, _total = torch.cuda.mem_get_info(gpu)
    return gpu if size * GPU_HEADROOM < free else None


@contextlib.contextmanager
def answering_place(model, quantization: str, say):
    """The model on this process's GPU while it answers (gpu_for_answers), back on the CPU after; where it cannot
    move, answered on the CPU with sdpa, since flash attention runs only on GPU tensors."""
    import torch

    if partitioned(model):  # ZeRO-3 placed each slice itself; gathering them is generate's work, not a move
        yield
        return
    gpu = gpu_for_answers(model, quantization)
    attention = getattr(model.config, "_attn_implementation", None)
    on_cpu = gpu is None and next(model.parameters()).device.type == "cpu"
    if gpu is not None:
        say(f"Knowledge replay: the base model answers on GPU {gpu.index} before it is sharded.")
        model.to(gpu)
    elif on_cpu and attention == "flash_attention_2":
        say("Knowledge replay: the base model answers on the CPU with sdpa attention (flash attention runs on GPUs "
            "only); with a large model this takes long.")
        model.set_attn_implementation("sdpa")
    try:
        yield
    finally:
        if gpu is not None:
            model.to("cpu")
            torch.cuda.empty_cache()
        elif on_cpu and attention == "flash_attention_2":
            model.set_attn_implementation(attention)


def kept_text(asked: int, kept: int, max_new_tokens: int = 128) -> str:
    """'20 asked, 13 kept: 7 unfinished answers dropped (...)': the one sentence the log, status and card share."""
    dropped = asked - kept
    text = f"{asked} asked, {kept} kept"
    if dropped:
        text += (f": {dropped} unfinished answer{'s' if dropped != 1 else ''} dropped (empty, or not ended within "
                 f"{max_new_tokens} tokens)")
    return text
