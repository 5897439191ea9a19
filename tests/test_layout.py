"""The engine's layout holds: stages as packages, imports only run forward, no two modules import each other,
every module imports on its own, and core/ never imports gradio.

`python -m pytest tests/test_layout.py` is the command that shows it; the graph is read from the source (every
import statement, including those inside functions), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"
# In order: a stage imports only earlier ones.
STAGES = ("hub", "data", "models", "training", "results", "making", "measure")
SHARED = ("config", "runs", "catalogue")  # what any stage may use; jobs and cli start stages, so no stage imports them
BASE = ("catalogue",)  # packages beside the stages that import nothing else of core
VERBS = ("cli",)  # the command line's verbs: they start stages, like core.jobs, so no stage imports them


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The core modules a file imports; `from core.data import load` counts as core.data.load."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("core."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "core":
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return {name for name in found if name in known and known[name].name != "__init__.py"}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def stage_of(module: str) -> str:
    return module.split(".")[1]


def test_core_has_few_top_level_modules_and_one_package_per_stage():
    top = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert len(top) <= 6, top
    assert {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()} == set(STAGES + BASE + VERBS)
    for stage in STAGES + BASE + VERBS:
        doc = ast.get_docstring(ast.parse((CORE / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"core/{stage}/__init__.py needs a docstring saying what the stage is"
        assert not [n for n in ast.parse((CORE / stage / "__init__.py").read_text()).body
                    if isinstance(n, (ast.Import, ast.ImportFrom))], f"core/{stage}/__init__.py re-exports names"


def test_no_import_cycle_in_core():
    edges = graph()
    cycles = []

    def visit(node, path):
        for nxt in sorted(edges[node]):
            if nxt in path:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, path + [nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(edges):
        if start not in done:
            visit(start, [start])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_stages_import_only_earlier_stages_and_shared_modules():
    wrong = []
    for module, targets in graph().items():
        if module.count(".") and module.split(".")[1] in BASE:  # the catalogue: words only, no engine
            wrong += [f"{module} imports {target}" for target in targets if target.split(".")[1] not in BASE]
            continue
        if module.count(".") < 2 or stage_of(module) in VERBS:  # core.config, core.jobs ...: shared modules, verbs
            continue
        own = STAGES.index(stage_of(module))
        for target in targets:
            if target.split(".")[1] in BASE:
                continue
            if stage_of(target) in VERBS:
                wrong.append(f"{module} imports the verbs {target}")
            elif target.count(".") < 2:
                # measure runs the studio's own path (the job runner) to time it; other stages never start runs
                allowed = SHARED + (("jobs",) if stage_of(module) == "measure" else ())
                if target.split(".")[1] not in allowed:
                    wrong.append(f"{module} imports {target}")
            elif STAGES.index(stage_of(target)) > own and stage_of(module) != "measure":
                wrong.append(f"{module} imports the later stage {target}")
    assert not wrong, wrong


def test_core_never_imports_gradio():
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "gradio" for n in names), f"{path} imports gradio"


@pytest.mark.slow
def test_every_core_module_imports_on_its_own():
    """Each in a fresh interpreter, so a module that only works after another was imported first fails here."""
    def load(name):
        result = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
        return name, result.returncode, result.stderr.strip().splitlines()[-1:] or [""]

    with ThreadPoolExecutor(max_workers=4) as pool:
        failed = [f"{name}: {err[0]}" for name, code, err in pool.map(load, modules()) if code]
    assert not failed, failed
