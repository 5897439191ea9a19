"""Will this run fit, and how long will it take? Measured, not guessed.

First an estimate from the model's config alone (core.measure.memory_estimate), then the real thing: the model is loaded
as configured and trained for two steps on the longest rows at the chosen batch size, through the same code as
a run (core.training.train), in a fresh process on the run's GPUs (core.measure.trial), while peak memory and
step times are measured. If that runs out of memory, or the model only fits with layers on the CPU, cheaper
settings are tried in order (smaller batch with more accumulation, gradient checkpointing, 4-bit, shorter max
length), each in a fresh process, and the first that fits is proposed; the UI applies it with one click.
"""

from __future__ import annotations

import copy
import json
import math
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from core.catalogue.message import Message, StudioError, message
from core.config import Config

MEASURED_STEPS = 2
SHARDED_WEIGHTS = ("fsdp", "deepspeed_zero3")  # the GPUs hold one copy of the weights between them


class PreflightError(StudioError, ValueError):
    """The trial failed for a reason other than memory (data, model); the message says which."""


@dataclass
class Attempt:
    """Two real steps with one set of settings."""

    config: Config
    changes: dict                      # dotted option -> value, against the user's settings
    fits: bool = False
    error: str | Message = ""          # why it did not fit, as the trial said it
    peak_gb: float | None = None
    step_seconds: list[float] = field(default_factory=list)
    placement: bool = False            # did not fit because layers would sit on the CPU (more batch rungs won't help)
    trained_tokens_per_s: float | None = None  # the two steps' speed, which scales replay and probes' time
    load_seconds: float | None = None  # from the trial's start to its first step: loading the model and data

    @property
    def seconds_per_step(self) -> float | None:
        # The last step: the first one also pays for warming caches up.
        return self.step_seconds[-1] if self.step_seconds else None

    def describe_changes(self) -> str | Message:
        return describe(self.changes)


@dataclass
class Report:
    estimate_lines: list[str | Message]
    placement: str | Message
    memory_kind: str | Message
    attempts: list[Attempt]
    total_steps: int
    length_ratio: float          # mean row length / mean length of the rows measured
    measured_rows: int
    longest_tokens: int
    estimate_gb: float = 0.0     # for the measured rows, as the first estimate line says
    available_gb: float = 0.0    # what the run's devices offer: free GPU memory, or available RAM on the CPU
    compute: str | Message = ""  # the compute plan, in a line
    skipped: tuple[Message, Message] | None = None  # (verdict, why) where no trial can measure the plan
    replay_prompts: int = 0      # knowledge-replay answers the run writes before training
    evaluations: int = 0         # evaluations during training, each with the probe answers

    @property
    def fitting(self) -> Attempt | None:
        return next((a for a in self.attempts if a.fits), None)

    @property
    def fits_as_configured(self) -> bool:
        return bool(self.attempts) and self.attempts[0].fits

    @property
    def proposal(self) -> dict:
        """The option changes to apply (empty when the settings fit as they are or nothing fits)."""
        fitting = self.fitting
        return dict(fitting.changes) if fitting and not self.fits_as_configured else {}

    def projected_seconds(self) -> tuple[float, float] | None:
        """(expected, at most) for the whole run: the measured step time scaled by the average row length
        against the longest rows', and unscaled."""
        fitting = self.fitting
        if not fitting or fitting.seconds_per_step is None:
            return None
        worst = fitting.seconds_per_step * self.total_steps
        return worst * min(1.0, self.length_ratio), worst

    def run_time(self):
        """The whole run (core.measure.duration.RunTime): load as the trial measured it, replay and probes at the
        speed its steps trained, and the projected training time; None when nothing fitted."""
        from core.measure import duration

        projection, fitting = self.projected_seconds(), self.fitting
        if projection is None:
            return None
        factor = duration.slowdown(fitting.trained_tokens_per_s)
        whole = duration.whole_run(projection[0], self.replay_prompts, self.evaluations, factor)
        if fitting.load_seconds is not None:
            whole.load = fitting.load_seconds
        return whole

    @property
    def verdict(self) -> Message:
        """One sentence that agrees with every figure below it."""
        if self.skipped:
            return self.skipped[0]
        if self.fits_as_configured:
            peak = self.attempts[0].peak_gb
            if self.estimate_over_available:  # never a verdict that the figure below seems to contradict
                return message("measure.preflight.estimate_over", peak=peak, available=self.available_gb,
                               gb=self.estimate_gb)
            estimate = message("measure.preflight.fits_estimate", gb=self.estimate_gb) if self.estimate_gb else ""
            return message("measure.preflight.fits", peak=peak, available=self.available_gb, estimate=estimate)
        if self.proposal:
            return message("measure.preflight.proposed_fits")
        return message("measure.preflight.nothing_fits")

    @property
    def estimate_over_available(self) -> bool:
        return bool(self.estimate_gb and self.available_gb and self.estimate_gb > self.available_gb)

    def lines(self) -> list[str | Message]:
        """The estimate, then one line per figure (Messages; str() of each is the English the command line prints)."""
        out = list(self.estimate_lines) + [message("measure.preflight.placement", placement=self.placement)]
        if self.compute:
            out.append(message("measure.preflight.compute", compute=self.compute))
        if self.skipped:
            return out + [self.skipped[1]]
        for attempt in self.attempts:
            if attempt.fits:
                out.append(message("measure.preflight.attempt_fits", changes=attempt.describe_changes(),
                                   peak=attempt.peak_gb, memory=self.memory_kind, seconds=attempt.seconds_per_step,
                                   rows=self.measured_rows, tokens=self.longest_tokens))
            else:
                out.append(message("measure.preflight.attempt_fails", changes=attempt.describe_changes(),
                                   error=attempt.error))
        projection, whole = self.projected_seconds(), self.run_time()
        if projection:
            from core.data.check import duration  # core.runs.duration_text's English, said in the page's language

            out.append(message("measure.preflight.projected", total=duration(whole.total), parts=whole.parts(),
                               steps=self.total_steps, expected=duration(projection[0]),
                               worst=duration(projection[1])))
        if self.proposal:
            out.append(message("measure.preflight.proposal", changes=describe(self.proposal)))
        elif not self.fitting:
            out.append(message("measure.preflight.too_big"))
        return out


def describe(changes: dict) -> str | Message:
    """'train.batch_size = 2, train.grad_accum = 4' (option names read the same in every language), or 'your
    settings' when nothing changes."""
    return ", ".join(f"{key} = {value}" for key, value in changes.items()) or message("measure.preflight.your_settings")


def cheaper_settings(config: Config, quantization_works: bool) -> list[dict]:
    """Option changes to try in order when the settings do not fit; each keeps the ones before it."""
    from core.training.failures import smaller_batch

    t = config.train
    ladder, changes = [], {}
    batch, accum = t.batch_size, t.grad_accum
    while (smaller := smaller_batch(batch, accum)) and len(ladder) < 2:  # half, then quarter: after that the next
        batch, accum = smaller                                           # rungs save more
        changes = {**changes, "train.batch_size": batch, "train.grad_accum": accum}  # the same effective batch
        ladder.append(dict(changes))
    if t.gradient_checkpointing != "on":
        changes = {**changes, "train.gradient_checkpointing": "on"}
        ladder.append(dict(changes))
    if config.model.quantization != "4bit" and quantization_works:
        changes = {**changes, "model.quantization": "4bit"}
        ladder.append(dict(changes))
    length = t.max_length
    while length // 2 >= 256:
        length //= 2
        changes = {**changes, "train.max_length": length}
        ladder.append(dict(changes))
        if length <= t.max_length // 4:
            break
    return ladder


def apply(config: Config, changes: dict) -> Config:
    values = config.to_dict()
    for dotted, value in changes.items():
        section, name = dotted.split(".")
        values[section][name] = value
    return Config.from_dict(values, source="the pre-flight proposal")


def longest_rows(config: Config, tokenizer, count: int) -> tuple[list[dict], float, int]:
    """The `count` longest training rows (repeated if there are fewer), the ratio of the average row's length to
    theirs, and the longest length."""
    from core.data import load as datasets_io
    from core.training.token_sets import row_tokens

    data, _ = datasets_io.load_for_training(config.data, config.train.method)
    sized = sorted(((min(row_tokens(tokenizer, row), config.train.max_length), i) for i, row in enumerate(data.rows)),
                   reverse=True)
    chosen = [sized[i % len(sized)] for i in range(count)]
    mean_all = statistics.mean(length for length, _ in sized)
    mean_chosen = statistics.mean(length for length, _ in chosen)
    return [data.rows[i] for _, i in chosen], mean_all / mean_chosen, chosen[0][0]


def two_steps(config: Config, rows: list[dict], work: Path, plan=None) -> Attempt:
    """Train MEASURED_STEPS steps on `rows` through core.training.train in a fresh process on the plan's GPUs
    (core.measure.trial), measuring peak memory and step times."""
    from core.models import compute
    from core.runs import Run
    from core.training import launch
    from core.training.failures import process_death

    data_file = work / "longest.jsonl"
    data_file.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    trial = copy.deepcopy(config)
    trial.name = "preflight"
    trial.data.path, trial.data.format, trial.data.eval_path = str(data_file), "auto", ""
    trial.data.eval_fraction, trial.data.replay = 0.0, 0
    trial.data.columns, trial.data.roles, trial.data.placeholders = {}, {}, {}  # already applied to `rows`
    trial.train.max_steps, trial.train.epochs = MEASURED_STEPS, 1
    trial.train.save_every = 10 ** 6  # no checkpoint: it is memory and time a step does not need
    trial.train.retry_on_oom = False
    attempt = Attempt(config=config, changes={})
    run = Run.create(work / "runs", trial.name)
    trial.save(run.config_file)
    plan = compute.one_process(plan or plan_run(config))
    process = launch.spawn(["-m", "core.measure.trial", str(run.path), "--strategy", plan.strategy], plan,
                           run.log_file)
    code = process.wait()
    try:
        result = json.loads((run.path / "attempt.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise PreflightError("measure.preflight.failed", reason=process_death(code, run.log_tail(8))) from None
    error = trial_error(result)
    if result.get("fatal"):
        raise PreflightError("measure.preflight.failed", reason=error)
    if not result["fits"]:
        attempt.error, attempt.placement = error, result.get("placement", False)
        return attempt
    attempt.fits, attempt.peak_gb, attempt.step_seconds = True, result["peak_gb"], result["step_seconds"]
    attempt.trained_tokens_per_s, attempt.load_seconds = result.get("trained_tokens_per_s"), result.get("load_seconds")
    return attempt


def trial_error(result: dict) -> str | Message:
    """Why a trial did not fit or failed: its message by key where the trial could give one, else its English."""
    said = result.get("error_message")
    return Message.from_json(said) if isinstance(said, dict) else result.get("error", "")


def plan_run(config: Config):
    from core.measure import memory_estimate

    return memory_estimate.plan_for(config)


def check(config: Config, progress=print, try_steps=None) -> Report:
    """Estimate, then measure; on running out of memory, walk down the cheaper settings. `try_steps(config,
    rows, work) -> Attempt` replaces the real two steps in tests."""
    from core.measure import duration, memory_estimate
    from core.models import compute, devices
    from core.models import load as models

    inventory = devices.inventory()
    plan = memory_estimate.plan_for(config, inventory, progress)  # ComputeError: settings this machine refuses
    if plan.strategy in SHARDED_WEIGHTS:
        return sharded_report(config, plan, inventory, progress)
    try_steps = try_steps or (lambda trial, rows, work: two_steps(trial, rows, work, plan))
    source = models.resolve_source(config.model.source, progress)
    tokenizer, _ = models.load_tokenizer(source, config.model.trust_remote_code, config.model.system_prompt)
    per_step = config.train.batch_size * config.train.grad_accum
    rows, ratio, longest = longest_rows(config, tokenizer, per_step * MEASURED_STEPS)
    progress(message("measure.preflight.estimating"))
    # For the rows the two steps train on, so the estimate and the measured peak speak of the same thing.
    estimate, placement = memory_estimate.for_config(config, progress=progress, inventory=inventory,
                                                     row_tokens=longest)
    total_steps = _total_steps(config, tokenizer)
    quantization_works = devices.bitsandbytes_problem(inventory) is None and plan.uses_gpu
    candidates = [{}] + cheaper_settings(config, quantization_works)
    attempts = []
    with tempfile.TemporaryDirectory(prefix="preflight-") as tmp:
        index = 0
        while index < len(candidates):
            changes = candidates[index]
            trial = apply(config, changes)
            progress(message("measure.preflight.trying", changes=describe(changes)))
            work = Path(tmp) / f"try{index}"
            work.mkdir(parents=True)
            attempt = try_steps(trial, rows, work)  # the same rows: accumulation keeps the effective batch
            attempt.config, attempt.changes = trial, changes
            attempts.append(attempt)
            if attempt.fits:
                break
            index += 1
            if attempt.placement:  # the weights do not fit: only a rung that shrinks them can help
                index = next((i for i in range(index, len(candidates)) if "model.quantization" in candidates[i]),
                             len(candidates))
    one = compute.one_process(plan)
    return Report(estimate.lines(), models.describe_placement(placement), _memory_kind(one), attempts, total_steps,
                  ratio, len(rows), longest, estimate.total_gb, _available_gb(one, inventory), plan.summary(),
                  replay_prompts=0 if getattr(tokenizer, "studio_added_template", False)
                  else duration.replay_prompts_asked(config),  # a model without a chat template skips replay
                  evaluations=duration.evaluations(total_steps, config.train.eval_every, _held_out(config)))


def sharded_report(config: Config, plan, inventory, progress) -> Report:
    """The estimate alone, for a plan whose GPUs share one copy of the weights (fsdp, ZeRO-3): a trial is one
    process on one GPU (core.compute.one_process), so it would measure the whole copy there and could only say
    'does not fit', proposing 4-bit for a model that fits sharded as configured."""
    from core.measure import memory_estimate

    progress(message("measure.preflight.estimating"))
    estimate, _ = memory_estimate.for_config(config, progress=progress, inventory=inventory)
    weights, trainer, activations, loss_tiles, overhead = estimate.parts_gb.values()
    share = (weights + trainer) / len(plan.gpus) + activations + loss_tiles + overhead
    free = min(g.free_gb for g in inventory.gpus if g.index in plan.gpus)
    skipped = (message("measure.preflight.sharded_verdict", strategy=plan.strategy, share=share, free=free),
               message("measure.preflight.sharded_skipped", strategy=plan.strategy, count=len(plan.gpus)))
    return Report(estimate.lines(), plan.summary(), _memory_kind(plan), [], 0, 1.0, 0, 0, share, free,
                  plan.summary(), skipped)


def _memory_kind(plan) -> Message:
    return message("measure.preflight.cuda_peak" if plan.uses_gpu else "measure.preflight.cpu_peak")


def _available_gb(plan, inventory) -> float:
    if plan.uses_gpu:
        return sum(g.free_gb for g in inventory.gpus if g.index in plan.gpus)
    return inventory.ram_available_gb


def _held_out(config: Config) -> int:
    """Whether the run evaluates: a held-out file, or a share of the rows kept for evaluation."""
    return int(bool(config.data.eval_path) or config.data.eval_fraction > 0)


def _total_steps(config: Config, tokenizer) -> int:
    """The steps the run will take, counted as it counts them: the training split plus replay rows for sft, the
    blocks of max_length tokens the documents fill for cpt, each question num_generations times for grpo."""
    from core.data import blocks
    from core.data import load as datasets_io

    t = config.train
    if t.max_steps > 0:
        return t.max_steps
    data, held_out = datasets_io.load_for_training(config.data, t.method)
    train_rows = data.rows if held_out else datasets_io.split(data.rows, config.data.eval_fraction, t.seed)[0]
    rows = len(blocks.blocks(tokenizer, train_rows, t.max_length)) if t.method == "cpt" else len(train_rows)
    rows += config.data.replay if t.method == "sft" else 0
    rows *= t.num_generations if t.method == "grpo" else 1  # each question asked num_generations times
    return math.ceil(math.ceil(rows / (t.batch_size * t.grad_accum)) * t.epochs)

