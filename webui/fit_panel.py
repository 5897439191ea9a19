"""Check fit, as the Settings tab shows it: two real steps on the longest rows, with each phase on screen while it
runs (a minute or more on a CPU), then a verdict that agrees with every figure below it, in the page's language.

The measuring and the report's words are core.measure.preflight's; this module shows them as they come.
"""

from __future__ import annotations

import time

import gradio as gr

from core.catalogue.message import message, say, text_of
from core.config import Config
from webui.export_panel import in_worker
from webui.tab_train import _clock

FAILURES = (ValueError, RuntimeError, OSError)  # DataError, ModelError, ConfigError, ComputeError and the like


def check_fit_stream(config: Config, studio):
    """Yield (report markdown, proposal, apply-button update): progress lines while it measures, then the report."""
    if studio.runner.busy:
        yield say("fit.busy"), {}, gr.update(visible=False)
        return
    studio.release_chat()  # the trial runs on the GPU the chat's model would otherwise occupy
    from core.measure import preflight  # imported on click: it brings in transformers, which the page does not need

    started = time.monotonic()
    work = lambda progress: preflight.check(config, progress=progress)  # noqa: E731
    for line, report, error in in_worker(work, message("fit.starting"), FAILURES):
        if error:
            yield f"**{text_of(error)}**", {}, gr.update(visible=False)
        elif report is None:
            yield say("fit.waiting", line=text_of(line), clock=_clock(time.monotonic() - started)), gr.skip(), gr.skip()
        else:
            yield fit_markdown(report), report.proposal, gr.update(visible=bool(report.proposal))


def fit_markdown(report) -> str:
    """The verdict in bold, then one line per figure, as core's report says them."""
    return f"**{text_of(report.verdict)}**\n\n" + "\n".join(f"- {text_of(line)}" for line in report.lines())
