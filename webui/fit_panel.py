"""Check fit, as the Settings tab shows it: two real steps on the longest rows, with each phase on screen while it
runs (a minute or more on a CPU), then a verdict that agrees with every figure below it, in the page's language.

The measuring is core.measure.preflight's; this module only words its Report.
"""

from __future__ import annotations

import time

import gradio as gr

from core.config import Config
from webui.export_panel import in_worker
from webui.lang import duration_words, note_text, say
from webui.tab_train import _clock

FAILURES = (ValueError, RuntimeError, OSError)  # DataError, ModelError, ConfigError, ComputeError and the like


def check_fit_stream(config: Config, studio, lang: str):
    """Yield (report markdown, proposal, apply-button update): progress lines while it measures, then the report."""
    if studio.runner.busy:
        yield say(lang, "fit.busy"), {}, gr.update(visible=False)
        return
    studio.release_chat()  # the trial runs on the GPU the chat's model would otherwise occupy
    from core.measure import preflight  # imported on click: it brings in transformers, which the page does not need

    started = time.monotonic()
    work = lambda progress: preflight.check(config, progress=progress)  # noqa: E731
    for line, report, error in in_worker(work, say(lang, "fit.starting"), FAILURES):
        if error:
            yield f"**{error}**", {}, gr.update(visible=False)
        elif report is None:
            yield (say(lang, "fit.waiting", line=note_text(lang, line), clock=_clock(time.monotonic() - started)),
                   gr.skip(), gr.skip())
        else:
            yield fit_markdown(report, lang), report.proposal, gr.update(visible=bool(report.proposal))


def fit_markdown(report, lang: str) -> str:
    """The verdict in bold, then one line per figure; core's own English lines when the page speaks English."""
    if lang != "zh":
        return f"**{report.verdict}**\n\n" + "\n".join(f"- {line}" for line in report.lines())
    lines = [f"**{verdict_text(report, lang)}**", ""]
    if report.estimate_gb:
        lines.append("- " + say(lang, "fit.estimate", gb=report.estimate_gb))
    lines.append("- " + say(lang, "fit.placement", placement=report.placement.replace("the whole model", "整个模型")))
    if report.compute:
        lines.append("- " + say(lang, "fit.compute", compute=report.compute))
    for attempt in report.attempts:
        changes = changes_text(attempt.changes, lang)
        if attempt.fits:
            lines.append("- " + say(lang, "fit.attempt_fits", changes=changes, peak=attempt.peak_gb,
                                    seconds=attempt.seconds_per_step, rows=report.measured_rows,
                                    tokens=report.longest_tokens))
        else:
            lines.append("- " + say(lang, "fit.attempt_fails", changes=changes, error=attempt.error))
    projection = report.projected_seconds()
    if projection:
        lines.append("- " + say(lang, "fit.projected", steps=report.total_steps,
                                expected=duration_words(projection[0], lang),
                                worst=duration_words(projection[1], lang)))
    if report.proposal:
        lines.append("- " + say(lang, "fit.proposal", changes=changes_text(report.proposal, lang)))
    elif not report.fitting:
        lines.append("- " + say(lang, "fit.too_big"))
    details = "<br>".join(report.estimate_lines)
    lines += ["", f"<details><summary>{say(lang, 'fit.details')}</summary>{details}</details>"]
    return "\n".join(lines)


def verdict_text(report, lang: str) -> str:
    if report.fits_as_configured:
        peak = report.attempts[0].peak_gb
        if report.estimate_over_available:
            return say(lang, "fit.estimate_over", peak=peak, available=report.available_gb, gb=report.estimate_gb)
        estimate = say(lang, "fit.fits_estimate", gb=report.estimate_gb) if report.estimate_gb else ""
        return say(lang, "fit.fits", peak=peak, available=report.available_gb, estimate=estimate)
    return say(lang, "fit.proposed_fits" if report.proposal else "fit.nothing_fits")


def changes_text(changes: dict, lang: str) -> str:
    return ", ".join(f"{key} = {value}" for key, value in changes.items()) or say(lang, "fit.your_settings")
