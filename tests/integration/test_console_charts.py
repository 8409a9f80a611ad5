"""The console's metric charts (/_local/api/metrics/charts) over the in-process stack: the
dashboard's charts of the app's metrics (infra/dashboard.py), filled from what the functions
wrote, per period over the last minutes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from chalicelib import wiring
from chalicelib.adapters import metrics
from infra.dashboard import APP_CHARTS
from infra.definition import metrics_environment
from local.console.charts import MetricCharts
from local.console.logbook import LogBook
from local.console.routes import Console
from tests.conftest import STAGE
from tests.helpers import post_user

if TYPE_CHECKING:
    from local.emulator import Emulator


def _console(stack: Emulator) -> Iterator[Console]:
    book = LogBook.install()
    yield Console.for_emulator(stack, book, wiring.operations().get, wiring.reviews().get, dict)
    book.uninstall()


@pytest.fixture
def console(stack):
    yield from _console(stack)


@pytest.fixture(scope="module")
def shared_console(shared_stack):
    """One console, on the module's shared stack, for the tests that read no data (a bad
    window is refused before any is read); they come last in the module, after the tests
    that take a stack of their own."""
    yield from _console(shared_stack)


def _charts(console: Console, query: str = "") -> dict:
    reply = console.answer("GET", f"/_local/api/metrics/charts{query}", {})
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def _line(charts: dict, title: str, label: str) -> list[float | None]:
    (chart,) = [c for c in charts["charts"] if c["title"] == title]
    (line,) = [li for li in chart["lines"] if li["label"] == label]
    return line["values"]


def test_the_charts_are_the_dashboard_s_filled_from_what_the_functions_wrote(stack, console):
    for email in ("ada@example.org", "bob@example.org", "eve@example.test"):
        assert post_user(stack.client, email).status_code == 202
    stack.drain()

    charts = _charts(console)
    assert [c["title"] for c in charts["charts"]] == [chart.title for chart in APP_CHARTS]
    namespace = metrics_environment(STAGE)[metrics.NAMESPACE_VARIABLE]
    assert (charts["namespace"], charts["dimensions"]) == (namespace, {metrics.STAGE: STAGE})
    assert charts["period"] == 10
    accepted = _line(charts, APP_CHARTS[0].title, "accepted")
    assert len(accepted) == 15 * 6  # the last 15 minutes, per 10 s
    assert sum(v for v in accepted if v) == 3
    assert sum(v for v in _line(charts, APP_CHARTS[0].title, "succeeded") if v) == 2
    failed = _line(charts, APP_CHARTS[1].title, "USER_REJECTED")
    assert sum(v for v in failed if v) == 1
    durations = _line(charts, "Time from accepted to done", "Maximum")
    assert [v for v in durations if v is not None] and all(v is None or v >= 0 for v in durations)

    coarse = _charts(console, "?minutes=5&period=60")
    per_minute = _line(coarse, APP_CHARTS[0].title, "accepted")
    assert len(per_minute) == 5 and sum(v for v in per_minute if v) == 3


def test_polling_costs_a_304_while_nothing_changes(stack, console):
    now = stack.clock.time()
    console.charts = MetricCharts(stack.metric_series, STAGE, lambda: now)  # time stands still
    first = console.answer("GET", "/_local/api/metrics/charts?minutes=1", {})
    again = console.answer(
        "GET", "/_local/api/metrics/charts?minutes=1", {"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304


@pytest.mark.parametrize(
    "query",
    [
        "?minutes=0",
        "?minutes=16",
        "?minutes=x",
        "?period=15",
        "?period=-10",
        "?minutes=1&minutes=2",
    ],
)
def test_a_bad_window_is_a_400_problem(shared_console, query):
    reply = shared_console.answer("GET", f"/_local/api/metrics/charts{query}", {})
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
