"""The metrics emitter (chalicelib/adapters/metrics.py): embedded metric format documents as
the specification has them, written whatever the log level, never failing the work.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from chalicelib.adapters import logs, metrics
from chalicelib.services.ports import UNMEASURED

pytestmark = pytest.mark.unit
FAILED = metrics.Measurement(metrics.OPERATIONS_FAILED, [1], {"ErrorCode": "USER_REJECTED"})
DURATION = metrics.Measurement(metrics.OPERATION_DURATION, [12.5])


@pytest.fixture(autouse=True)
def _reported_afresh() -> Iterator[None]:
    """Each test sees the first failure of its kind."""
    metrics._reported.clear()
    yield
    metrics._reported.clear()


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def root_lines() -> Iterator[list[str]]:
    """What reaches the root logger's handler (Lambda's, on AWS), as it writes it."""
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.lines
    root.removeHandler(handler)


def test_a_document_has_a_directive_per_dimension_set_and_the_values_at_its_root():
    document = metrics.document("user-service", "dev", [FAILED, DURATION], 1_790_000_000_123)
    assert document == {
        "_aws": {
            "Timestamp": 1_790_000_000_123,
            "CloudWatchMetrics": [
                {
                    "Namespace": "user-service",
                    "Dimensions": [["Stage", "ErrorCode"]],
                    "Metrics": [{"Name": "OperationsFailed", "Unit": "Count"}],
                },
                {
                    "Namespace": "user-service",
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": "OperationDuration", "Unit": "Milliseconds"}],
                },
            ],
        },
        "Stage": "dev",
        "ErrorCode": "USER_REJECTED",
        "OperationsFailed": 1.0,
        "OperationDuration": 12.5,
    }


@pytest.mark.parametrize(
    "measurements",
    [
        [metrics.Measurement(metrics.OPERATIONS_FAILED, [1])],  # a dimension missing
        [metrics.Measurement(metrics.OPERATIONS_ACCEPTED, [1], {"ErrorCode": "USER_REJECTED"})],
        [metrics.Measurement(metrics.OPERATIONS_FAILED, [1], {"ErrorCode": "a@example.org"})],
        [metrics.Measurement(metrics.REVIEWS_DECIDED, [1], {"Decision": "maybe"})],
        [metrics.Measurement(metrics.STARTER_LAG, [1.0] * 101)],  # EMF: 100 values at most
        [metrics.Measurement(metrics.STARTER_LAG, [])],
        [DURATION, DURATION],  # one metric twice
        [FAILED, metrics.Measurement(metrics.OPERATIONS_FAILED, [1], {"ErrorCode": "NOT_STARTED"})],
    ],
)
def test_what_the_catalogue_does_not_allow_is_refused(measurements):
    with pytest.raises(ValueError) as refused:
        metrics.document("user-service", "dev", measurements, 0)
    assert "@" not in str(refused.value)


def test_a_metric_is_one_json_line_as_it_is_whatever_the_log_level(root_lines):
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # LOG_LEVEL=ERROR: the app's other lines are not written
    try:
        metrics.EmfMetrics("user-service", "dev").operation_accepted()
    finally:
        root.setLevel(level)
    (line,) = root_lines
    document = json.loads(line)
    assert set(document) == {"_aws", "Stage", "OperationsAccepted"}  # nothing of a log entry
    assert document["OperationsAccepted"] == 1


def test_a_metric_that_cannot_be_written_is_dropped_and_said_once(monkeypatch, caplog):
    def broken(*args: object) -> dict[str, object]:
        raise RuntimeError("no")

    monkeypatch.setattr(metrics, "document", broken)
    emitter = metrics.EmfMetrics("user-service", "dev")
    with caplog.at_level(logging.WARNING):
        emitter.operation_accepted()
        emitter.operation_accepted()
        emitter.review_requested()
    said = [r.getMessage() for r in caplog.records if r.name == "chalicelib.adapters.metrics"]
    assert len(said) == 2  # once per kind of metric
    assert "operation_accepted failed (RuntimeError: no)" in said[0]
    assert "not logged again" in said[0]


def test_without_a_namespace_nothing_is_measured_and_that_is_said_once(monkeypatch, caplog):
    monkeypatch.delenv(metrics.NAMESPACE_VARIABLE, raising=False)
    with caplog.at_level(logging.WARNING):
        assert metrics.from_environment() is UNMEASURED
        assert metrics.from_environment() is UNMEASURED
    assert [r.getMessage() for r in caplog.records].count(
        "metrics: configuring failed (METRICS_NAMESPACE or METRICS_STAGE is not set); the metric "
        "is dropped, the work goes on, and this is not logged again"
    ) == 1
    monkeypatch.setenv(metrics.NAMESPACE_VARIABLE, "user-service")
    monkeypatch.setenv(metrics.STAGE_VARIABLE, "dev")
    measuring = metrics.from_environment()
    assert isinstance(measuring, metrics.EmfMetrics)
    assert (measuring.namespace, measuring.stage) == ("user-service", "dev")


def test_the_catalogue_s_dimensions_are_closed_sets_of_nothing_personal():
    for metric in metrics.CATALOGUE:
        assert set(metric.dimensions) <= set(metrics.DIMENSION_VALUES)
    for values in metrics.DIMENSION_VALUES.values():
        assert 0 < len(values) <= 20
        assert all(value.replace("_", "").isalpha() for value in values)
