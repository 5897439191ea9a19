"""The background training thread: one run at a time, owned by the engine, never by a browser event.

The thread plans where the run trains (core.models.compute: which GPUs, which strategy, how many processes, and
why), starts the run's own process on exactly those GPUs (core.training.launch) and watches it until it ends.
The process writes the run folder, so the UI and the command line read it as before; a crash of the process,
even a segfault or kill -9, leaves this thread (and the studio) running, and the run `failed` with the reason
and the last lines of its log. Out of memory is retried once with a smaller batch in a fresh process.

Closing the browser or reloading the page touches nothing here; the UI and the command line only read the run
folder and call start/stop. Every way a run can end is written to status.json.

With a queue (core.training.queue), the thread hands over as a run ends: it starts the next queued run before it
says it is done, so a waiter (`launch.py queue run`, the page) never sees a gap between two runs of the queue. A
runner with a queue trains only while it holds the runs folder's trainer lock (core.training.trainer_lock): the
studio and `launch.py queue run` on one folder take turns instead of training two runs on one GPU.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from pathlib import Path

import yaml

from core.catalogue.message import Message, StudioError
from core.config import Config
from core.models import devices
from core.models import parent
from core.runs import Run, mark_interrupted, state_word, status_message, write_text_atomic
from core.training import failures
from core.training import worker
from core.training.failures import explain_failure
from core.training.chain import done_run
from core.training.queue import Entry, QueueError, RunQueue
from core.training.trainer_lock import TrainerLock, other_trainer


class BusyError(StudioError, RuntimeError):
    """A run cannot start now (another is in progress, or this one cannot resume): a key 'jobs.<name>'."""


class JobRunner:
    """Starts and stops training runs in a background thread, one at a time.

    Each run trains in its own process. `in_process=True` trains in this process instead (the same code, minus
    the process boundary): for tests that inject faults into the trainer, and for `callbacks` that must watch
    the trainer from here (the benchmark's timers). `before_start` runs before a run starts (the studio lets its
    chat model go, so the run has the GPU memory). With `queue`, the next queued run starts when one ends.
    """

    def __init__(self, runs_dir: str | Path = "runs", callbacks: list | None = None, in_process: bool = False,
                 before_start=None, queue: RunQueue | None = None):
        if callbacks and not in_process:
            raise ValueError("Trainer callbacks can only watch a run trained in this process (in_process=True).")
        self.runs_dir = Path(runs_dir)
        self.callbacks = callbacks or []
        self.in_process = in_process
        self.before_start = before_start
        self.queue = queue
        self.trainer = TrainerLock(self.runs_dir) if queue is not None else None  # one trainer per runs folder
        self.hand_over = True  # False: a run that ends starts nothing more (the command line's Ctrl-C)
        self._lock = threading.Lock()
        # Completion is an Event, not Thread.is_alive(): on Python 3.11 a Ctrl-C that interrupts join() marks a
        # still-running thread as finished, and Stop would then think there is nothing to stop.
        self._done = threading.Event()
        self._done.set()
        self._process = None
        self._aborted = False
        self.held_gpus: tuple[int, ...] = ()  # the GPUs the running run trains on (the chat keeps off them)
        self.run: Run | None = None

    @property
    def busy(self) -> bool:
        return not self._done.is_set()

    def start(self, config: Config, resume: Run | None = None) -> Run:
        """Create the run folder and start training in the background; refuse if a run is in progress."""
        with self._lock:  # two clicks at once must not both pass the busy check
            if self.busy:
                raise BusyError("jobs.in_progress", run=self.run.name)
            return self._begin(config, resume)

    def _begin(self, config: Config, resume: Run | None, entry: Entry | None = None) -> Run:
        """Start the run, under self._lock; the caller checked that no run of this runner goes. With a queue, the
        runs folder's trainer lock is taken first: BusyError when another process trains there."""
        self._take_folder(resume.name if resume else config.name)
        try:
            return self._begin_locked(config, resume, entry)
        except BaseException:
            if self.trainer is not None and self._done.is_set():  # (a hand-over's failure: the ending run releases)
                self.trainer.release()
            raise

    def _take_folder(self, name: str) -> None:
        if self.trainer is None:
            return
        other = self.trainer.acquire(name)
        if other is not None:
            raise BusyError("jobs.other_process", run=other.run, pid=other.pid)

    def _begin_locked(self, config: Config, resume: Run | None, entry: Entry | None) -> Run:
        if resume is None:
            if parent.names_run(config.model.source):  # the saved config names the parent's folder itself
                config.model.source = parent.recorded(config.model.source, self.runs_dir)
            run = Run.create(self.runs_dir, config.name)
            if run.name != config.name:
                config.name = run.name  # the config saved with the run names its real folder
            config.save(run.config_file)
            if self.trainer is not None:
                self.trainer.acquire(run.name)  # the folder's real name, which `launch.py queue run` prints
        else:
            run = resume
            state = run.status().get("state")
            if state not in ("stopped", "failed", "interrupted"):
                raise BusyError("jobs.not_resumable", run=run.name, state=state_word(state))
            if not run.resumable():
                raise BusyError("jobs.no_checkpoint", run=run.name)
        if self.before_start:
            self.before_start()
        if self.queue is not None and resume is not None and self.queue.held_by() == run.name:
            self.queue.release()  # the interrupted run the queue waited for goes on; the queue follows it
        run.clear_stop()
        chain = {"chain": entry.chain} if entry is not None and entry.chain else {}  # kept when it is resumed
        run.update_status(state="queued", message=Message("jobs.starting"), **run.carried_over(),
                          started_at=time.time(), ended_at=None, pid=os.getpid(), worker_pid=None, **chain)
        self.run = run
        self._aborted = False
        self._done = threading.Event()
        threading.Thread(target=self._work, args=(config, run, self._done), daemon=True,
                         name=f"train-{run.name}").start()
        return run

    def start_next(self) -> Run | None:
        """Start the first queued run when none goes and the queue is not held; the run, or None. Called after a
        change to the queue (Add to queue, Skip) and at start-up, so an entry never waits with nothing running."""
        with self._lock:
            if self.busy or self.queue is None:
                return None
            return self._start_queued()

    def after_restart(self) -> list[str]:
        """At start-up: runs left active by a process that died are marked interrupted. With entries queued, the
        queue then waits for the user to resume or skip the interrupted run (the Train tab asks); otherwise the
        queue goes on where it was. The names of the interrupted runs."""
        interrupted = mark_interrupted(self.runs_dir)
        if self.queue is not None:
            try:
                if interrupted and self.queue.entries() and not self.queue.held_by():
                    self.queue.hold(interrupted[0])
                self.start_next()
            except QueueError:
                pass  # an unreadable queue file must not keep the studio from starting: the Train tab says why
        return interrupted

    def skip_held(self) -> Run | None:
        """Skip: leave the interrupted run as it is and start the next queued run."""
        if self.queue is None:
            return None
        self.queue.release()
        return self.start_next()

    def _start_queued(self) -> Run | None:
        """Take entries until one starts (under self._lock), unless another process trains in this runs folder:
        the entries then wait for it. An entry whose config no longer reads (an older version's option, a file
        edited by hand) becomes a failed run saying why, never a silent loss. A chain's stage whose run finished
        earlier with the same settings and data is not trained again (as `launch.py train` of the chain does)."""
        if self.trainer is not None and other_trainer(self.runs_dir) is not None:
            return None
        while (entry := self.queue.take_next()) is not None:
            try:
                config = entry.to_config()
            except StudioError as err:
                run = Run.create(self.runs_dir, entry.name)
                write_text_atomic(run.config_file, yaml.safe_dump(entry.config, sort_keys=False, allow_unicode=True))
                run.update_status(state="failed", message=err.message, ended_at=time.time(),
                                  **({"chain": entry.chain} if entry.chain else {}))
                self.queue.stage_ended(run)
                continue
            if entry.chain and (done := done_run(config, self.runs_dir)) is not None:
                self.queue.note(Message("chain.stage_done", {"stage": entry.chain["stage"], "run": done.name,
                                                             "number": entry.chain["number"],
                                                             "count": entry.chain["count"]}))
                self.queue.stage_ended(done, entry.chain)
                continue
            try:
                return self._begin(config, None, entry)
            except BusyError as err:
                self.queue.put_back(entry)
                if err.key == "jobs.other_process":  # taken by another process a moment ago: it goes on
                    return None
                raise
            except BaseException:
                self.queue.put_back(entry)
                raise
        return None

    def _hand_over(self, ended: Run) -> None:
        """A run ended: start the next queued one. A run that completed, failed or was stopped all go on: the
        queue is work left for the studio to do unattended, a failed run's reason waits in its folder, and Stop
        means "not this run" (remove the entries to empty the queue). Only a run the studio did not see end
        (interrupted, found at the next start) holds the queue, and the command line's Ctrl-C ends it."""
        if self.queue is None or not self.hand_over:
            return
        try:
            with self._lock:
                self._start_queued()
        except BaseException as err:  # the run that ended must still say so; the entry stays in the queue file
            ended.log(f"The next queued run could not start: {explain_failure(err)}")
            ended.log(traceback.format_exc())

    def _follow_chain(self, ended: Run) -> None:
        """A chain's stage ended: the next stage starts from its run, or, when it did not complete, the chain's
        remaining stages leave the queue with the reason (said on the Train tab and by `launch.py queue`)."""
        if self.queue is None:
            return
        try:
            self.queue.stage_ended(ended)
        except BaseException as err:  # the run's own end is said already; the queue file says why it is unreadable
            ended.log(f"The queue could not be told that this run ended: {explain_failure(err)}")

    def stop(self) -> bool:
        """Ask the run to stop at the end of the current step; its adapter is then saved. False if none runs.
        The request is a file in the run folder, which every process of the run reads."""
        if not self.busy:
            return False
        self.run.request_stop()
        self.run.update_status(state="stopping", message=Message("jobs.stopping"))
        return True

    def abort(self) -> None:
        """End the run's processes at once, without saving (the command line's second Ctrl-C)."""
        process = self._process
        if process is not None and process.poll() is None:
            self._aborted = True
            os.killpg(process.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (for the command line and tests); True if it ended."""
        return self._done.wait(timeout)

    # ---- the thread -------------------------------------------------------------------------------------------

    def _work(self, config: Config, run: Run, done: threading.Event) -> None:
        try:
            if run.stop_requested():
                run.update_status(state="stopped", message=Message("training.worker.stopped_before_first_step"),
                                  ended_at=time.time())
                return
            plan = plan_run(config)
            if self.in_process:
                from core.models.compute import one_process

                plan = one_process(plan)
            run.log(f"Compute: {plan.summary()} ({plan.reason}).")
            self.held_gpus = tuple(plan.gpus)
            outcome = self._train_with_retry(config, run, plan)
            if outcome.state == "failed":
                run.log(f"Failed: {outcome.message}")
                run.update_status(state="failed", message=outcome.message, ended_at=time.time())
        except BaseException as err:  # anything at all: the run must end as failed, never as 'training' forever
            message = explain_failure(err)
            run.log(f"Failed: {message}")
            run.log(traceback.format_exc())
            run.update_status(state="failed", message=message, ended_at=time.time())
        finally:
            self._process = None
            self.held_gpus = ()
            devices.release_memory()
            try:
                self._follow_chain(run)
                self._hand_over(run)  # before done is set: the next run is already busy when waiters wake
            finally:
                if self.trainer is not None and self.run is run:  # no next run started: the folder is free
                    self.trainer.release()
                done.set()

    def _train_with_retry(self, config: Config, run: Run, plan) -> worker.Outcome:
        """Train (resuming from the run's last complete checkpoint if it has one); on running out of memory,
        where the config allows it, once more in a fresh process with a smaller batch and the same effective
        batch (more accumulation)."""
        while True:
            resume_from = run.last_checkpoint()
            run.log(f"Run {run.name} resumed from {resume_from.name}." if resume_from else f"Run {run.name} started.")
            outcome = self._attempt(run, plan, str(resume_from) if resume_from else None)
            smaller = failures.smaller_batch(config.train.batch_size, config.train.grad_accum)
            if not (outcome.out_of_memory and config.train.retry_on_oom and smaller) or run.stop_requested():
                return outcome
            effective = config.train.batch_size * config.train.grad_accum
            config.train.batch_size, config.train.grad_accum = smaller
            config.train.retry_on_oom = False  # once: a second failure is reported, not retried
            config.save(run.config_file)
            run.log(f"Out of memory. Retrying with batch size {smaller[0]} and gradient accumulation {smaller[1]} "
                    f"(the same effective batch of {effective}), in a fresh process.")

    def _attempt(self, run: Run, plan, resume_from: str | None) -> worker.Outcome:
        worker.clear_failures(run)
        if self.in_process:
            outcome = worker.execute(run, threading.Event(), plan.strategy, resume_from, self.callbacks)
            devices.release_memory()  # the failed attempt's model is gone before a retry loads the next one
            return outcome
        from core.training import launch

        self._process = process = launch.start(run, plan, resume_from)
        run.update_status(worker_pid=process.pid)
        code = process.wait()
        status = run.status()
        if code == worker.EXIT_ENDED and status.get("state") in ("completed", "stopped"):
            return worker.Outcome(status["state"], status_message(status))
        if self._aborted:
            message = Message("jobs.aborted", {"step": status.get("step", 0)})
            run.update_status(state="stopped", message=message, ended_at=time.time())
            return worker.Outcome("stopped", message)
        return worker.read_failure(run) or worker.Outcome("failed", failures.process_death(code, run.log_tail(8)))


def check_inputs(config: Config, runs_dir: str | Path = "runs") -> None:
    """Refuse what would fail a run at once, before a run folder or a process exists: a model source that is not
    there (no such folder, a folder without config.json, a hub id the hub does not answer for) and data that
    cannot be trained on (a missing or empty file, no usable row, bad rows). Raises the DataError or ModelError the
    run's process would raise 30-60 s later, after a run folder had been made for nothing. A run started from a
    finished run (run:NAME, looked up in `runs_dir`) is refused when that run is missing, unfinished or empty."""
    from core.models import builtin
    from core.models.load import resolve_source

    source = config.model.source
    if parent.names_run(source):
        source = parent.recorded(source, runs_dir)
        _check_continue(config, parent.find(source)[0])
    if source not in builtin.BUILTINS:  # a built-in is always there (fetched on first use)
        resolved = resolve_source(source, progress=lambda _: None)
        if not Path(resolved).is_dir():  # a hub id not downloaded yet: the run's process downloads it first
            _check_hub_model(resolved, config)
    check_data(config)


def check_data(config: Config) -> None:
    """The data as the method takes it, and for grpo the rewards against its reference answers."""
    from core.data.load import load_for_training
    from core.training import rewards

    data, _ = load_for_training(config.data, config.train.method)
    if config.train.method == "grpo":
        rewards.check(config.train, data.rows, data.path)


def check_stages(stages, runs_dir: str | Path = "runs") -> None:
    """Refuse now what would stop a chain (core.training.chain) later: the first stage's model and data, and every
    later stage's data (a stage whose data has the wrong shape for its method names itself and the file)."""
    from core.training.chain import StageError

    for stage in stages:
        config = stage.config()
        try:
            if stage.follows:
                check_data(config)
            else:
                check_inputs(config, runs_dir)
        except StudioError as err:
            raise StageError("config.stages.stage_refused", stage=stage.label, number=stage.number,
                             count=len(stages), reason=err) from None


def _check_continue(config: Config, parent_run: Run) -> None:
    """model.start continue trains the parent's LoRA adapter further: refused for full or freeze tuning here, not
    after the model has loaded in the run's process."""
    from core.training.errors import TrainingError

    continues_adapter = config.model.start == "continue" and not parent.whole_model(parent_run)
    if continues_adapter and config.train.tuning != "lora":
        raise TrainingError("training.start_from.continue_needs_lora", tuning=config.train.tuning)


def _check_hub_model(model_id: str, config: Config) -> None:
    """The hub's file list for the id, from the run's hub: the cheapest proof that it can be downloaded (and that
    the disk has room for it)."""
    from core.hub.download import check_available, in_hf_cache
    from core.hub.settings import settings_for

    hub = settings_for(config.model.hub, config.model.hub_endpoint)
    if hub.hub == "huggingface" and in_hf_cache(model_id) is not None:
        return  # huggingface_hub's own cache has it: the run loads it from there, offline too
    check_available(model_id, settings=hub)


def plan_run(config: Config):
    """Where the run trains, and why (core.models.compute; the memory figure from the model's config)."""
    from core.measure import memory_estimate

    return memory_estimate.plan_for(config)
