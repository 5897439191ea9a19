"""The steps every training method shares, written once: read the rows, load the model, decide the settings that
depend on it, build the trainer's common arguments, and train, watch and save.

Each method (core.training.sft, dpo, orpo, kto, cpt) tells its own story with these steps in between its own:
its dataset and its trl trainer. A `Session` is one run's process: what every step reads and where it reports. With
several processes only rank 0 writes the run folder; the others train their share in silence.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

from core.catalogue.message import message, say
from core.config import Config, TrainConfig
from core.data import load as datasets_io
from core.models import load as models
from core.runs import Run
from core.training import ranks
from core.training import speed
from core.training import stopping
from core.training import tuning

SMALL_MODEL = 1_000_000_000  # parameters; below this, small-model defaults apply

# The learning rate 'auto' picks with LoRA, per method: (models under 1B parameters, larger ones). Measured on the
# default model (SmolLM2-135M) on this project's CPU, generations watched as well as the loss (README, "Beyond
# supervised fine-tuning"): dpo broke the answers above 1e-4 while preference accuracy still rose, and kto learned
# at dpo's rate with the answers intact; orpo carries a supervised loss and takes sft's rate; cpt
# lowered held-out perplexity more at 1e-3 than at 2e-4; grpo learned its rewards at 5e-4 and not at 1e-4 in 30 steps.
LORA_RATES = {"sft": (1e-3, 2e-4), "cpt": (1e-3, 2e-4), "orpo": (1e-3, 2e-4), "dpo": (1e-4, 5e-6),
              "kto": (1e-4, 5e-6), "grpo": (5e-4, 2e-5)}
WHY_RATE = {
    "sft": "small models need a higher rate to learn in a few dozen steps",
    "cpt": "measured on the default model: held-out perplexity fell most at 1e-3 (2e-4 learned less)",
    "orpo": "orpo carries the supervised loss on the chosen answers, so it takes sft's rate (not measured on its own)",
    "dpo": "measured on the default model: above 1e-4 the preference accuracy still rose while the answers turned "
           "to nonsense",
    "kto": "measured on the default model: at dpo's rate held-out preference accuracy rose from 0/12 to 9/12 in one "
           "epoch with the answers intact",
    "grpo": "measured on the default model (the capitals demo, 30 steps): at 5e-4 held-out right-and-well-formed "
            "answers rose from 7/20 to 11/20, at 1e-4 they stayed at 7/20",
}
FULL_RATE_FACTOR = 0.1  # full and freeze tuning move the weights themselves: a tenth of the LoRA rate


@dataclass(frozen=True)
class Resolved:
    """What the engine decides before training, from the config, the loaded model and this machine: built once by
    resolve_auto, then only read (by the method files and `arguments`)."""

    speed: speed.SpeedChoice
    """The speed options: attention, padding-free batches, Liger kernels, length grouping, torch.compile."""
    uses_gpu: bool
    """Whether the model trains on a GPU: mixed precision and pinned memory only there, use_cpu otherwise."""
    dtype: str
    """The precision the model was loaded in (bfloat16, float16, float32); mixed precision follows it."""
    learning_rate: float
    """train.learning_rate, or the rate 'auto' picked for the method, the tuning and the model's size."""
    gradient_checkpointing: bool
    """Whether activations are recomputed in the backward pass, saving memory for about 30% speed."""
    reasons: tuple[str, ...] = ()
    """Why the learning rate and gradient checkpointing are what they are, for each that was 'auto'; for the log."""


@dataclass
class Session:
    """One run in this process: its config, its folder, the stop flag, and how it was started."""

    config: Config
    run: Run
    stop: threading.Event
    strategy: str = "single"
    resume_from: str | None = None
    callbacks: list = field(default_factory=list)  # extra TrainerCallbacks that only watch (the benchmark's timers)
    zero3_arguments: object = None  # ZeRO-3: the arguments made before the model loads (zero3_before_load)

    @property
    def main(self) -> bool:
        return ranks.is_main()

    def say(self, message: str) -> None:
        if self.main:
            self.run.log(message)

    def status(self, **changes) -> None:
        if self.main:
            self.run.update_status(**changes)

    def stopped(self) -> bool:
        """Whether to stop here: every process stops at the same point, or none does."""
        return ranks.any_rank(self.stop.is_set())


def begin(session: Session):
    """(training rows, held-out rows, the loaded base model, its speed options): every method's start."""
    train_rows, eval_rows = read_rows(session)
    loaded, fast = load_model(session)
    return train_rows, eval_rows, loaded, fast


def read_rows(session: Session) -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows) as the method takes them; bad rows are reported or refuse the run."""
    config = session.config
    session.status(state="loading", message=message("training.steps.reading"))
    session.say(f"Method {config.train.method}: {say('method.' + config.train.method, lang='en')}")
    data, held_out = datasets_io.load_for_training(config.data, config.train.method)
    session.say(f"Data: {data.path}, format {data.format}, {len(data.rows)} usable rows of {data.total}.")
    for loaded_file in filter(None, (data, held_out)):
        for problem in loaded_file.problems:
            session.say(f"Skipped {problem}")
        if loaded_file.skipped:
            session.say(f"{loaded_file.skipped} rows of {loaded_file.path} skipped in all (data.skip_bad_rows is on).")
    for note in data.notes:
        session.say(note)
    if config.data.replay and config.train.method != "sft":
        session.say(f"Knowledge replay (data.replay) is for supervised fine-tuning; {config.train.method} does not use "
                    "it.")
    if held_out:
        session.say(f"Held-out rows: {len(held_out.rows)} from {held_out.path}.")
        return data.rows, held_out.rows
    return datasets_io.split(data.rows, config.data.eval_fraction, config.train.seed)


def datasets(session: Session, build, tokenizer, train_rows: list[dict], eval_rows: list[dict]):
    """(training set, held-out set or None): the rows through `build`, one of core.training.token_sets' builders."""
    length = session.config.train.max_length
    train_set = build(tokenizer, train_rows, length, "training", session.say)
    return train_set, build(tokenizer, eval_rows, length, "held-out", session.say) if eval_rows else None


def reference_text(config) -> str:
    """What a dpo or kto run compares against, for the log. With LoRA, trl's reference is the trained model with its
    adapter switched off: for a run started from a run, that is the parent merged (build_on), or what lies below the
    parent's adapter this run trains further (continue)."""
    model = config.model
    if config.train.tuning != "lora":
        return "the model before training, its log-probabilities computed once before the first step."
    if not model.source.startswith("run:"):
        return "the base model, the adapter switched off."
    parent = Path(model.source.removeprefix("run:")).name
    if model.start == "continue":
        return f"the model below {parent}'s adapter, which this run trains further (switched off for the reference)."
    return f"{parent} with its adapter merged, the model this run starts from (its own new adapter switched off)."


def load_model(session: Session) -> tuple[models.LoadedModel, speed.SpeedChoice]:
    """(the loaded base model, the speed options), with the attention implementation they call for."""
    config = session.config
    session.status(message=message("training.steps.loading_model"))
    fast = speed.resolve(config.train, uses_gpu=models.will_use_gpu(config.model, config.compute.gpus),
                         model_dtype=config.model.dtype)
    before = (lambda dtype: zero3_before_load(session, dtype)) if session.strategy == "deepspeed_zero3" else None
    with stopping.cut_short(session.stop):  # minutes for a large model, with no point at which to hear Stop
        loaded = models.load(config.model, progress=session.say, attention=fast.attention, strategy=session.strategy,
                             for_training=True, before_weights=before)
    for note in loaded.notes:
        session.say(note)
    session.say(f"Model: {loaded.source}, {loaded.parameters / 1e6:.1f}M parameters, {loaded.dtype}. "
                f"Placement: {models.describe_placement(loaded.placement)}"
                + (f", one copy in each of {ranks.world_size()} processes." if session.strategy == "ddp" else "."))
    session.status(dtype=loaded.dtype)  # what `auto` chose; an export keeps this precision
    return loaded, fast


def zero3_before_load(session: Session, dtype) -> None:
    """DeepSpeed ZeRO-3, peft's recipe: the training arguments exist before from_pretrained, so transformers sees
    ZeRO-3 on (is_deepspeed_zero3_enabled) and loads each rank's partition (zero.Init) instead of a whole copy
    per rank in host RAM (8 ranks of a 70B bfloat16 model: about 1.1 TB). Under accelerate launch the arguments
    read the launcher's DeepSpeed settings (zero3_init_flag on, core.training.launch); they are kept on the
    session, because transformers holds that config only by a weak reference."""
    import torch
    from transformers import TrainingArguments

    session.zero3_arguments = TrainingArguments(
        output_dir=str(session.run.checkpoints_dir), report_to=[],
        **device_args(str(dtype).replace("torch.", ""), torch.cuda.is_available()),
        per_device_train_batch_size=session.config.train.batch_size,
        gradient_accumulation_steps=session.config.train.grad_accum)


def settings(session: Session, loaded: models.LoadedModel, fast: speed.SpeedChoice) -> Resolved:
    """The settings that depend on the model and the hardware, each 'auto' with its reason in the log. fsdp and
    DeepSpeed load the model on the CPU and move their shards to the GPUs themselves."""
    uses_gpu = on_gpu(loaded.placement) or (session.strategy in models.SHARDED and fast.uses_gpu)
    resolved = resolve_auto(session.config.train, loaded.parameters, uses_gpu, loaded.dtype, fast)
    for reason in fast.reasons + resolved.reasons:
        session.say(reason)
    from transformers import set_seed

    # The adapter's starting weights come from the run's seed (the Trainer seeds only later, so without this the
    # whole run would differ each time).
    set_seed(session.config.train.seed)
    return resolved


def resolve_auto(train: TrainConfig, parameters: int, uses_gpu: bool, dtype: str,
                 fast: speed.SpeedChoice) -> Resolved:
    """Turn 'auto' settings into values, with a sentence for the log saying why."""
    small = parameters < SMALL_MODEL
    learning_rate, why_rate = auto_learning_rate(train, parameters)
    checkpointing, why_checkpointing = train.gradient_checkpointing, None
    if checkpointing == "auto":
        checkpointing = "on" if (uses_gpu and not small) else "off"
        why_checkpointing = (f"Gradient checkpointing {checkpointing} (auto): "
                             + ("saves memory on a large model." if checkpointing == "on"
                                else "this model fits without it, and it would cost about 30% speed."))
    return Resolved(speed=fast, uses_gpu=uses_gpu, dtype=dtype, learning_rate=learning_rate,
                    gradient_checkpointing=checkpointing == "on",
                    reasons=tuple(filter(None, (why_rate, why_checkpointing))))


def auto_learning_rate(train: TrainConfig, parameters: int) -> tuple[float, str | None]:
    """(the learning rate, why 'auto' picked it; None when it was set)."""
    if train.learning_rate != "auto":
        return float(train.learning_rate), None
    small = parameters < SMALL_MODEL
    lr = LORA_RATES[train.method][0 if small else 1]
    size = f"the model has {parameters / 1e6:.0f}M parameters"
    why = WHY_RATE[train.method] if small else f"the usual {train.method} rate for models of 1B parameters and more"
    if train.tuning != "lora":
        lr *= FULL_RATE_FACTOR
        why += f"; {train.tuning} tuning changes the weights themselves, so a tenth of the LoRA rate"
    return float(lr), f"Learning rate {lr:g} (auto): {train.method} with {train.tuning} tuning, {size}; {why}."


def total_steps(train: TrainConfig, rows: int) -> int:
    """The optimizer steps the run takes: train.max_steps, or the epochs over `rows` as the Trainer counts them."""
    if train.max_steps > 0:
        return train.max_steps
    return math.ceil(steps_per_epoch(rows, train.batch_size, train.grad_accum, ranks.world_size()) * train.epochs)


def arguments(session: Session, resolved: Resolved, rows: int, has_eval: bool) -> dict:
    """The trainer arguments every method shares (trl's configs all extend TrainingArguments). `rows` is what the
    data loader hands out per epoch (rows, pairs or blocks)."""
    t = session.config.train
    run = session.run
    total = total_steps(t, rows)
    return dict(
        output_dir=str(run.checkpoints_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=resolved.learning_rate,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        lr_scheduler_type=t.scheduler,
        warmup_steps=round(t.warmup_fraction * total),
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        seed=t.seed,
        data_seed=t.seed,
        max_length=t.max_length,
        activation_checkpointing=resolved.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False},
        **device_args(resolved.dtype, resolved.uses_gpu),
        logging_steps=t.logging_every,
        logging_first_step=True,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=t.eval_every or max(1, total // 5),
        save_strategy="steps" if t.save_every else "epoch",
        save_steps=t.save_every or 500,
        save_total_limit=2,
        **tracking(session),
        disable_tqdm=True,
        # Every trainable weight takes part in every step (LoRA's, or all of them); the search costs time.
        ddp_find_unused_parameters=False,
        use_liger_kernel=resolved.speed.liger_kernel,
        torch_compile=resolved.speed.torch_compile,
        train_sampling_strategy="group_by_length" if resolved.speed.group_by_length else "random",
    )


def tracking(session: Session) -> dict:
    """report_to for the Trainer, local or offline: metrics.jsonl stays what the studio draws, a tracker gets a copy."""
    from core.training import trackers

    return trackers.arguments(session.config.train.report_to, session.run, session.say if session.main else None)


def train_and_save(session: Session, trainer, loaded: models.LoadedModel, rows: int,
                   eval_rows: list[dict] | None) -> str:
    """Watch the trainer (metrics, status, Stop, probes), train, save the adapter or the model. Returns
    'completed' or 'stopped'."""
    from transformers import PrinterCallback

    from core.training.callbacks import ProbeCallback, RunCallback, counting

    config, say = session.config, session.say
    counter = counting(trainer)
    trainer.add_callback(RunCallback(session.run, session.stop, counter))
    # With tqdm off, transformers prints every log dict to stdout; metrics.jsonl and train.log already hold them.
    trainer.remove_callback(PrinterCallback)
    notes = []
    if config.train.tuning == "lora" and (trainer.args.fp16 or (loaded.dtype == "float16"
                                                                 and config.model.quantization != "none")):
        notes = keep_adapter_in_float32(trainer.model)
    for note in notes:
        say(note)
    fsdp_plugin = getattr(trainer.accelerator.state, "fsdp_plugin", None)
    if fsdp_plugin is not None and config.train.tuning == "lora":  # trainable and frozen weights wrapped apart
        from peft.utils.other import fsdp_auto_wrap_policy

        fsdp_plugin.auto_wrap_policy = fsdp_auto_wrap_policy(trainer.model)
    for callback in session.callbacks:
        trainer.add_callback(callback)
    # Probes are answered at each evaluation (there is none without held-out rows), by rank 0 alone: it can do so
    # only with a whole copy of the model, which fsdp and DeepSpeed shard away.
    if eval_rows and session.strategy not in models.SHARDED:
        from core.training.probes import probe_prompts

        # grpo's held-out loss is the policy's, no measure of the answers: no adapter is kept as the best by it.
        keep_best = config.train.tuning == "lora" and config.train.method != "grpo"
        trainer.add_callback(ProbeCallback(session.run, loaded.tokenizer, probe_prompts(config, eval_rows),
                                           keep_best=keep_best, stop=session.stop))
    elif eval_rows:
        say(f"Probe answers and best-adapter/ are skipped with {session.strategy}: no process holds the whole model.")
    t = config.train
    processes = ranks.world_size()
    say(f"Training {rows} rows for {total_steps(t, rows)} steps (batch {t.batch_size} x accumulation {t.grad_accum}"
        + (f" x {processes} processes)." if processes > 1 else ")."))

    try:
        trainer.train(resume_from_checkpoint=session.resume_from)
    except stopping.StopRequested:  # RunCallback, before this attempt's first step: the last checkpoint stays as it was
        say("Stopped before the first step; nothing new to save.")
        return "stopped"
    stopped = session.stop.is_set()  # RunCallback set it on every process alike
    if stopped and trainer.state.global_step == 0:
        say("Stopped before the first step finished; there is nothing to save.")
        return "stopped"
    tuning.save(trainer, session.run, t.tuning, say)
    return "stopped" if stopped else "completed"


def steps_per_epoch(rows: int, batch_size: int, grad_accum: int, processes: int = 1) -> int:
    """Optimizer steps per epoch, counted as the Trainer counts them: each process gets ceil(rows / processes)
    rows (the sampler pads the last share), in batches, of which grad_accum make a step."""
    batches = math.ceil(math.ceil(rows / processes) / batch_size)
    return max(1, math.ceil(batches / grad_accum))


def device_args(dtype: str, uses_gpu: bool) -> dict:
    """Trainer arguments that follow where the model trains: mixed precision only on a GPU (trl turns bf16 on by
    default, about 25x slower on a CPU without bfloat16 units), and use_cpu when it trains on the CPU, or the
    Trainer moves a CPU-placed model to cuda:0 of a GPU machine."""
    return {"bf16": uses_gpu and dtype == "bfloat16", "fp16": uses_gpu and dtype == "float16", "use_cpu": not uses_gpu,
            "dataloader_pin_memory": uses_gpu}


def on_gpu(placement: dict) -> bool:
    """Whether any of the model's layers sit on a GPU."""
    return any(str(device) not in ("cpu", "disk") for device in placement.values())


def keep_adapter_in_float32(model) -> list[str]:
    """trl casts the LoRA weights of a 4/8-bit model to bfloat16 (its QLoRA recipe). With float16 (GPUs without
    bfloat16) the gradient scaler then fails ('..._unscale_cuda not implemented for BFloat16'): float16 mixed
    precision wants float32 trainable weights, so they go back to float32."""
    import torch

    cast = 0
    for param in model.parameters():
        if param.requires_grad and param.dtype != torch.float32:
            param.data = param.data.float()
            cast += 1
    return [f"LoRA weights kept in float32 ({cast} tensors): float16 mixed precision needs them so."] if cast else []
