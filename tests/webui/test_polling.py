"""The Train tab polls once a second only while a run goes: an idle open tab ticking every second kept headless
Chromium busy for nothing (benchmarks/idle_tab_cpu.py measures what it costs)."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from webui.app import PACE_SECONDS, build, polling_pace, quick_polling
from webui.studio import IDLE_POLL_SECONDS, TRAINING_POLL_SECONDS, Studio


def _studio(busy: bool) -> Studio:
    studio = Studio.__new__(Studio)  # only whether its runner is busy, or a start was clicked, is asked
    studio.runner, studio._starting_until = SimpleNamespace(busy=busy), 0.0
    return studio


def _pace(busy: bool, interval: float | None):
    return polling_pace(_studio(busy), interval)


def test_polling_slows_down_while_nothing_trains_and_speeds_up_when_a_run_goes():
    slowed = _pace(busy=False, interval=TRAINING_POLL_SECONDS)
    assert isinstance(slowed, gr.Timer) and slowed.value == IDLE_POLL_SECONDS > TRAINING_POLL_SECONDS
    assert _pace(busy=False, interval=IDLE_POLL_SECONDS) == gr.skip()  # already slow: nothing is sent
    quick = _pace(busy=True, interval=IDLE_POLL_SECONDS)
    assert isinstance(quick, gr.Timer) and quick.value == TRAINING_POLL_SECONDS
    assert _pace(busy=True, interval=TRAINING_POLL_SECONDS) == gr.skip()
    studio = _studio(busy=False)
    assert quick_polling(studio).value == TRAINING_POLL_SECONDS  # a Start click does not wait for the next check
    # nor does the next check slow it down again while the start is still checking the data
    assert polling_pace(studio, TRAINING_POLL_SECONDS) == gr.skip()


def test_the_page_wires_the_pace_to_the_train_tabs_timer(tmp_path):
    """The train timer is the output of a slow check's tick, of the page's load and of the start buttons."""
    demo = build(Studio(tmp_path / "runs"))
    timers = [block for block in demo.blocks.values() if isinstance(block, gr.Timer)]
    check = next(t for t in timers if t.value == PACE_SECONDS)
    paced = [fn for fn in demo.fns.values() if any(isinstance(o, gr.Timer) for o in fn.outputs)]
    triggers = {(demo.blocks[target_id].__class__.__name__ if target_id in demo.blocks else "page", event)
                for fn in paced for target_id, event in fn.targets}
    assert ("Timer", "tick") in triggers and ("Button", "click") in triggers and ("page", "load") in triggers
    assert any(check._id == target_id for fn in paced for target_id, _ in fn.targets)
