"""The Metrics port (chalicelib/services/ports.py): FakeMetrics and EmfMetrics measure the same.
The adapter's side is read back from the EMF lines it writes, as CloudWatch Logs reads them
(local/aws/emf.py), on a fixed clock.

The format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.adapters import metrics
from chalicelib.domain.operations import (
    Operation,
    OperationError,
    OperationStatus,
    to_iso,
)
from chalicelib.domain.reviews import Decision
from chalicelib.services.ports import Metrics
from local.aws.emf import extract
from tests.builders import an_operation
from tests.contract.conftest import IMPLEMENTATIONS
from tests.contract.fakes import FakeMetrics, Measured
from tests.helpers import LogLines

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EMAIL = "ada.lovelace@example.org"


@dataclasses.dataclass
class Measuring:
    metrics: Metrics
    measured: Callable[[], list[Measured]]
    lines: list[str]  # what the adapter wrote (none for the fake)


@pytest.fixture(params=IMPLEMENTATIONS)
def measuring(request: pytest.FixtureRequest) -> Iterator[Measuring]:
    clock.set_source(lambda: NOW)
    try:
        if request.param == "fake":
            fake = FakeMetrics()
            yield Measuring(fake, lambda: fake.measured, [])
            return
        handler = LogLines()
        emitting = logging.getLogger(metrics.LOGGER)
        emitting.addHandler(handler)
        try:
            yield Measuring(
                metrics.EmfMetrics("user-service", "test"),
                lambda: _read(handler.lines),
                handler.lines,
            )
        finally:
            emitting.removeHandler(handler)
    finally:
        clock.set_source(None)


def _read(lines: list[str]) -> list[Measured]:
    found: list[Measured] = []
    for line in lines:
        for points in extract(line):
            assert points.namespace == "user-service"
            dimensions = dict(points.dimensions)
            assert dimensions.pop(metrics.STAGE) == "test"
            found += [(points.name, dimensions, value) for value in points.values]
    return found


def _done(status: OperationStatus, code: str | None = None, seconds: float = 1.5) -> Operation:
    accepted = an_operation(email=EMAIL, now=to_iso(NOW))
    return dataclasses.replace(
        accepted,
        status=status,
        updated_at=to_iso(NOW + timedelta(seconds=seconds)),
        error=OperationError(code, "a message that quotes ada@example.org") if code else None,
    )


def test_an_accepted_operation_is_counted(measuring):
    measuring.metrics.operation_accepted()
    assert measuring.measured() == [("OperationsAccepted", {}, 1)]


def test_a_success_is_counted_with_the_time_from_accepted_to_done(measuring):
    measuring.metrics.operation_done(_done(OperationStatus.SUCCEEDED, seconds=2.25))
    assert sorted(measuring.measured()) == [
        ("OperationDuration", {}, 2250),
        ("OperationsSucceeded", {}, 1),
    ]


def test_a_failure_is_counted_by_its_error_code(measuring):
    measuring.metrics.operation_done(_done(OperationStatus.FAILED, "USER_REJECTED", 0.5))
    assert sorted(measuring.measured()) == [
        ("OperationDuration", {}, 500),
        ("OperationsFailed", {"ErrorCode": "USER_REJECTED"}, 1),
    ]


def test_reviews_are_counted_by_what_became_of_them(measuring):
    measuring.metrics.review_requested()
    measuring.metrics.review_decided(Decision.APPROVE)
    measuring.metrics.review_decided(Decision.REJECT)
    measuring.metrics.review_timed_out()
    measuring.metrics.reviews_waiting(3)
    assert measuring.measured() == [
        ("ReviewsRequested", {}, 1),
        ("ReviewsDecided", {"Decision": "approve"}, 1),
        ("ReviewsDecided", {"Decision": "reject"}, 1),
        ("ReviewsTimedOut", {}, 1),
        ("ReviewsWaiting", {}, 3),
    ]


def test_the_starter_lag_is_each_record_s_time_since_it_arrived(measuring):
    naive = (NOW - timedelta(seconds=2)).replace(tzinfo=None)  # as Chalice gives it
    measuring.metrics.records_arrived([naive, NOW - timedelta(milliseconds=500)])
    assert measuring.measured() == [("StarterLag", {}, 2000), ("StarterLag", {}, 500)]


def test_a_batch_of_any_size_is_measured_whole(measuring):
    """EMF takes at most 100 values of a metric per document: more are written in several."""
    measuring.metrics.records_arrived([NOW - timedelta(seconds=n) for n in range(250)])
    assert sorted(v for _, _, v in measuring.measured()) == [n * 1000.0 for n in range(250)]
    assert len(measuring.lines) in (0, 3)  # the fake writes nothing


def test_nothing_personal_is_measured(measuring):
    done = _done(OperationStatus.FAILED, "EMAIL_ALREADY_REGISTERED")
    measuring.metrics.operation_done(done)
    written = repr(measuring.measured()) + "".join(measuring.lines)
    assert "@" not in written and done.id not in written and "Ada" not in written


def test_a_code_outside_the_catalogue_is_dropped_without_failing(measuring):
    measuring.metrics.operation_done(_done(OperationStatus.FAILED, "ada@example.org"))
    measuring.metrics.operation_accepted()  # and the next metric is measured
    assert measuring.measured() == [("OperationsAccepted", {}, 1)]
