"""One LoRA fine-tune, top to bottom: load data, load model, add LoRA, build the trainer, train, save.

`train()` runs in a run's own process (core.training.worker, one process or each of several) or directly from a
test. It reports through the run folder only: train.log for people, status.json and metrics.jsonl for the UI and
the command line. With several processes only rank 0 writes there; the others train their share in silence.
"""

from __future__ import annotations

import json
import math
import threading
import time

from core.config import Config, TrainConfig
from core.data import load as datasets_io
from core.data import templates
from core.models import load as models
from core.runs import Run
from core.training import ranks
from core.training import replay
from core.training import speed

REPLAY_FILE = "replay.jsonl"  # the base model's replay answers, written once: a resume or retry reuses them

SMALL_MODEL = 1_000_000_000  # parameters; below this, small-model defaults apply


def train(config: Config, run: Run, stop: threading.Event | None = None, resume_from: str | None = None,
          callbacks: list | None = None, strategy: str = "single") -> str:
    """Fine-tune as `config` says, writing into `run`. Returns 'completed' or 'stopped'; raises on failure.

    `callbacks` are extra TrainerCallbacks that only watch (the benchmark's timers). `strategy` is the resolved
    compute.strategy of this run's process (core.models.compute): it decides where the model is loaded.
    """
    stop = stop or threading.Event()
    main = ranks.is_main()
    say = run.log if main else (lambda message: None)
    status = run.update_status if main else (lambda **changes: None)

    # 1. Data: load, report bad rows, hold some out for evaluation.
    status(state="loading", message="Reading the dataset ...")
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
    status(message="Loading the base model ...")
    gpus_here = models.will_use_gpu(config.model, config.compute.gpus)
    fast = speed.resolve(config.train, uses_gpu=gpus_here)
    loaded = models.load(config.model, progress=say, attention=fast["attention"], strategy=strategy,
                         for_training=True)
    for note in loaded.notes:
        say(note)
    say(f"Model: {loaded.source}, {loaded.parameters / 1e6:.1f}M parameters, {loaded.dtype}. "
        f"Placement: {models.describe_placement(loaded.placement)}"
        + (f", one copy in each of {ranks.world_size()} processes." if strategy == "ddp" else "."))
    status(dtype=loaded.dtype)  # what `auto` chose; an export keeps this precision
    if ranks.any_rank(stop.is_set()):  # every process stops here, or none does
        return "stopped"

    # 3. Knowledge replay: the base model's own answers to everyday questions, mixed into training. A pretrained
    # model without a chat template of its own does not answer in turns yet, so it has nothing to replay.
    if config.data.replay and getattr(loaded.tokenizer, "studio_added_template", None):
        say("Knowledge replay skipped: this is a pretrained model without a chat template of its own, so it has no "
            "chat answers of its own to keep.")
    elif config.data.replay:
        status(message=f"Writing {config.data.replay} knowledge-replay answers with the base model ...",
               replay_done=0, replay_asked=config.data.replay)
        train_rows = train_rows + replay_for_run(run, loaded, config, say, status)
        if ranks.any_rank(stop.is_set()):
            return "stopped"

    # 4. Tokens and labels: loss only on assistant turns (and completions, and plain text).
    train_set = tokenize(loaded.tokenizer, train_rows, config.train.max_length, "training", say)
    eval_set = tokenize(loaded.tokenizer, eval_rows, config.train.max_length, "held-out", say) if eval_rows else None
    if config.train.packing:
        train_set = pack(train_set, config.train.max_length, say)

    # 5. Settings that depend on the model and the hardware. fsdp and DeepSpeed load the model on the CPU and
    # move their shards to the GPUs themselves.
    uses_gpu = on_gpu(loaded.placement) or (strategy in models.SHARDED and gpus_here)
    choices = resolve_auto(config.train, loaded.parameters, uses_gpu=uses_gpu)
    choices["uses_gpu"] = uses_gpu
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
    for note in choices.get("notes", []):
        say(note)
    for callback in callbacks or ():
        trainer.add_callback(callback)
    # Probes are answered at each evaluation (there is none without held-out rows), by rank 0 alone: it can do
    # so only with a whole copy of the model, which fsdp and DeepSpeed shard away.
    if eval_set is not None and strategy not in models.SHARDED:
        from core.training.callbacks import ProbeCallback
        from core.training.probes import probe_prompts

        trainer.add_callback(ProbeCallback(run, loaded.tokenizer, probe_prompts(config, eval_rows)))
    elif eval_set is not None:
        say(f"Probe answers and best-adapter/ are skipped with {strategy}: no process holds the whole model.")
    processes = ranks.world_size()
    say(f"Training {len(train_set)} rows for {choices['total_steps']} steps (batch {config.train.batch_size} x "
        f"accumulation {config.train.grad_accum}" + (f" x {processes} processes)." if processes > 1 else ")."))

    # 8. Train, then save the adapter with the tokenizer (and its chat template) so chat needs nothing else.
    trainer.train(resume_from_checkpoint=resume_from)
    stopped = stop.is_set()  # RunCallback set it on every process alike
    if stopped and trainer.state.global_step == 0:
        say("Stopped before the first step finished; there is nothing to save.")
        return "stopped"
    if trainer.is_fsdp_enabled:  # gather the shards into one adapter file, as peft's FSDP guide does
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(run.adapter_dir))  # every process joins; rank 0 writes adapter + tokenizer
    say(f"Adapter saved to {run.adapter_dir} after step {trainer.state.global_step}.")
    del trainer, model, loaded
    return "stopped" if stopped else "completed"


def replay_for_run(run: Run, loaded, config: Config, say, status=None) -> list[dict]:
    """The replay rows: written by rank 0 once per run (the others read them), reused by a resume or a retry."""
    path = run.path / REPLAY_FILE
    with ranks.main_first():
        if not path.exists() and ranks.is_main():
            started = time.time()

            def progress(done, asked, kept):  # the Train tab shows "k of N" and the time left from these
                if status:
                    left = (time.time() - started) / done * (asked - done) if done else None
                    status(message=f"Writing knowledge-replay answers with the base model: {done} of {asked} ...",
                           replay_done=done, replay_asked=asked, replay_kept=kept, replay_seconds_left=left)

            prompts = replay.pick_prompts(config.data.replay, config.train.seed)
            rows = replay.replay_rows(loaded.model, loaded.tokenizer, prompts, progress=progress)
            from core.runs import write_text_atomic

            write_text_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
            say(f"Knowledge replay: {replay.kept_text(len(prompts), len(rows))}; the base model's own answers "
                "are trained with your rows.")
            if status:
                status(replay_asked=len(prompts), replay_kept=len(rows))
            return rows
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    say(f"Knowledge replay: reusing the {len(rows)} rows the base model wrote for this run ({REPLAY_FILE}).")
    return rows


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
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if config.model.quantization != "none" and model.dtype == torch.float16:
        # peft's recipe upcasts every weight that is not quantized (embeddings, output head, norms) to float32:
        # float16 needs it to stay stable, at ~2 GiB more for an 8B model. In bfloat16, as trl's QLoRA recipe
        # does, they stay as loaded.
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
    total = t.max_steps if t.max_steps > 0 else math.ceil(
        steps_per_epoch(len(train_set), t.batch_size, t.grad_accum, ranks.world_size()) * t.epochs)
    choices["total_steps"] = total
    eval_every = t.eval_every or max(1, total // 5)
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
        **device_args(loaded.dtype, choices["uses_gpu"]),
        logging_steps=t.logging_every,
        logging_first_step=True,
        eval_strategy="steps" if eval_set is not None else "no",
        eval_steps=eval_every,
        save_strategy="steps" if t.save_every else "epoch",
        save_steps=t.save_every or 500,
        save_total_limit=2,
        report_to="none",
        disable_tqdm=True,
        ddp_find_unused_parameters=False,  # every LoRA weight takes part in every step; the search costs time
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
    if args.fp16 or (loaded.dtype == "float16" and config.model.quantization != "none"):
        choices.setdefault("notes", []).extend(keep_adapter_in_float32(trainer.model))
    fsdp_plugin = getattr(trainer.accelerator.state, "fsdp_plugin", None)
    if fsdp_plugin is not None:  # trainable and frozen weights wrapped apart, as peft's FSDP guide does
        from peft.utils.other import fsdp_auto_wrap_policy

        fsdp_plugin.auto_wrap_policy = fsdp_auto_wrap_policy(trainer.model)
    return trainer, collator


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
