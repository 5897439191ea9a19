"""Experiment trackers are offered only when installed, write under the run folder and stay offline."""

import importlib.util

import pytest

from core.runs import Run
from core.training import trackers


def test_only_installed_trackers_are_offered_and_a_missing_one_says_what_to_install(tmp_path):
    offered = trackers.available()
    assert offered[0] == "none"
    for tracker, (packages, _) in trackers.PACKAGES.items():
        assert (tracker in offered) == any(importlib.util.find_spec(p) is not None for p in packages)
    run = Run.create(tmp_path / "runs", "tracked")
    assert trackers.arguments("none", run) == {"report_to": "none"}
    missing = [t for t in trackers.PACKAGES if t not in offered]
    if missing:
        with pytest.raises(ValueError, match=f"pip install {trackers.PACKAGES[missing[0]][1]}"):
            trackers.arguments(missing[0], run)
