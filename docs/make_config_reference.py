"""Write docs/config.md, the reference of every option: `python docs/make_config_reference.py`.

Keys, defaults and allowed values come from core/config.py (the dataclasses and their field metadata); each
option's English label and help line from the catalogue (core/catalogue/options.py), where the words live.
tests/test_docs.py regenerates the text in memory and fails when docs/config.md differs from it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "config.md"
COMMAND = "python docs/make_config_reference.py"
if str(ROOT) not in sys.path:  # run as a script, Python puts docs/ on the path, not the project
    sys.path.insert(0, str(ROOT))

from core import config as config_module  # noqa: E402 - needs the path set above
from core.catalogue import options as option_texts  # noqa: E402

# Options whose choices each have a line of their own in the catalogue ("method.sft" ...).
CHOICE_TEXTS = {"train.method": "method.{choice}"}

INTRO = """\
# Every option of a run

For anyone writing a config file, or looking up what a field of the form does.

This file is generated from `core/config.py` (keys, defaults, allowed values) and the catalogue
`core/catalogue/options.py` (labels and help lines) by `{command}`; do not edit it by hand.

## The config file

`examples/identity-demo.yaml` sets only a name, the model and the data; every other option keeps its default.
Each run folder holds the full resolved `config.yaml`, and `python launch.py train runs/<name>/config.yaml`
replays it (into a new folder: runs are never overwritten). Every option and its default live in one place,
`core/config.py`; its label and help line live in the catalogue, in English and Chinese. Unknown keys and bad
values are refused with the file, the line and the key:

    error: my.yaml line 12: unknown key 'lora.rank'. Did you mean 'lora.r'? Known keys here: r, alpha, ...

```yaml
name: identity-demo
model:
  source: default          # "default" (built-in SmolLM2-135M-Instruct) | "gemma-3-270m" | a local folder | a hub id
  system_prompt: none      # none | template (whatever the chat template adds) | your own text
  quantization: none       # none | 8bit | 4bit (QLoRA: NF4 with double quantization)
  device_map: auto         # auto | balanced | balanced_low_0 | sequential | cpu | cuda:N
  max_memory: {{}}           # e.g. {{0: 20GiB, cpu: 64GiB}}
  dtype: auto              # bfloat16 on GPUs that have it, float16 on older GPUs, float32 on the CPU
data:
  path: assets/datasets/identity.jsonl
  format: auto             # auto | alpaca | sharegpt | messages | prompt_completion | text
  eval_fraction: 0.1
  replay: 20               # knowledge replay rows (see methods.md); 0 turns it off
lora: {{r: 16, alpha: 32, dropout: 0.05, target_modules: all-linear, use_rslora: false, use_dora: false}}
train:
  epochs: 3
  max_steps: -1            # > 0 overrides epochs
  learning_rate: auto      # 1e-3 below 1B parameters, 2e-4 from 1B up; or a number
  batch_size: 8
  grad_accum: 1
  max_length: 1024
  seed: 42
  scheduler: cosine
  warmup_fraction: 0.05
  gradient_checkpointing: auto   # on for models of 1B+ on a GPU
compute:
  gpus: auto               # auto | all | "0,1" | none (train on the CPU)
  strategy: auto           # auto | single | model_parallel | ddp | fsdp | deepspeed_zero2 | deepspeed_zero3
  processes: auto          # auto | N
```
"""

CHAT_NOTE = ("The Chat tab's settings. On the command line `launch.py chat` takes "
             "`--system`, `--temperature`, `--max-new-tokens`, `--votes` and `--pattern`; `launch.py eval` takes "
             "`--votes`, `--pattern` and `--max-new-tokens` (default 64 there).")


def sections() -> list[tuple[str, type]]:
    """(YAML prefix, dataclass) for each part of a run's config, in the file's order, then the chat's settings."""
    found = [("", config_module.Config)]
    for item in dataclasses.fields(config_module.Config):
        if _is_section(item):
            found.append((item.name, item.default_factory))
    return found + [("chat", config_module.ChatSettings)]


def _is_section(item: dataclasses.Field) -> bool:
    return item.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(item.default_factory)


def english(key: str) -> str:
    """The catalogue's English for `key`, with `<` escaped: Markdown would take `runs/<name>` for an HTML tag."""
    try:
        return option_texts.TEXTS[key][0].replace("<", "\\<")
    except KeyError:
        raise KeyError(f"core/catalogue/options.py has no entry {key!r}; add it before generating the docs") from None


def default_of(item: dataclasses.Field):
    return item.default_factory() if item.default is dataclasses.MISSING else item.default


def shown(value) -> str:
    """A value as it is written in a YAML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return '""'
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def code(text: str) -> str:
    return f"`{text}`"


def allowed(item: dataclasses.Field) -> str:
    """The values an option takes, as the config's validation checks them."""
    meta, default = item.metadata, default_of(item)
    choices = meta.get("choices")
    if meta.get("auto_or_number") or meta.get("auto_or_count"):
        kind = "a number" if meta.get("auto_or_number") else "a whole number"
        return f"`auto` or {kind}{_range(meta)}"
    if meta.get("texts"):
        return "a list of texts, e.g. `[\"Who are you?\"]`"
    if meta.get("names"):
        return "`all-linear` or a list of layer names, e.g. `[q_proj, v_proj]`"
    if meta.get("memory"):
        return "a mapping of a GPU number (or `cuda:N`), `cpu` or `disk` to a size such as `20GiB` or `512MiB`"
    if isinstance(default, dict):
        return _mapping(meta)
    if choices:
        listed = ", ".join(code(choice) for choice in choices)
        if meta.get("gpu_list"):
            return f"{listed}, or GPU numbers such as `0,1`"
        return f"{listed} or `cuda:N`" if meta.get("pattern") else listed
    if meta.get("pattern"):
        return f"text matching {code(meta['pattern'])}"
    if isinstance(default, bool):
        return "`true` or `false`"
    if isinstance(default, int):
        return "a whole number" + _range(meta)
    if isinstance(default, float):
        return "a number" + _range(meta)
    return "text"


def _range(meta) -> str:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f", at least {low}"
    return f", at most {high}" if high is not None else ""


def _mapping(meta) -> str:
    keys, values = meta.get("keys"), meta.get("values")
    if keys:
        return "a mapping whose keys are some of " + ", ".join(code(key) for key in keys)
    if values:
        return "a mapping of names to one of " + ", ".join(code(value) for value in values)
    return "a mapping of names to texts"


def used_with(item: dataclasses.Field) -> str:
    """Which methods or tunings read the option (the Settings tab hides it for the others)."""
    parts = []
    if item.metadata.get("methods"):
        parts.append("`train.method` " + ", ".join(item.metadata["methods"]))
    if item.metadata.get("tunings"):
        parts.append("`train.tuning` " + ", ".join(item.metadata["tunings"]))
    return " · Used only with " + " and ".join(parts) if parts else ""


def entry(prefix: str, item: dataclasses.Field) -> str:
    key = f"{prefix}.{item.name}" if prefix else item.name
    lines = [f"### `{key}`: {english(key + '.label')}", "",
             f"Default: {code(shown(default_of(item)))} · Allowed: {allowed(item)}{used_with(item)}", "",
             english(key + ".help")]
    if key in CHOICE_TEXTS:
        lines.append("")
        lines += [f"- `{choice}`: {english(CHOICE_TEXTS[key].format(choice=choice))}"
                  for choice in item.metadata["choices"]]
    return "\n".join(lines) + "\n"


def section(prefix: str, cls: type) -> str:
    title = f"`{prefix}:`" if prefix else "The run's name (top level)"
    summary = (cls.__doc__ or "").strip().splitlines()[0]
    parts = [f"## {title}", "", summary if prefix else "The one option outside the sections.", ""]
    if prefix == "chat":
        parts += [CHAT_NOTE, ""]
    parts += [entry(prefix, item) for item in dataclasses.fields(cls) if not _is_section(item)]
    return "\n".join(parts)


def reference() -> str:
    """The whole text of docs/config.md."""
    return INTRO.format(command=COMMAND) + "\n" + "\n".join(section(prefix, cls) for prefix, cls in sections())


def main() -> None:
    OUTPUT.write_text(reference(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
