"""One LoRA fine-tune, top to bottom: load data, load model, add LoRA, build the trainer, train, save.

`train()` runs in the job's background thread (core.jobs) or directly from a test. It reports through the run
folder only: train.log for people, status.json and metrics.jsonl for the UI and the command line.
"""

from __future__ import annotations

import math
import threading

from core.config import Config, TrainConfig
from core.data import load as datasets_io
from core.data import templates
from core.models import load as models
from core.runs import Run
from core.training import replay
from core.training import speed

SMALL_MODEL = 1_000_000_000  # parameters; below this, small-model defaults apply


def train(config: Config, run: Run, stop: threading.Event | None = None, resume_from: str | None = None,
          callbacks: list | None = None) -> str:
    """Fine-tune as `config` says, writing into `run`. Returns 'completed' or 'stopped'; raises on failure.

    `callbacks` are extra TrainerCallbacks that only watch (the benchmark's timers).
    """
    stop = stop or threading.Event()
    say = run.log

    # 1. Data: load, report bad rows, hold some out for evaluation.
    run.update_status(state="loading", message="Reading the dataset ...")
    data, held_out = datasets_io.load_for_training(config.data)
    say(f"Data: {data.path}, format {data.format}, {len(data.rows)} usable rows of {data.total}.")
    for loaded_file in filter(None, (data, held_out)):
        for problem in loaded_file.problems:
            say(f"Skipped {problem}")
        if loaded_file.skipped:
            say(f"{loaded_file.skipped} rows of {loaded_file.path} skipped in all (data.skip_bad_rows is on).")
    if held_out:
        train_rows, eval_rows = data.rows, held_out.rows
        say(f"Held-out rows: {len(eval_rows)} from {held_out.path}.")
    else:
        train_rows, eval_rows = datasets_io.split(data.rows, config.data.eval_fraction, config.train.seed)

    # 2. Model and tokenizer, with the attention implementation the speed options call for.
    run.update_status(message="Loading the base model ...")
    fast = speed.resolve(config.train, uses_gpu=models.will_use_gpu(config.model))
    loaded = models.load(config.model, progress=say, attention=fast["attention"])
    for note in loaded.notes:
        say(note)
    say(f"Model: {loaded.source}, {loaded.parameters / 1e6:.1f}M parameters, {loaded.dtype}. "
        f"Placement: {models.describe_placement(loaded.placement)}.")
    if stop.is_set():
        return "stopped"

    # 3. Knowledge replay: the base model's own answers to everyday questions, mixed into training. A pretrained
    # model without a chat template of its own does not answer in turns yet, so it has nothing to replay.
    if config.data.replay and getattr(loaded.tokenizer, "studio_added_template", None):
        say("Knowledge replay skipped: this is a pretrained model without a chat template of its own, so it has no "
            "chat answers of its own to keep.")
    elif config.data.replay:
        run.update_status(message=f"Writing {config.data.replay} knowledge-replay answers with the base model ...")
        extra = replay.replay_rows(loaded.model, loaded.tokenizer,
                                   replay.pick_prompts(config.data.replay, config.train.seed))
        say(f"Knowledge replay: added {len(extra)} rows answered by the base model itself.")
        train_rows = train_rows + extra
        if stop.is_set():
            return "stopped"

    # 4. Tokens and labels: loss only on assistant turns (and completions, and plain text).
    train_set = tokenize(loaded.tokenizer, train_rows, config.train.max_length, "training", say)
    eval_set = tokenize(loaded.tokenizer, eval_rows, config.train.max_length, "held-out", say) if eval_rows else None
    if config.train.packing:
        train_set = pack(train_set, config.train.max_length, say)

    # 5. Settings that depend on the model and the hardware.
    choices = resolve_auto(config.train, loaded.parameters, uses_gpu=_uses_gpu(loaded))
    choices.update({key: value for key, value in fast.items() if key != "reasons"})
    for reason in fast["reasons"] + choices["reasons"]:
        say(reason)

    # 6. LoRA, initialised from the run's seed (the Trainer seeds only later, so without this the adapter's
    # starting weights, and with them the whole run, would differ each time).
    from transformers import set_seed

    set_seed(config.train.seed)
    model = add_lora(loaded.model, config, choices["gradient_checkpointing"])
    trainable, total = model.get_nb_trainable_parameters()
    say(f"LoRA: r={config.lora.r}, alpha={config.lora.alpha}, {trainable / 1e6:.2f}M trainable parameters "
        f"({100 * trainable / total:.2f}% of {total / 1e6:.1f}M).")

    # 7. Trainer.
    trainer, collator = build_trainer(config, run, model, loaded, train_set, eval_set, choices, stop)
    for callback in callbacks or ():
        trainer.add_callback(callback)
    if eval_set is not None:  # probes are answered at each evaluation, and there is none without held-out rows
        from core.training.callbacks import ProbeCallback
        from core.training.probes import probe_prompts

        trainer.add_callback(ProbeCallback(run, loaded.tokenizer, probe_prompts(config, eval_rows)))
    say(f"Training {len(train_set)} rows for {choices['total_steps']} steps "
        f"(batch {config.train.batch_size} x accumulation {config.train.grad_accum}).")

    # 8. Train, then save the adapter with the tokenizer (and its chat template) so chat needs nothing else.
    trainer.train(resume_from_checkpoint=resume_from)
    stopped = stop.is_set()
    if stopped and trainer.state.global_step == 0:
        say("Stopped before the first step finished; there is nothing to save.")
        return "stopped"
    model.save_pretrained(run.adapter_dir)
    loaded.tokenizer.save_pretrained(run.adapter_dir)
    say(f"Adapter saved to {run.adapter_dir} after step {trainer.state.global_step}.")
    del trainer, model, loaded
    return "stopped" if stopped else "completed"


def tokenize(tokenizer, rows: list[dict], max_length: int, label: str, say):
    """A datasets.Dataset of input_ids and labels; rows cut by max_length are counted, empty ones dropped."""
    from datasets import Dataset

    records, cut, empty, refused = [], 0, 0, []
    for row in rows:
        try:
            record = templates.tokenize_row(tokenizer, row, max_length)
        except templates.RowTemplateError as err:  # e.g. roles that do not alternate, for a template that checks
            refused.append(str(err))
            continue
        if record.pop("full_length") > max_length:
            cut += 1
        if all(label_id == templates.IGNORE for label_id in record["labels"]):
            empty += 1  # everything it would teach lies beyond max_length
            continue
        records.append(record)
    if refused:
        say(f"{len(refused)} {label} rows were left out: {refused[0]}" + (" (and the same for the others)."
                                                                          if len(refused) > 1 else "."))
    if cut:
        say(f"{cut} {label} rows are longer than max_length {max_length} tokens and were cut"
            + (f"; {empty} of them lost every trained token and were left out." if empty else "."))
    if not records:
        raise ValueError(f"No {label} rows are left after cutting to max_length {max_length}; raise max_length.")
    return Dataset.from_list(records)


def pack(train_set, max_length: int, say):
    """Best-fit-decreasing packing: whole examples fill rows of up to max_length tokens, none is split."""
    from trl.data_utils import pack_dataset

    packed = pack_dataset(train_set, max_length, strategy="bfd")
    say(f"Packing: {len(train_set)} examples into {len(packed)} rows of up to {max_length} tokens.")
    return packed


def resolve_auto(train: TrainConfig, parameters: int, uses_gpu: bool) -> dict:
    """Turn 'auto' settings into values, with a sentence for the log saying why."""
    reasons = []
    small = parameters < SMALL_MODEL
    lr = train.learning_rate
    if lr == "auto":
        lr = 1e-3 if small else 2e-4
        reasons.append(f"Learning rate {lr:g} (auto): the model has {parameters / 1e6:.0f}M parameters; "
                       + ("small models need a higher rate to learn in a few dozen steps."
                          if small else "2e-4 is the usual LoRA rate for models of 1B parameters and more."))
    checkpointing = train.gradient_checkpointing
    if checkpointing == "auto":
        checkpointing = "on" if (uses_gpu and not small) else "off"
        reasons.append(f"Gradient checkpointing {checkpointing} (auto): "
                       + ("saves memory on a large model." if checkpointing == "on"
                          else "this model fits without it, and it would cost about 30% speed."))
    return {"learning_rate": float(lr), "gradient_checkpointing": checkpointing == "on", "reasons": reasons}


def add_lora(model, config: Config, gradient_checkpointing: bool):
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if config.model.quantization != "none":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    if gradient_checkpointing:
        model.enable_input_require_grads()  # checkpointed layers need an input that requires grad
    lora = LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=config.lora.target_modules, use_rslora=config.lora.use_rslora,
                      use_dora=config.lora.use_dora, task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def build_trainer(config, run, model, loaded, train_set, eval_set, choices, stop):
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    from core.training.callbacks import CountingCollator, RunCallback

    t = config.train
    steps_per_epoch = math.ceil(len(train_set) / (t.batch_size * t.grad_accum))
    total = t.max_steps if t.max_steps > 0 else math.ceil(steps_per_epoch * t.epochs)
    choices["total_steps"] = total
    eval_every = t.eval_every or max(1, total // 5)
    bf16 = loaded.dtype == "bfloat16" and _uses_gpu(loaded)
    fp16 = loaded.dtype == "float16" and _uses_gpu(loaded)
    args = SFTConfig(
        output_dir=str(run.checkpoints_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=choices["learning_rate"],
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
        activation_checkpointing=choices["gradient_checkpointing"],
        activation_checkpointing_kwargs={"use_reentrant": False},
        # trl defaults bf16 on; on a CPU without bfloat16 units that is ~25x slower, so it follows the model.
        bf16=bf16,
        fp16=fp16,
        logging_steps=t.logging_every,
        logging_first_step=True,
        eval_strategy="steps" if eval_set is not None else "no",
        eval_steps=eval_every,
        save_strategy="steps" if t.save_every else "epoch",
        save_steps=t.save_every or 500,
        save_total_limit=2,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=_uses_gpu(loaded),
        use_liger_kernel=choices["liger_kernel"],
        torch_compile=choices["torch_compile"],
        train_sampling_strategy="group_by_length" if choices["group_by_length"] else "random",
    )
    # Padding-free goes to our collator, not to SFTConfig: trl refuses a custom collator when it is set there.
    collator = CountingCollator(pad_token_id=loaded.tokenizer.pad_token_id, padding_free=choices["padding_free"])
    trainer = SFTTrainer(model=model, args=args, data_collator=collator, train_dataset=train_set,
                         eval_dataset=eval_set, processing_class=loaded.tokenizer,
                         callbacks=[RunCallback(run, stop, collator)])
    # With tqdm off, transformers prints every log dict to stdout; metrics.jsonl and train.log already hold them.
    trainer.remove_callback(PrinterCallback)
    return trainer, collator


def _uses_gpu(loaded) -> bool:
    return any(str(device) not in ("cpu", "disk") for device in loaded.placement.values())
