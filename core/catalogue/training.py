"""Messages of core/training: a run's progress and what went wrong in it."""

TEXTS: dict[str, tuple[str, str]] = {
}
