"""Experiment trackers (train.report_to), local or offline, through transformers' own reporting callbacks.

The run folder's metrics.jsonl stays what the studio draws; a tracker gets the same log events in its own format,
written under runs/<name>/tracking/, and nothing leaves the machine: wandb runs offline (`wandb sync` uploads
later), SwanLab in local mode, trackio and TensorBoard write local files. A tracker is offered only when its
package is installed; otherwise the message says which package to install.
"""

from __future__ import annotations

import importlib.util
import os

from core.training.errors import TrainingError

# The tracker, the packages that provide it (any one), what to install.
PACKAGES = {"tensorboard": (("tensorboard", "tensorboardX"), "tensorboard"), "wandb": (("wandb",), "wandb"),
            "swanlab": (("swanlab",), "swanlab"), "trackio": (("trackio",), "trackio")}
FOLDER = "tracking"
PROJECT = "finetune-studio"


def installed(tracker: str) -> bool:
    return tracker == "none" or any(importlib.util.find_spec(name) is not None for name in PACKAGES[tracker][0])


def available() -> list[str]:
    """The trackers this machine can report to: 'none' and those whose package is installed."""
    return [tracker for tracker in ("none", *PACKAGES) if installed(tracker)]


def arguments(tracker: str, run, say=None) -> dict:
    """Trainer arguments (report_to, run_name, project) for `tracker`, with its environment set to write under the
    run folder and stay offline. Raises TrainingError (a ValueError) when the tracker's package is not installed."""
    if tracker == "none":
        return {"report_to": "none"}
    if not installed(tracker):
        raise TrainingError("training.trackers.not_installed", tracker=tracker, package=PACKAGES[tracker][1])
    folder = (run.path / FOLDER).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        # The user's own setting wins, so someone who wants an online wandb run can still have one.
        "tensorboard": {"TENSORBOARD_LOGGING_DIR": str(folder / "tensorboard")},
        "wandb": {"WANDB_MODE": "offline", "WANDB_DIR": str(folder), "WANDB_PROJECT": PROJECT},
        "swanlab": {"SWANLAB_MODE": "local", "SWANLAB_LOG_DIR": str(folder / "swanlog"), "SWANLAB_PROJECT": PROJECT},
        "trackio": {"TRACKIO_DIR": str(folder / "trackio")},
    }[tracker]
    for name, value in settings.items():
        os.environ.setdefault(name, value)
    if say:
        say(f"Experiment tracking: {tracker}, written under {folder} ("
            + ", ".join(f"{name}={os.environ[name]}" for name in settings) + ").")
    return {"report_to": [tracker], "run_name": run.name, "project": PROJECT}
