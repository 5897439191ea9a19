"""The manual holds: docs/config.md is what docs/make_config_reference.py writes today, every relative link (and
its #anchor) leads somewhere, every test the docs name exists, and README.md stays a short landing page that
still carries the test command .ci/run finds."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "README_zh.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
TEST_NAME = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
CI_TEST_COMMAND = re.compile(r"^    python3 -m venv .* -m pytest$", re.MULTILINE)  # what .ci/run greps for


def load_generator():
    spec = importlib.util.spec_from_file_location("make_config_reference", DOCS / "make_config_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outside_code(text: str) -> str:
    """The text without fenced code blocks and inline code spans, where brackets are code, not links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(page: Path) -> set[str]:
    """The #anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug if slug not in found else next(f"{slug}-{n}" for n in range(1, 99)
                                                      if f"{slug}-{n}" not in found))
    return found


def test_the_option_reference_is_current():
    generator = load_generator()
    assert (DOCS / "config.md").read_text(encoding="utf-8") == generator.reference(), (
        f"docs/config.md is out of date with core/config.py or core/catalogue/options.py: run `{generator.COMMAND}`")


def test_every_relative_link_leads_to_a_file_and_its_heading():
    broken = []
    for page in PAGES:
        for target in LINK.findall(outside_code(page.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_test_the_docs_name_exists():
    missing = []
    for page in PAGES:
        for file, name in TEST_NAME.findall(page.read_text(encoding="utf-8")):
            source = ROOT / file
            if not source.exists() or not re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.M):
                missing.append(f"{page.relative_to(ROOT)}: {file}::{name}")
    assert not missing, "tests named in the docs that do not exist:\n" + "\n".join(missing)


def test_every_doc_says_who_it_is_for():
    for page in sorted(DOCS.glob("*.md")):
        lines = [line for line in page.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert lines[0].startswith("# ") and lines[1].startswith("For "), (
            f"{page.relative_to(ROOT)} should start with its title, then one line saying who it is for ('For ...')")


def test_the_readme_is_a_short_landing_page_with_the_ci_test_command():
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) < 8 * 1024, f"README.md is {len(readme):,} bytes; move detail into docs/"
    assert CI_TEST_COMMAND.search(readme.decode("utf-8")), ".ci/run finds no test command in README.md"
    assert "README_zh.md" in "\n".join(readme.decode("utf-8").splitlines()[:5])


def test_the_chinese_readme_gives_the_same_commands():
    english, chinese = ((ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "README_zh.md"))
    commands = re.findall(r"^    python3 -m venv .*$", english, flags=re.MULTILINE)
    assert len(commands) == 2 and all(command in chinese.splitlines() for command in commands)
