"""What a batch of teacher-made data needs: the teacher, the recipe and the output file, each option defined once.

Built like core/config.py's run config, with its `option(...)` helper and its YAML round trip, so the studio's form
builds widgets from these fields and `launch.py make-data CONFIG.yaml` reads the same file. The words live in the
catalogue, core/catalogue/making.py: an option's label under 'making.<section>.<option>.label' and its help line
under 'making.<section>.<option>.help'. The API key is never a field: only the name of the environment variable
that holds it (or the studio's session) is, so no config, log or dataset ever carries the key itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from core.config import Config, ConfigError, _build, _where, option

KINDS = ("answer", "explain", "self_instruct", "documents")
DEFAULT_ANSWER_PATTERN = r"(?:answer is|答案是)[:：]?\s*(.+)"  # the Evaluate tab's default (ChatSettings)


@dataclass
class TeacherConfig:
    """The stronger model that writes the rows: an OpenAI-compatible endpoint, or a model loaded here."""

    base_url: str = option("", pattern=r"^(https?://\S+)?$")
    model: str = option("")
    api_key_env: str = option("OPENAI_API_KEY", pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$")
    model_source: str = option("")
    concurrency: int = option(4, minimum=1, maximum=64)
    timeout_s: float = option(120.0, minimum=1.0, maximum=3600.0)
    retries: int = option(4, minimum=0, maximum=20)
    max_tokens: int = option(1024, minimum=16, maximum=32768)
    temperature: float = option(0.7, minimum=0.0, maximum=2.0)
    price_in: float = option(0.0, minimum=0.0, maximum=10000.0)
    price_out: float = option(0.0, minimum=0.0, maximum=10000.0)


@dataclass
class RecipeConfig:
    """What the teacher is asked to write, from which input, and which rows are kept."""

    kind: str = option("answer", choices=KINDS)
    input: str = option("")
    seeds: list = option([], texts=True, kinds=("self_instruct",))
    count: int = option(100, minimum=1, maximum=1_000_000)
    reasoning: bool = option(False, kinds=("answer",))
    answer_pattern: str = option(DEFAULT_ANSWER_PATTERN, kinds=("answer", "explain"))
    rouge_threshold: float = option(0.7, minimum=0.0, maximum=1.0, kinds=("self_instruct", "documents"))
    min_chars: int = option(2, minimum=0, maximum=100_000)
    max_chars: int = option(8000, minimum=1, maximum=1_000_000)
    seeds_per_request: int = option(3, minimum=1, maximum=20, kinds=("self_instruct",))
    tasks_per_request: int = option(5, minimum=1, maximum=50, kinds=("self_instruct",))
    passage_chars: int = option(1500, minimum=200, maximum=50_000, kinds=("documents",))
    questions_per_passage: int = option(3, minimum=1, maximum=50, kinds=("documents",))
    seed: int = option(0)


SECTIONS = {"teacher": TeacherConfig, "recipe": RecipeConfig}


@dataclass
class MakeDataConfig:
    """One batch of teacher-made rows: what `launch.py make-data` reads and the studio's Make data tab fills in."""

    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    recipe: RecipeConfig = field(default_factory=RecipeConfig)
    output: str = option("data/teacher-made.jsonl")

    # The YAML round trip is Config's own, so errors name the file, the line and the key the same way.
    from_yaml = classmethod(Config.from_yaml.__func__)
    from_yaml_text = classmethod(Config.from_yaml_text.__func__)
    to_dict = Config.to_dict
    to_yaml = Config.to_yaml
    save = Config.save

    @classmethod
    def from_dict(cls, values: dict, source: str = "config", lines: dict | None = None) -> "MakeDataConfig":
        config = _build(cls, values, prefix="", source=source, lines=lines or {})
        _check_together(config, source, lines or {})
        return config


def label_key(section: str, name: str, part: str = "label") -> str:
    """The catalogue key of an option's label ('label') or help line ('help'); `section` is '' for `output`."""
    return f"making.{section + '.' if section else ''}{name}.{part}"


def used_by(meta, kind: str) -> bool:
    """Whether an option with this metadata matters for a recipe of `kind` (the form hides the others)."""
    return kind in (meta.get("kinds") or (kind,))


def options_of(section) -> list[tuple[str, dataclasses.Field]]:
    return [(f.name, f) for f in dataclasses.fields(section)]


def _check_together(config: MakeDataConfig, source: str, lines: dict) -> None:
    """Values fine alone but not together: exactly one teacher, and an output file."""
    teacher = config.teacher
    if bool(teacher.base_url.strip()) == bool(teacher.model_source.strip()):
        raise ConfigError("making.config.one_teacher", where=_where(source, lines, "teacher.base_url"))
    if teacher.base_url.strip() and not teacher.model.strip():
        raise ConfigError("making.config.no_model", where=_where(source, lines, "teacher.model"))
    if not config.output.strip():
        raise ConfigError("making.config.no_output", where=_where(source, lines, "output"))
    if config.recipe.min_chars > config.recipe.max_chars:
        raise ConfigError("making.config.lengths", where=_where(source, lines, "recipe.min_chars"),
                          low=config.recipe.min_chars, high=config.recipe.max_chars)
