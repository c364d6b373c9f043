"""The documentation stays inside the project and true to the code.

Every link and every path the README and the docs name is a file of the project (no reference
to a document lotas does not ship), and the formats reference shows the layouts lotas reads with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("plugins/*/README.md"),
               ROOT / "benchmarks" / "README.md"])
LINK = re.compile(r"\]\(([^)\s]+)\)")
#: A path in backquotes that starts with a folder of the project.
PATH = re.compile(r"`((?:docs|plugins|tests|benchmarks|lotas_core|tui)/[^`\s]+)`")


def _names(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("doc", DOCS, ids=_names)
def test_links_point_to_files_of_the_project(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        assert not re.match(r"^[a-z]+:", target), f"{_names(doc)} links outside: {target}"
        path = (doc.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{_names(doc)}: no {target}"


@pytest.mark.parametrize("doc", DOCS, ids=_names)
def test_named_paths_exist(doc: Path) -> None:
    for name in PATH.findall(doc.read_text(encoding="utf-8")):
        if any(mark in name for mark in "*<>{") or name.startswith("benchmarks/out/"):
            continue  # a pattern, or what a benchmark writes
        assert (ROOT / name.rstrip("/.,")).exists(), f"{_names(doc)} names {name}, not a file"


def test_the_formats_reference_shows_the_layouts_read_with() -> None:
    from lotas_plugins.psy_sma_2021.layouts import RAA_P09, RPS_P08

    text = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    for layout in (RAA_P09, RPS_P08):
        section = text[text.index(f"### {layout.name}"):]
        section = section[: section.index("\n\n", section.index("|"))]
        rows = re.findall(r"^\| `(\w+)` \| (\d+) \| (\d+) \| (\d+) \| (\w+) \|$", section, re.M)
        assert rows == [
            (f.name, str(f.start), str(f.length), str(f.start + f.length - 1), f.kind)
            for f in layout.fields
        ], layout.name
        for repeat in layout.repeats:
            assert f"| `{repeat.name}` x `{repeat.count_field}` |" in section
            assert f"| {repeat.item_length} each |" in section
