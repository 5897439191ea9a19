"""Messages of core/models: loading, placing and generating with a model."""

TEXTS: dict[str, tuple[str, str]] = {
}
