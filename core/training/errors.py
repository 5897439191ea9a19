"""The error a run raises when its settings or its data cannot train: a catalogue key and its values."""

from __future__ import annotations

from core.catalogue.message import StudioError


class TrainingError(StudioError, ValueError):
    """The config or the data cannot train as given; the message says what to change. A ValueError, so a run's
    failure shows its own words (core.training.failures)."""
