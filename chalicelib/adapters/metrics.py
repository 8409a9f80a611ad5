"""The app's metrics, written as CloudWatch embedded metric format (EMF): one JSON log line per
event, from which CloudWatch Logs makes the metrics
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).

Stated here once, for the emitter, the dashboard (infra/dashboard.py) and the local console: the
namespace (the stage's `METRICS_NAMESPACE`, which the stack gives every function), the metrics
with their units, and their dimensions: `Stage` on every metric, `ErrorCode` and `Decision`
where named, each from a closed set of values (the catalogue of error codes, the two decisions).
Nothing personal is ever a dimension or a value: no email, no id, never a task token.

Hand-written rather than Powertools' Metrics: a line of JSON per event needs nothing more, and
importing Powertools' Metrics costs a cold start 50-80 ms (benchmarks/import_cost.py,
docs/metrics.md). Metrics never fail the work they measure: a document that cannot be built or
written is logged once (per kind of failure) and dropped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from chalicelib import clock
from chalicelib.adapters.logs import VERBATIM
from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.operations import Operation, OperationStatus
from chalicelib.domain.reviews import Decision
from chalicelib.services.ports import UNMEASURED, Metrics

# The stack sets these on every function (infra/definition.py: metrics_environment).
NAMESPACE_VARIABLE = "METRICS_NAMESPACE"
STAGE_VARIABLE = "METRICS_STAGE"
# The logger whose lines are the EMF documents (the local stack reads them from it).
LOGGER = "chalicelib.metrics"

# Dimensions, and the only values each may take.
STAGE = "Stage"
ERROR_CODE = "ErrorCode"
DECISION = "Decision"
DIMENSION_VALUES: Mapping[str, frozenset[str]] = {
    ERROR_CODE: frozenset(ErrorCode),
    DECISION: frozenset(Decision),
}

# EMF's limits: values per metric in one document.
MAX_VALUES = 100


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # a CloudWatch unit: Count, Milliseconds
    description: str
    dimensions: tuple[str, ...] = ()  # besides Stage, which every metric has


OPERATIONS_ACCEPTED = Metric("OperationsAccepted", "Count", "operations accepted (202)")
OPERATIONS_SUCCEEDED = Metric("OperationsSucceeded", "Count", "operations that succeeded")
OPERATIONS_FAILED = Metric(
    "OperationsFailed", "Count", "operations that failed, by error code", (ERROR_CODE,)
)
OPERATION_DURATION = Metric(
    "OperationDuration", "Milliseconds", "time from accepted to done, per operation"
)
REVIEWS_REQUESTED = Metric("ReviewsRequested", "Count", "sign-ups put before a reviewer")
REVIEWS_DECIDED = Metric(
    "ReviewsDecided", "Count", "reviews a reviewer decided, by decision", (DECISION,)
)
REVIEWS_TIMED_OUT = Metric("ReviewsTimedOut", "Count", "reviews nobody decided in time")
REVIEWS_WAITING = Metric(
    "ReviewsWaiting",
    "Count",
    "reviews waiting for a reviewer (counted by the sweeper, each minute)",
)
STARTER_LAG = Metric(
    "StarterLag", "Milliseconds", "time from a record's arrival on the stream to the starter"
)
CATALOGUE: tuple[Metric, ...] = (
    OPERATIONS_ACCEPTED,
    OPERATIONS_SUCCEEDED,
    OPERATIONS_FAILED,
    OPERATION_DURATION,
    REVIEWS_REQUESTED,
    REVIEWS_DECIDED,
    REVIEWS_TIMED_OUT,
    REVIEWS_WAITING,
    STARTER_LAG,
)

logger = logging.getLogger(LOGGER)
# Metrics are written whatever LOG_LEVEL lets through of the other logs.
logger.setLevel(logging.INFO)
_reported: set[str] = set()


def failed(what: str, error: BaseException | str) -> None:
    """Logs a metrics failure the first time one of its kind happens; later ones are dropped."""
    if what in _reported:
        return
    _reported.add(what)
    detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    logging.getLogger("chalicelib.adapters.metrics").warning(
        "metrics: %s failed (%s); the metric is dropped, the work goes on, and this is not "
        "logged again",
        what,
        detail,
    )


@dataclasses.dataclass(frozen=True)
class Measurement:
    metric: Metric
    values: Sequence[float]
    dimensions: Mapping[str, str] = dataclasses.field(default_factory=dict)


def document(
    namespace: str, stage: str, measurements: Iterable[Measurement], timestamp_ms: int
) -> dict[str, object]:
    """One EMF document: a directive per dimension set, the values at the root. Raises
    ValueError for what the catalogue does not allow (an unknown dimension or value, two
    values of one dimension, more than MAX_VALUES values)."""
    root: dict[str, object] = {STAGE: stage}
    directives: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for measurement in measurements:
        metric = measurement.metric
        if set(measurement.dimensions) != set(metric.dimensions):
            raise ValueError(f"{metric.name} takes the dimensions {metric.dimensions}")
        for name, value in measurement.dimensions.items():
            if value not in DIMENSION_VALUES[name]:  # the value is not said: it could be anything
                raise ValueError(f"a value of {name} outside its catalogue")
            if root.setdefault(name, value) != value:
                raise ValueError(f"two values of {name} in one document")
        values = [float(v) for v in measurement.values]
        if not 0 < len(values) <= MAX_VALUES or metric.name in root:
            raise ValueError(f"{metric.name}: 1 to {MAX_VALUES} values, once per document")
        root[metric.name] = values[0] if len(values) == 1 else values
        key = (STAGE, *metric.dimensions)
        directives.setdefault(key, []).append({"Name": metric.name, "Unit": metric.unit})
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [list(key)], "Metrics": metrics}
                for key, metrics in directives.items()
            ],
        },
        **root,
    }


class EmfMetrics:
    """The services' Metrics port (chalicelib/services/ports.py), as EMF log lines."""

    def __init__(self, namespace: str, stage: str) -> None:
        self.namespace = namespace
        self.stage = stage

    def operation_accepted(self) -> None:
        self._emit("operation_accepted", Measurement(OPERATIONS_ACCEPTED, [1]))

    def operation_done(self, operation: Operation) -> None:
        if operation.status is OperationStatus.SUCCEEDED:
            outcome = Measurement(OPERATIONS_SUCCEEDED, [1])
        else:
            code = operation.error.code if operation.error else ""
            outcome = Measurement(OPERATIONS_FAILED, [1], {ERROR_CODE: code})
        duration = elapsed_milliseconds(operation.created_at, operation.updated_at)
        self._emit("operation_done", outcome, Measurement(OPERATION_DURATION, [duration]))

    def review_requested(self) -> None:
        self._emit("review_requested", Measurement(REVIEWS_REQUESTED, [1]))

    def review_decided(self, decision: Decision) -> None:
        self._emit("review_decided", Measurement(REVIEWS_DECIDED, [1], {DECISION: decision}))

    def review_timed_out(self) -> None:
        self._emit("review_timed_out", Measurement(REVIEWS_TIMED_OUT, [1]))

    def reviews_waiting(self, count: int) -> None:
        self._emit("reviews_waiting", Measurement(REVIEWS_WAITING, [count]))

    def records_arrived(self, arrivals: Sequence[datetime]) -> None:
        lags = lags_milliseconds(arrivals)
        for start in range(0, len(lags), MAX_VALUES):
            self._emit(
                "records_arrived", Measurement(STARTER_LAG, lags[start : start + MAX_VALUES])
            )

    def _emit(self, what: str, *measurements: Measurement) -> None:
        try:
            timestamp = int(clock.now().timestamp() * 1000)
            line = json.dumps(
                document(self.namespace, self.stage, measurements, timestamp),
                separators=(",", ":"),
            )
            logger.info("%s", line, extra={VERBATIM: True})
        except Exception as error:
            failed(what, error)


def from_environment() -> Metrics:
    """The stage's metrics: EMF under its namespace, or none (said once) where it has none
    (`chalice deploy` of a stage: the stack sets the namespace)."""
    namespace = os.environ.get(NAMESPACE_VARIABLE, "")
    stage = os.environ.get(STAGE_VARIABLE, "")
    if not namespace or not stage:
        failed("configuring", f"{NAMESPACE_VARIABLE} or {STAGE_VARIABLE} is not set")
        return UNMEASURED
    return EmfMetrics(namespace, stage)


def lags_milliseconds(arrivals: Sequence[datetime]) -> list[float]:
    """How long ago each arrival was (Chalice gives a record's as a naive UTC datetime)."""
    now = clock.now()
    return [
        max(0.0, (now - arrived.replace(tzinfo=arrived.tzinfo or UTC)).total_seconds() * 1000)
        for arrived in arrivals
    ]


def elapsed_milliseconds(start: str, end: str) -> float:
    """From one ISO 8601 timestamp to another (never below 0)."""
    elapsed = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return max(0.0, elapsed.total_seconds() * 1000)
