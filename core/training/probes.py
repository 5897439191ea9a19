"""Learning you can see: a few prompts answered at every evaluation, and the best step by held-out loss.

Before training the base model answers the probe prompts once; at each evaluation the model with its adapter as
it is at that step answers them again. probes.jsonl keeps every round, so the Train tab can show base vs current
answers per step. Whenever held-out loss reaches a new low, the adapter at that step is kept in best-adapter/;
when the loss then rises for several evaluations, the studio names that step and can make it the run's adapter.
"""

from __future__ import annotations

import json
import shutil

from core.catalogue.message import Message, StudioError, message
from core.runs import Run, write_json_atomic

PROBES_FILE = "probes.jsonl"
SAMPLES_FILE = "samples.jsonl"  # grpo's sampled answers and their rewards, a few per step
SAMPLES_SHOWN = 8
BEST_DIR = "best-adapter"
FINAL_DIR = "adapter-final"  # the last step's adapter, kept when the best one replaces it
PROBE_TOKENS = 32  # probe answers are for watching, not for reading essays: short keeps evaluations quick
RISES_BEFORE_WARNING = 2  # evaluations in a row above the best before the banner shows


class NoBestAdapterError(StudioError, FileNotFoundError):
    """The run kept no adapter at its best step, so there is none to switch to."""


def questions(rows: list[dict], limit: int = 3) -> list[str]:
    """What the user asks in each row (last user turn, or the prompt), for rows that have one."""
    found = []
    for row in rows:
        if "messages" in row:
            users = [m["content"] for m in row["messages"] if m["role"] == "user"]
            if users:
                found.append(users[-1])
        elif "prompt" in row:
            found.append(row["prompt"])
        found = list(dict.fromkeys(found))  # identical rows would only repeat the same probe
        if len(found) == limit:
            break
    return found


def probe_prompts(config, held_out: list[dict] | None = None) -> list[str]:
    """The configured probes, else the first held-out rows' questions."""
    return list(config.train.probes) or questions(held_out or [])


def read_probes(run: Run) -> list[dict]:
    path = run.path / PROBES_FILE
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written right now
            continue
    return records


def probe_table(run: Run) -> tuple[list[str], list[list[str]]]:
    """(headers, rows): one row per prompt, the base answer, then the answer at each evaluated step."""
    records = read_probes(run)
    if not records:
        return ["prompt"], []
    prompts = records[0]["prompts"]
    headers = ["prompt"] + [("base" if r["model"] == "base" else f"step {r['step']}") for r in records]
    rows = [[prompt] + [r["answers"][i] if i < len(r["answers"]) else "" for r in records]
            for i, prompt in enumerate(prompts)]
    return headers, rows


def write_samples(run: Run, step: int, samples: list[dict]) -> None:
    """Append one step's sampled answers with their rewards (grpo): what the model tried and how it was scored."""
    with (run.path / SAMPLES_FILE).open("a", encoding="utf-8") as file:
        file.write(json.dumps({"step": step, "samples": samples}, ensure_ascii=False) + "\n")


def sample_table(run: Run) -> tuple[list[str], list[list]] | None:
    """(header keys, rows): the latest sampled answers of a grpo run, newest first; None for other runs."""
    path = run.path / SAMPLES_FILE
    if not path.exists():
        return None
    rows = []
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line being written right now
            continue
        rows += [[record["step"], s["prompt"], s["answer"], round(s["reward"], 2), "✓" if s["correct"] else "✗",
                  "✓" if s["well_formed"] else "✗"] for s in record["samples"]]
        if len(rows) >= SAMPLES_SHOWN:
            break
    return ["probes.sample_step", "probes.prompt", "probes.sample_answer", "probes.sample_reward",
            "probes.sample_correct", "probes.sample_formed"], rows[:SAMPLES_SHOWN]


def best_step(run: Run) -> dict | None:
    """{"step", "eval_loss", "rises", "available"} once held-out loss has risen RISES_BEFORE_WARNING evaluations
    in a row after its lowest point; None while it is still falling (or there are no evaluations). A grpo run has
    none: its held-out "loss" is the policy's, near 0 whatever it learns, and its rewards say how it does."""
    evals = [r for r in run.read_metrics()[0] if "eval_loss" in r]
    if not evals or (run.path / SAMPLES_FILE).exists():
        return None
    best_index = min(range(len(evals)), key=lambda i: evals[i]["eval_loss"])
    rises = len(evals) - 1 - best_index
    if rises < RISES_BEFORE_WARNING:
        return None
    saved = _saved_best(run)
    best = evals[best_index]
    return {"step": best["step"], "eval_loss": best["eval_loss"], "rises": rises,
            "available": bool(saved and saved["step"] == best["step"]), "in_use": _in_use(run)}


def use_best(run: Run) -> Message:
    """Make the best step's adapter the run's adapter; the last step's is kept in adapter-final/."""
    saved = _saved_best(run)
    if saved is None:
        raise NoBestAdapterError("training.probes.no_best_adapter", path=str(run.path / BEST_DIR))
    final = run.path / FINAL_DIR
    if not final.exists():
        shutil.copytree(run.adapter_dir, final)
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        shutil.copyfile(run.path / BEST_DIR / name, run.adapter_dir / name)
    write_json_atomic(run.adapter_dir / "best.json", saved)
    run.log(f"The adapter from step {saved['step']} (lowest held-out loss {saved['eval_loss']:.4f}) is now the "
            f"run's adapter; the last step's adapter is kept in {FINAL_DIR}/.")
    return message("training.probes.using_best", step=saved["step"], loss=saved["eval_loss"])


def best_loss(run: Run) -> float | None:
    """The lowest held-out loss whose adapter best-adapter/ holds (a resumed run continues from it)."""
    saved = _saved_best(run)
    return float(saved["eval_loss"]) if saved and saved.get("eval_loss") is not None else None


def _saved_best(run: Run) -> dict | None:
    try:
        return json.loads((run.path / BEST_DIR / "best.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _in_use(run: Run) -> bool:
    return (run.adapter_dir / "best.json").exists()
