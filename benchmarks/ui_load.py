"""Do chat answers and the hardware panel stay responsive while a run trains?

    python benchmarks/ui_load.py                     30 calls before and 30 while a CPU run trains
    python benchmarks/ui_load.py --json OUT.json     also write the figures as JSON
    python benchmarks/ui_load.py --no-chat           skip the chat time-to-first-token part

Starts the studio (launch.py on 127.0.0.1, a free port, a temporary runs folder) and talks to it with
gradio_client, as the browser would: the hardware panel's 5-second refresh and the Train tab's 1-second status tick.
Each is called --calls times with nothing else running, then again while ``launch.py train`` trains the default
model in a separate process (identity data, no replay, max_steps 30: both CPU cores busy), into the studio's runs
folder, so the status tick reads a live run. With chat on, a short greedy reply from the base model is timed to its
first token in both phases too (the studio generates in its own process, next to the training one).

Prints the median and p90 latency of each phase and the ratio during/before of the medians. Every process it starts
is stopped before it exits (training with Ctrl-C first, so it saves its adapter as a user's would).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
os.environ.update(LOCAL)  # gradio_client (httpx) must go straight to 127.0.0.1
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

HARDWARE_PANEL, RUN_STATUS, CHAT_INPUT, CHAT_REPLY = "hardware-panel", "run-status", "chat-input", "chat-tuned"
CHAT_OVERRIDES = {"opt-chat-temperature": 0, "opt-chat-max-new-tokens": 16}
CHAT_PROMPT = "Who are you?"
PAUSE = 0.2  # seconds between calls, so the samples spread over the training steps


# ---------------------------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(args: list[str], log_path: Path) -> subprocess.Popen:
    """A python launch.py child leading its own process group, output to log_path."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **LOCAL)
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, str(ROOT / "launch.py"), *args], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(proc: subprocess.Popen | None, first: int = signal.SIGTERM, grace: float = 15.0) -> None:
    """Signal the child's process group with ``first``, then SIGTERM, then SIGKILL, waiting ``grace`` between."""
    if proc is None or proc.poll() is not None:
        return
    for sig in (first, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for_studio(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 180.0) -> None:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the studio exited with code {proc.returncode}:\n{tail(log_path)}")
        with contextlib.suppress(OSError):
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.25)
    sys.exit(f"the studio did not answer within {timeout:.0f} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    return "(no log)"


def run_status(runs_dir: Path) -> dict:
    """status.json of the (only) run in runs_dir, or {} before it exists."""
    for status_file in runs_dir.glob("*/status.json"):
        with contextlib.suppress(OSError, ValueError):
            return json.loads(status_file.read_text(encoding="utf-8"))
    return {}


# ---------------------------------------------------------------------------------------------- the studio's endpoints


class Studio:
    """The endpoints this benchmark calls, found by the event that triggers them and the elem_id of what they
    update (the studio names no api endpoints itself, so Gradio names them after the handlers: 'lambda', 'tick',
    ...). Only read-only ones are called: the two gr.Timer refreshes, the page-load attach, and the chat."""

    def __init__(self, client):
        self.client = client
        config = client.config
        self.components = {c["id"]: c for c in config["components"]}
        self.dependencies = config["dependencies"]
        self.hardware = self.api_name("tick", {HARDWARE_PANEL})  # the Model tab's 5-second gr.Timer
        self.status_tick = self.api_name("tick", {RUN_STATUS})  # the Train tab's 1-second gr.Timer
        self.attach = self.api_name("load", {RUN_STATUS})  # what opening the page does
        self.chat = self.api_name("click", {CHAT_REPLY})  # the Send button

    def elem_id(self, component_id: int) -> str | None:
        return self.components[component_id].get("props", {}).get("elem_id")

    def api_name(self, event: str, outputs: set[str]) -> str:
        """The public endpoint triggered by ``event`` (tick, load, click ...) that updates all of ``outputs``."""
        for dep in self.dependencies:
            if dep.get("api_visibility", "public") != "public" or not dep.get("api_name"):
                continue
            if event in {target[1] for target in dep["targets"]} \
                    and outputs <= {self.elem_id(i) for i in dep["outputs"]}:
                return "/" + dep["api_name"]
        sys.exit(f"no endpoint triggered by {event} updates {sorted(outputs)}; the studio's events changed")

    def chat_arguments(self, prompt: str) -> list:
        """The chat endpoint's inputs in its order: each widget's default, with the prompt and a short greedy reply."""
        dep = next(d for d in self.dependencies if "/" + str(d.get("api_name")) == self.chat)
        values = []
        for i in dep["inputs"]:
            component, elem = self.components[i], self.elem_id(i)
            if component["type"] == "state":
                continue
            value = component.get("props", {}).get("value")
            if elem == CHAT_INPUT:
                value = prompt
            elif elem in CHAT_OVERRIDES:
                value = CHAT_OVERRIDES[elem]
            elif component["type"] == "chatbot":
                value = []
            values.append(value)
        return values

    def timed(self, api_name: str) -> float:
        started = time.perf_counter()
        self.client.predict(api_name=api_name)
        return time.perf_counter() - started

    def chat_first_token(self, prompt: str = CHAT_PROMPT) -> tuple[float, float, str]:
        """(seconds to the first streamed reply text, seconds to the whole reply, the reply)."""
        started = time.perf_counter()
        job = self.client.submit(*self.chat_arguments(prompt), api_name=self.chat)
        first = None
        reply = ""
        for output in job:
            history = output[1] if isinstance(output, (list, tuple)) and len(output) > 1 else None
            if history and isinstance(history, list) and history[-1].get("role") == "assistant":
                reply = _text(history[-1].get("content"))
                if reply and first is None:
                    first = time.perf_counter() - started
        job.result()  # raises if the reply failed
        total = time.perf_counter() - started
        notice = job.outputs()[-1][0] if job.outputs() else ""
        if first is None:
            raise RuntimeError(f"the chat streamed no reply text (notice: {notice!r})")
        return first, total, reply


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


# ---------------------------------------------------------------------------------------------- measuring


def cpu_seconds(pid: int | None) -> float:
    """CPU time used so far by a process (all its threads), 0 without one."""
    if pid is None:
        return 0.0
    import psutil

    with contextlib.suppress(psutil.Error):
        times = psutil.Process(pid).cpu_times()
        return times.user + times.system
    return 0.0


def measure_phase(studio: Studio, calls: int, chats: int, trainer_pid: int | None = None) -> dict:
    load_before = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), cpu_seconds(trainer_pid)
    studio.client.predict(api_name=studio.attach)  # as a page opening does: binds the status tick to the run
    hardware, status = [], []
    for _ in range(calls):
        hardware.append(studio.timed(studio.hardware))
        status.append(studio.timed(studio.status_tick))
        time.sleep(PAUSE)
    phase = {"hardware_panel": summary(hardware), "train_status": summary(status)}
    if chats:
        firsts, totals = [], []
        for _ in range(chats):
            first, total, reply = studio.chat_first_token()
            firsts.append(first)
            totals.append(total)
        phase["chat_first_token"] = summary(firsts)
        phase["chat_whole_reply"] = summary(totals)
        phase["chat_reply"] = reply
    phase["load_average_1min_at_start"] = round(load_before, 2)
    if trainer_pid is not None:  # how many cores the training process kept busy meanwhile
        phase["training_cores_busy"] = round((cpu_seconds(trainer_pid) - cpu) / (time.perf_counter() - wall), 2)
    return phase


def summary(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered)) - 1))]
    return {"n": len(ordered), "median_ms": round(1000 * statistics.median(ordered), 1), "p90_ms": round(1000 * p90, 1),
            "max_ms": round(1000 * ordered[-1], 1), "samples_ms": [round(1000 * s, 1) for s in seconds]}


def write_config(folder: Path, steps: int) -> Path:
    path = folder / "ui-load.yaml"
    path.write_text("name: ui-load\n"
                    "model:\n  source: default\n"
                    f"data:\n  path: {ROOT / 'assets' / 'datasets' / 'identity.jsonl'}\n  replay: 0\n"
                    f"train:\n  max_steps: {steps}\n", encoding="utf-8")
    return path


def wait_until_training(runs_dir: Path, proc: subprocess.Popen, log_path: Path, timeout: float) -> dict:
    """Block until the run reports a finished step (model loaded, steps going); its status then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run_status(runs_dir)
        if status.get("state") == "training" and (status.get("step") or 0) >= 1:
            return status
        if proc.poll() is not None or status.get("state") in ("failed", "completed", "stopped"):
            sys.exit(f"the training run ended before it could be measured ({status.get('state')}):\n{tail(log_path)}")
        time.sleep(0.5)
    sys.exit(f"the training run did not reach its first step within {timeout:.0f} s:\n{tail(log_path)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="calls of each UI endpoint per phase (default 30)")
    parser.add_argument("--chats", type=int, default=3, help="timed chat replies per phase (default 3)")
    parser.add_argument("--no-chat", action="store_true", help="skip the chat time-to-first-token part")
    parser.add_argument("--steps", type=int, default=30, help="max_steps of the training run (default 30)")
    parser.add_argument("--json", metavar="OUT", help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, run) and print it")
    args = parser.parse_args()
    chats = 0 if args.no_chat else args.chats

    from gradio_client import Client

    work = Path(tempfile.mkdtemp(prefix="ui-load-"))
    runs_dir = work / "runs"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    studio_log, train_log = work / "studio.log", work / "train.log"
    studio_proc = train_proc = None
    results: dict = {"machine": {"cpu_cores": os.cpu_count(), "platform": platform.platform()},
                     "calls_per_phase": args.calls, "chats_per_phase": chats}
    try:
        started = time.perf_counter()
        studio_proc = spawn(["--host", "127.0.0.1", "--port", str(port), "--runs-dir", str(runs_dir), "--no-browser"],
                            studio_log)
        wait_for_studio(url, studio_proc, studio_log)
        print(f"studio up at {url} in {time.perf_counter() - started:.1f} s", flush=True)
        studio = Studio(Client(url, verbose=False))
        results["endpoints"] = {"hardware_panel": studio.hardware, "train_status": studio.status_tick,
                                "attach": studio.attach, "chat": studio.chat}
        print(f"endpoints: hardware panel {studio.hardware}, train status {studio.status_tick}, chat {studio.chat}",
              flush=True)
        if chats:
            warm = time.perf_counter()
            studio.chat_first_token()  # loads the base model into the studio once; not measured
            print(f"chat model loaded and warmed in {time.perf_counter() - warm:.1f} s", flush=True)

        print(f"measuring before training ({args.calls} calls each) ...", flush=True)
        results["before"] = measure_phase(studio, args.calls, chats)

        train_proc = spawn(["train", str(write_config(work, args.steps)), "--runs-dir", str(runs_dir)], train_log)
        print("training started in a separate process; waiting for its first step ...", flush=True)
        status = wait_until_training(runs_dir, train_proc, train_log, timeout=900)
        print(f"training: step {status.get('step')}/{status.get('total_steps')}; measuring during training ...",
              flush=True)
        results["during"] = measure_phase(studio, args.calls, chats, trainer_pid=train_proc.pid)
        end_status = run_status(runs_dir)
        results["training"] = {"steps_while_measuring": f"{status.get('step')}..{end_status.get('step')}"
                                                         f" of {end_status.get('total_steps')}",
                               "state_after_measuring": end_status.get("state")}
        if end_status.get("state") != "training":
            print(f"warning: the run was {end_status.get('state')} by the end of the measurement", flush=True)
    finally:
        if train_proc is not None:
            stop(train_proc, first=signal.SIGINT, grace=120.0)  # Ctrl-C: should stop at the end of the step and save
            final = run_status(runs_dir)
            results.setdefault("training", {})["after_ctrl_c"] = {
                "exit_code": train_proc.returncode, "state": final.get("state"), "step": final.get("step"),
                "adapter_saved": any(runs_dir.glob("*/adapter/adapter_config.json"))}
        stop(studio_proc)
        if args.keep:
            print(f"kept {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)

    results["ratio_during_over_before"] = {
        key: round(results["during"][key]["median_ms"] / max(results["before"][key]["median_ms"], 1e-9), 2)
        for key in ("hardware_panel", "train_status", "chat_first_token", "chat_whole_reply")
        if key in results["before"]}
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def report(results: dict) -> None:
    names = {"hardware_panel": f"hardware panel {results['endpoints']['hardware_panel']}",
             "train_status": f"train status {results['endpoints']['train_status']}",
             "chat_first_token": "chat first token",
             "chat_whole_reply": f"chat whole reply ({CHAT_OVERRIDES['opt-chat-max-new-tokens']} tokens)"}
    print()
    print(f"{'':34} {'before: median':>15} {'p90':>8} {'during: median':>15} {'p90':>8} {'ratio':>6}")
    for key, name in names.items():
        if key not in results["before"]:
            continue
        before, during = results["before"][key], results["during"][key]
        ratio = results["ratio_during_over_before"].get(key)
        print(f"{name:34} {before['median_ms']:>12.1f} ms {before['p90_ms']:>5.0f} ms "
              f"{during['median_ms']:>12.1f} ms {during['p90_ms']:>5.0f} ms "
              f"{(f'{ratio:.2f}x' if ratio is not None else ''):>6}")
    print(f"(calls per phase: {results['calls_per_phase']} UI, {results['chats_per_phase']} chat; training steps "
          f"while measuring: {results['training']['steps_while_measuring']})")
    print(f"load average (1 min) at the start: before {results['before']['load_average_1min_at_start']}, during "
          f"{results['during']['load_average_1min_at_start']}; the training process kept "
          f"{results['during']['training_cores_busy']} cores busy while measuring")
    after = results["training"].get("after_ctrl_c")
    if after:
        print(f"training process after Ctrl-C: exit code {after['exit_code']}, run state {after['state']} at step "
              f"{after['step']}, adapter saved: {'yes' if after['adapter_saved'] else 'no'}")


if __name__ == "__main__":
    sys.exit(main())
