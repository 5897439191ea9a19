"""Messages of core/results: chat, evaluation, export and the demo server."""

TEXTS: dict[str, tuple[str, str]] = {
}
