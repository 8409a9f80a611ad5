"""What the local stack keeps of the app's metrics: EMF lines read as CloudWatch Logs reads
them (local/aws/emf.py), into a bounded series store (local/state/series.py) that answers
CloudWatch's statistics per period.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
"""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib.adapters.logs import VERBATIM
from local.aws.emf import EmfReader, InvalidDocument, extract
from local.state.series import SeriesStore, series_key

pytestmark = pytest.mark.unit
KEY = series_key("user-service", "OperationDuration", {"Stage": "dev"})
T0 = 1_800_000_000.0  # a multiple of 60 s


def _emf(**root: object) -> str:
    document = {
        "_aws": {
            "Timestamp": 1_800_000_000_500,
            "CloudWatchMetrics": [
                {
                    "Namespace": "user-service",
                    "Dimensions": [["Stage"], ["Stage", "ErrorCode"]],
                    "Metrics": [{"Name": "OperationsFailed", "Unit": "Count"}],
                }
            ],
        },
        "Stage": "dev",
        "ErrorCode": "USER_REJECTED",
        "OperationsFailed": 1,
        **root,
    }
    return json.dumps(document)


def test_a_line_makes_a_metric_per_dimension_set():
    points = extract(_emf())
    assert [(p.name, p.dimensions, p.values, p.timestamp) for p in points] == [
        ("OperationsFailed", {"Stage": "dev"}, [1.0], 1_800_000_000.5),
        (
            "OperationsFailed",
            {"Stage": "dev", "ErrorCode": "USER_REJECTED"},
            [1.0],
            1_800_000_000.5,
        ),
    ]
    assert {p.unit for p in points} == {"Count"}


@pytest.mark.parametrize("line", ['{"message": "hello"}', "not json", "[1, 2]", '"_aws"'])
def test_a_line_that_is_not_emf_makes_nothing(line):
    assert extract(line) == []


@pytest.mark.parametrize(
    "line",
    [
        _emf(_aws={"CloudWatchMetrics": []}),  # no Timestamp
        _emf(ErrorCode=7),  # a dimension's value is a string
        _emf(OperationsFailed="1"),  # a value is a number
        _emf(OperationsFailed=[1] * 101),  # at most 100 values
        _emf(_aws={"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "a b"}]}),
    ],
)
def test_a_line_that_breaks_the_specification_makes_no_metric(line):
    with pytest.raises(InvalidDocument):
        extract(line)


def test_the_reader_reads_a_logger_s_lines_and_counts_the_invalid_ones(caplog):
    store = SeriesStore()
    reader = EmfReader(lambda p: store.put(series_key(p.namespace, p.name, p.dimensions),
                                           p.unit, p.values, p.timestamp))  # fmt: skip
    emitting = logging.getLogger("test.emf")
    emitting.propagate = False
    emitting.addHandler(reader)
    try:
        as_is = {VERBATIM: True}  # as the app's emitter writes a document
        emitting.warning("%s", _emf(), extra=as_is)
        emitting.warning("%s", _emf())  # inside a log entry's message: not EMF
        emitting.warning("%s", _emf(OperationsFailed="x"), extra=as_is)
        emitting.warning("%s", _emf(OperationsFailed="y"), extra=as_is)
    finally:
        emitting.removeHandler(reader)
    failed = series_key("user-service", "OperationsFailed", {"Stage": "dev"})
    assert store.over_all(failed, "Sum") == 1
    assert reader.invalid == 2
    assert sum("made no metric" in r.getMessage() for r in caplog.records) == 1


def test_statistics_per_period_as_cloudwatch_names_them():
    store = SeriesStore(resolution=10)
    store.put(KEY, "Milliseconds", [10, 20, 30], T0 + 1)
    store.put(KEY, "Milliseconds", [100], T0 + 15)
    store.put(KEY, "Milliseconds", [5], T0 + 65)
    assert store.query(KEY, T0, T0 + 120, 60, "Sum") == [160, 5]
    assert store.query(KEY, T0, T0 + 120, 60, "SampleCount") == [4, 1]
    assert store.query(KEY, T0, T0 + 120, 60, "Average") == [40, 5]
    assert store.query(KEY, T0, T0 + 120, 60, "Minimum") == [10, 5]
    assert store.query(KEY, T0, T0 + 120, 60, "Maximum") == [100, 5]
    assert store.query(KEY, T0, T0 + 120, 60, "p50") == [20, 5]
    assert store.query(KEY, T0, T0 + 120, 60, "p99") == [100, 5]
    assert store.query(KEY, T0, T0 + 30, 10, "Sum") == [60, 100, None]
    assert store.query(series_key("x", "y", {}), T0, T0 + 20, 10, "Sum") == [None, None]
    with pytest.raises(ValueError):
        store.query(KEY, T0, T0 + 60, 15, "Sum")  # not a multiple of the resolution
    with pytest.raises(ValueError):
        store.query(KEY, T0, T0 + 60, 10, "Median")


def test_percentiles_are_exact_within_the_sample_and_close_beyond():
    store = SeriesStore(sample_size=64, seed=7)
    store.put(KEY, "Milliseconds", range(1, 1001), T0)  # 1..1000 in one bucket
    assert store.over_all(KEY, "SampleCount") == 1000
    assert store.over_all(KEY, "Maximum") == 1000
    median = store.over_all(KEY, "p50")
    assert median is not None and 350 <= median <= 650  # a sample of 64 of 1,000
    small = series_key("user-service", "StarterLag", {})
    store.put(small, "Milliseconds", range(1, 51), T0)
    assert store.over_all(small, "p90") == 45


def test_memory_is_bounded_in_series_and_in_time():
    store = SeriesStore(resolution=10, keep_seconds=60, max_series=2)
    for second in range(0, 600, 5):
        store.put(KEY, "Milliseconds", [1], T0 + second)
    assert store.size() == (1, 6)  # the last minute only
    assert store.query(KEY, T0, T0 + 600, 60, "Sum")[:9] == [None] * 9
    store.put(KEY, "Milliseconds", [1], T0)  # older than what is kept: dropped
    assert store.size() == (1, 6)
    store.put(series_key("user-service", "A", {}), "Count", [1], T0)
    store.put(series_key("user-service", "B", {}), "Count", [1], T0)  # a third series
    assert store.size()[0] == 2 and store.refused == 1


def test_a_late_value_lands_in_its_own_period():
    store = SeriesStore(resolution=10)
    store.put(KEY, "Milliseconds", [1], T0 + 25)
    store.put(KEY, "Milliseconds", [2], T0 + 5)  # written later, measured earlier
    store.put(KEY, "Milliseconds", [4], T0 + 35)
    assert store.query(KEY, T0, T0 + 40, 10, "Sum") == [2, None, 1, 4]
