"""Messages of core/config.py, core/runs.py and core/jobs.py: settings, run folders and the run queue."""

TEXTS: dict[str, tuple[str, str]] = {
}
