"""Messages of core/data: what is wrong with a file or a row, warnings, and notes on how a file was read."""

TEXTS: dict[str, tuple[str, str]] = {
}
