"""What the verbs share: failing with a message, the progress bar and its log lines, Ctrl-C, argument types."""

from __future__ import annotations

import argparse
import sys
import time

from core.config import ConfigError


def listen_for_ctrl_c() -> None:
    """Ctrl-C (SIGINT) stops the run at the end of a step, also where the shell started this command with SIGINT
    ignored (a non-interactive shell's background job, `nohup`): Python then never installs its own handler, and
    `kill -INT` would do nothing."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def stop_after_ctrl_c(runner) -> None:
    """The first Ctrl-C asks the run to stop at the end of its step (the adapter is saved); a second one aborts."""
    print("\nStopping at the end of this step (Ctrl-C again to abort without saving) ...", flush=True)
    runner.stop()
    try:
        runner.wait()
    except KeyboardInterrupt:
        runner.abort()
        runner.wait()


def count(text: str) -> int:
    """An argument that counts something: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def key_values(items, flag: str) -> dict:
    """KEY=VALUE arguments of `flag` as a dict; a malformed one is refused naming the flag."""
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError("cli.pair", flag=flag, item=repr(item))
        pairs[key.strip()] = value.strip()
    return pairs


class ProgressBar:
    """A one-line progress bar: state, step/total, loss and ETA."""

    def __init__(self):
        self.first_step = None
        self.last_text = ""

    def show(self, status: dict, metrics: list[dict], final: bool = False) -> None:
        step, total = status.get("step") or 0, status.get("total_steps") or 0
        losses = [m["loss"] for m in metrics if "loss" in m]
        evals = [m["eval_loss"] for m in metrics if "eval_loss" in m]
        if step and self.first_step is None:
            self.first_step = (time.time(), step)
        width = 30
        filled = int(width * step / total) if total else 0
        text = f"\r{status.get('state', '?'):<9} [{'#' * filled}{'.' * (width - filled)}] {step}/{total or '?'}"
        if losses:
            text += f"  loss {losses[-1]:.3f}"
        if evals:
            text += f"  eval {evals[-1]:.3f}"
        key = text
        eta = self._eta(step, total)
        if eta is not None and not final:
            text += f"  ETA {int(eta // 60)}:{int(eta % 60):02d}"
        if status.get("state") in ("queued", "loading") and status.get("message"):
            text += f"  {status['message']}"
        # On a terminal the ETA ticks every second; piped to a file, a line is written only when something moved.
        if sys.stdout.isatty() or key != self.last_text or final:
            sys.stdout.write(text[:160].ljust(100) + ("\n" if final else ""))
            sys.stdout.flush()
            self.last_text = key

    def _eta(self, step, total):
        if not self.first_step or not total or step <= self.first_step[1]:
            return None
        per_step = (time.time() - self.first_step[0]) / (step - self.first_step[1])
        return per_step * (total - step)


def echo_new_log(run, offset: int, bar: ProgressBar) -> int:
    """Print log lines written since `offset` above the progress bar (skipping tracebacks)."""
    if not run.log_file.exists():
        return offset
    with open(run.log_file, "rb") as f:
        f.seek(offset)
        chunk = f.read()
    end = chunk.rfind(b"\n") + 1
    for line in chunk[:end].decode("utf-8", errors="replace").splitlines():
        # Timestamped lines are messages; the rest, and the header that starts it, is traceback detail for the log.
        if line[:4].isdigit() and not line[20:].startswith("Traceback (most recent call last)"):
            sys.stdout.write("\r" + " " * 100 + "\r" + line[20:] + "\n")
    sys.stdout.flush()
    return offset + end


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def quiet_libraries() -> None:
    """Library chatter (progress bars, deprecation notes) stays out of the user's terminal, as in a run's process."""
    from core.training.worker import quiet_libraries as quiet

    quiet()
