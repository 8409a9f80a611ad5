"""The README and docs/: their links lead somewhere, their tables say what the code says,
and they speak of the system, not of how it was built."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.http.problems import PROBLEM_TYPES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to -."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_link_leads_to_a_file_and_heading_that_exist(page):
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name}: {target}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_page_tells_how_the_project_was_built(page):
    text = page.read_text().lower()
    for phrase in ("the issue", "stretch goal", "source article", "shared/seeds", "this was built"):
        assert phrase not in text, f"{page.name} mentions {phrase!r}"


def test_the_readme_is_short_and_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 120
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.splitlines()] == [
        ["make", "run"],
        ["make", "test"],
    ]


def test_the_problem_types_table_is_the_catalogue():
    clients = (ROOT / "docs" / "clients.md").read_text()
    section = clients.split("### Problem types", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (\d+) \| ([^|]+) \|", section, re.MULTILINE)
    assert [(slug, int(status), title.strip()) for slug, status, title in rows] == [
        (kind.slug, kind.status, kind.title) for kind in PROBLEM_TYPES.values()
    ]


def test_the_metrics_table_is_the_catalogue():
    from chalicelib.adapters import metrics

    page = (ROOT / "docs" / "metrics.md").read_text()
    section = page.split("## What is measured", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| ([\w, ]+) \|", section, re.MULTILINE)
    assert [(name, unit, dimensions.split(", ")) for name, unit, dimensions in rows] == [
        (m.name, m.unit, [metrics.STAGE, *m.dimensions]) for m in metrics.CATALOGUE
    ]
