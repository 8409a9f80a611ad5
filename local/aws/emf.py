"""CloudWatch Logs' part of the embedded metric format (EMF), which moto does not do: the metrics
in the log lines the functions write, extracted as CloudWatch extracts them
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).

`EmfReader` is a logging handler on the app's metrics logger (chalicelib/adapters/metrics.py:
LOGGER): each record is formatted as the function writes it on Lambda (the app's JSON
formatter, which writes an EMF document as it is), and the line is read as CloudWatch reads a
log event: a JSON object whose `_aws` member holds a Timestamp and CloudWatchMetrics
directives (Namespace, Dimensions: sets of dimension names, Metrics: names and units), the
dimension values and metric values (a number, or up to 100) at the root. One data point per
value, dimension set and metric. A line that breaks the specification makes no metric, as in
CloudWatch (which counts it in AWS/Logs EMFValidationErrors): here it is counted in `invalid`
and logged once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeGuard

from chalicelib.adapters.logs import JsonFormatter

logger = logging.getLogger(__name__)
MAX_VALUES = 100
MAX_DIMENSIONS = 30
_NAMESPACE = re.compile(r"[a-zA-Z0-9._#:/-]{1,256}")


class InvalidDocument(ValueError):
    """The line is EMF but breaks the specification: it makes no metric."""


@dataclasses.dataclass(frozen=True)
class DataPoints:
    """The values of one metric, with one dimension set, at one time."""

    namespace: str
    name: str
    dimensions: dict[str, str]
    unit: str
    values: list[float]
    timestamp: float  # seconds since the epoch


def extract(line: str) -> list[DataPoints]:
    """The metrics in a log line: none when it is not EMF (not a JSON object with `_aws`);
    InvalidDocument when it is EMF that breaks the specification."""
    try:
        root = json.loads(line)
    except ValueError:
        return []
    if not isinstance(root, dict) or "_aws" not in root:
        return []
    meta = root["_aws"]
    if not isinstance(meta, dict):
        raise InvalidDocument("_aws is not an object")
    timestamp = meta.get("Timestamp")
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        raise InvalidDocument("_aws.Timestamp is not a number of milliseconds")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise InvalidDocument("_aws.CloudWatchMetrics is not an array")
    found: list[DataPoints] = []
    for directive in directives:
        found += _directive(root, directive, timestamp / 1000)
    return found


def _directive(root: dict[str, Any], directive: Any, timestamp: float) -> list[DataPoints]:
    if not isinstance(directive, dict):
        raise InvalidDocument("a metric directive is not an object")
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise InvalidDocument(f"namespace {namespace!r}")
    dimension_sets = directive.get("Dimensions")
    metrics = directive.get("Metrics")
    if not isinstance(dimension_sets, list) or not isinstance(metrics, list):
        raise InvalidDocument("a directive needs Dimensions and Metrics arrays")
    found = []
    for names in dimension_sets:
        if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
            raise InvalidDocument(f"a dimension set has at most {MAX_DIMENSIONS} names")
        dimensions = {}
        for name in names:
            value = root.get(name) if isinstance(name, str) else None
            if not isinstance(value, str):
                raise InvalidDocument(f"dimension {name!r} has no string value at the root")
            dimensions[name] = value
        for metric in metrics:
            found.append(_points(root, metric, namespace, dimensions, timestamp))
    return found


def _points(
    root: dict[str, Any], metric: Any, namespace: str, dimensions: dict[str, str], at: float
) -> DataPoints:
    name = metric.get("Name") if isinstance(metric, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidDocument("a metric without a name")
    value = root.get(name)
    given = value if isinstance(value, list) else [value]
    values = [float(v) for v in given if _number(v)]
    if not 0 < len(given) <= MAX_VALUES or len(values) != len(given):
        raise InvalidDocument(f"{name} is not a number or 1 to {MAX_VALUES} numbers")
    unit = metric.get("Unit", "None")
    return DataPoints(namespace, name, dimensions, str(unit), values, at)


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class EmfReader(logging.Handler):
    """Reads the EMF lines of a logger into `put`; `invalid` counts the lines that broke the
    specification (said once)."""

    def __init__(self, put: Callable[[DataPoints], None]) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self._put = put
        self.invalid = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            points = extract(self.format(record))
        except InvalidDocument as error:
            self.invalid += 1
            if self.invalid == 1:
                logger.warning("an EMF line made no metric (%s); later ones are counted", error)
            return
        except Exception:
            self.handleError(record)
            return
        for point in points:
            self._put(point)
