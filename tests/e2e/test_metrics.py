"""The app's metrics end to end: the functions write them as embedded metric format while the
stack runs operations, the emulator reads the lines as CloudWatch Logs reads them, and every
metric the dashboard draws (infra/dashboard.py) is written, with the dimensions it draws."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from chalicelib.adapters import metrics
from chalicelib.adapters.users_table import UsersTable
from chalicelib.config import settings
from chalicelib.domain.errors import ErrorCode, TransientError
from infra.dashboard import APP_CHARTS
from infra.definition import metrics_environment
from local.state.series import SeriesKey, series_key
from tests.conftest import STAGE
from tests.helpers import (
    REVIEWED,
    LogLines,
    awaiting_review,
    body,
    decide,
    fail_calls,
    finished,
    operation,
    post_user,
)

pytestmark = pytest.mark.e2e
NAMESPACE = metrics_environment(STAGE)[metrics.NAMESPACE_VARIABLE]  # the app's name


@pytest.fixture
def lines() -> Iterator[list[str]]:
    handler = LogLines()
    logging.getLogger(metrics.LOGGER).addHandler(handler)
    yield handler.lines
    logging.getLogger(metrics.LOGGER).removeHandler(handler)


def _key(metric: metrics.Metric, **dimensions: str) -> SeriesKey:
    return series_key(NAMESPACE, metric.name, {metrics.STAGE: STAGE, **dimensions})


def _all(stack, key: SeriesKey, stat: str = "Sum") -> float | None:
    return stack.metric_series.over_all(key, stat)


def test_each_operation_and_review_is_measured_as_the_dashboard_draws_it(stack, lines):
    accepted = [
        body(post_user(stack.client, email))["id"]
        for email in ("ada@example.org", "eve@denied.example.org")
    ]
    stack.drain()
    again = body(post_user(stack.client, "ADA@example.org"))["id"]  # already registered
    stack.drain()
    approved, rejected, waiting = (
        awaiting_review(stack, f"{who}@{REVIEWED.split('@')[1]}")["id"]
        for who in ("bob", "carol", "dan")
    )
    assert decide(stack, approved, "approve").status_code == 200
    assert decide(stack, rejected, "reject", "a bot").status_code == 200
    stack.drain(waiting=1)  # dan's review waits
    for operation_id in (*accepted, again, approved, rejected):
        assert operation(stack.client, operation_id)["done"]
    stack.schedule.run("sweeper")  # counts the reviews waiting (dan's)

    assert _all(stack, _key(metrics.OPERATIONS_ACCEPTED)) == 6
    assert _all(stack, _key(metrics.OPERATIONS_SUCCEEDED)) == 2  # ada, bob
    failed = {
        code: _all(stack, _key(metrics.OPERATIONS_FAILED, ErrorCode=code)) for code in ErrorCode
    }
    assert {code: n for code, n in failed.items() if n} == {
        ErrorCode.USER_REJECTED: 2,  # eve by the rules, carol by a reviewer
        ErrorCode.EMAIL_ALREADY_REGISTERED: 1,
    }
    assert _all(stack, _key(metrics.OPERATION_DURATION), "SampleCount") == 5
    fastest = _all(stack, _key(metrics.OPERATION_DURATION), "Minimum")
    assert fastest is not None and fastest >= 0
    assert _all(stack, _key(metrics.REVIEWS_REQUESTED)) == 3
    assert _all(stack, _key(metrics.REVIEWS_DECIDED, Decision="approve")) == 1
    assert _all(stack, _key(metrics.REVIEWS_DECIDED, Decision="reject")) == 1
    assert _all(stack, _key(metrics.REVIEWS_WAITING), "Maximum") == 1
    # Each record the starter took, once (none was redelivered).
    assert _all(stack, _key(metrics.STARTER_LAG), "SampleCount") == 6
    assert waiting and accepted

    # Every metric the dashboard draws was written (the timed-out review: the next test), with
    # the dimensions it draws, and nothing else.
    written = {key[1] for key in stack.metric_series.series()}
    drawn = {line.metric.name for chart in APP_CHARTS for line in chart.lines}
    assert written == drawn - {metrics.REVIEWS_TIMED_OUT.name}
    for namespace, _, dimensions in stack.metric_series.series():
        assert namespace == NAMESPACE
        named = dict(dimensions)
        assert named.pop(metrics.STAGE) == STAGE
        assert all(value in metrics.DIMENSION_VALUES[name] for name, value in named.items())
    assert stack.emf.invalid == 0

    # Nothing personal in a line: no email, no id, no task token.
    text = "\n".join(lines)
    assert "@" not in text
    for operation_id in (*accepted, again, approved, rejected, waiting):
        assert operation_id not in text
    assert all(json.loads(line)["_aws"]["CloudWatchMetrics"] for line in lines)


def test_a_review_nobody_decides_is_measured_as_timed_out(stack):
    waiting = awaiting_review(stack)
    stack.clock.advance(timedelta(seconds=settings().review_timeout_seconds))
    done = finished(stack, waiting["id"])
    assert done["error"]["code"] == "REVIEW_TIMED_OUT"

    assert _all(stack, _key(metrics.REVIEWS_TIMED_OUT)) == 1
    assert _all(stack, _key(metrics.OPERATIONS_FAILED, ErrorCode="REVIEW_TIMED_OUT")) == 1
    # Accepted to done: the day it waited (the emulator's clock), and a little.
    day = settings().review_timeout_seconds * 1000
    duration = _all(stack, _key(metrics.OPERATION_DURATION), "Maximum")
    assert duration is not None and day <= duration < day + 60_000


def test_a_step_broken_after_its_retries_is_measured_by_the_next_sweep_once(
    stack, lines, monkeypatch
):
    """The workflow records that failure itself (RecordFailure: no function runs), marked for
    the sweeper, which measures it on its next run each emulated minute, and never again."""
    throttled = TransientError("ThrottlingException: still throttled")
    calls = fail_calls(monkeypatch, UsersTable, "add", throttled, lambda call: True)
    accepted = body(post_user(stack.client, "ada@example.org"))["id"]
    assert finished(stack, accepted)["error"]["code"] == "USER_CREATE_FAILED"
    assert len(calls) == 4  # the first attempt and three retries
    failed = _key(metrics.OPERATIONS_FAILED, ErrorCode="USER_CREATE_FAILED")
    sweeps = _key(metrics.REVIEWS_WAITING)  # written by every sweep
    assert _all(stack, failed) is None  # not measured yet

    for runs in (1, 2):
        stack.clock.advance(timedelta(minutes=1))
        stack.housekeeping()  # as the local stack's runs it: the schedule, when due
        assert _all(stack, sweeps, "SampleCount") == runs
        assert _all(stack, failed) == 1
    assert _all(stack, _key(metrics.OPERATION_DURATION), "SampleCount") == 1
    assert stack.emf.invalid == 0
    text = "\n".join(lines)
    assert "@" not in text and accepted not in text
