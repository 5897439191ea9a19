"""Messages of core/measure: fit checks, the doctor and benchmarks."""

TEXTS: dict[str, tuple[str, str]] = {
}
