"""Figures a change to the code can make stale, held to the code: docs/performance.md's cost
and capacity blocks are what `make cost` and `make capacity RATE=2000/s` print (the states a
successful operation passes come from the definition), and the README names the workflow's
steps as the definition runs them. The other pages point to `make cost` rather than restate
its figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import model
from tests.executions import functions_of
from tests.workflow_paths import succeeded

ROOT = Path(__file__).resolve().parents[2]


def _block_after(page: str, heading: str) -> str:
    """The first fenced block under a heading of a docs/ page."""
    section = (ROOT / "docs" / page).read_text().split(heading, 1)[1]
    return section.split("```\n", 2)[1].strip()


def test_the_cost_block_is_what_make_cost_prints(capsys):
    assert model.main(["cost"]) == 0
    printed = capsys.readouterr().out.strip()
    assert _block_after("performance.md", "## Cost: `make cost`") == printed


def test_the_capacity_block_is_what_make_capacity_prints(capsys):
    assert model.main(["capacity", "--rate=2000/s"]) == 0
    printed = capsys.readouterr().out.strip()
    assert _block_after("performance.md", "## Capacity: `make capacity RATE=2000/s`") == printed


def test_the_readme_names_the_workflow_s_steps_in_the_definition_s_order():
    steps = [name.replace("_", "-") for name in functions_of(succeeded())]
    readme = (ROOT / "README.md").read_text()
    (named,) = re.findall(r"\*\*([\w-]+(?: → [\w-]+)+)\*\*", readme)
    assert named.split(" → ") == steps


@pytest.mark.parametrize("page", ["README.md", "docs/operators.md", "docs/contributors.md"])
def test_pages_other_than_performance_state_no_cost_per_million(page):
    text = (ROOT / page).read_text()
    assert not re.search(r"\$[\d,.]+ per (million|1M)", text), page
