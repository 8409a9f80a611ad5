"""Metric series in memory, bounded: what the local stack keeps of the app's metrics.

Per series (namespace, metric name, dimensions), one bucket per `resolution` seconds of the
metric's own timestamps, for the last `keep_seconds` before the newest data point: its count,
sum, minimum and maximum, and a sample of at most `sample_size` of its values (reservoir
sampling: every value equally likely to be kept) from which percentiles are read. Memory is
bounded however long the stack runs: at most `max_series` series (a new one beyond them is
refused, and counted), each at most keep_seconds / resolution buckets of fixed size.

Statistics as CloudWatch names them (SampleCount, Sum, Average, Minimum, Maximum, pNN), per
period; a percentile is exact while a bucket holds no more than `sample_size` values, an
estimate from the sample beyond.
"""

from __future__ import annotations

import array
import collections
import dataclasses
import math
import random
import re
import threading
from collections.abc import Iterable, Mapping, Sequence

# A series' identity: namespace, metric name and its dimensions (name, value), sorted.
SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]
STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?)")


def series_key(namespace: str, name: str, dimensions: Mapping[str, str]) -> SeriesKey:
    return namespace, name, tuple(sorted(dimensions.items()))


def valid_statistic(stat: str) -> bool:
    return stat in STATISTICS or _PERCENTILE.fullmatch(stat) is not None


@dataclasses.dataclass
class Bucket:
    count: int = 0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    sample: array.array[float] = dataclasses.field(default_factory=lambda: array.array("d"))


@dataclasses.dataclass
class Series:
    unit: str
    buckets: collections.OrderedDict[int, Bucket] = dataclasses.field(
        default_factory=collections.OrderedDict
    )


class SeriesStore:
    def __init__(
        self,
        resolution: int = 10,
        keep_seconds: int = 900,
        max_series: int = 200,
        sample_size: int = 64,
        seed: int = 0,
    ) -> None:
        self.resolution = resolution
        self.keep_buckets = keep_seconds // resolution
        self.max_series = max_series
        self.sample_size = sample_size
        self.refused = 0  # data points of series beyond max_series
        self._series: dict[SeriesKey, Series] = {}
        self._random = random.Random(seed)
        self._guard = threading.Lock()

    def put(self, key: SeriesKey, unit: str, values: Iterable[float], timestamp: float) -> None:
        """Values measured at `timestamp` (seconds since the epoch)."""
        index = int(timestamp // self.resolution)
        with self._guard:
            series = self._series.get(key)
            if series is None:
                if len(self._series) >= self.max_series:
                    self.refused += 1
                    return
                series = self._series[key] = Series(unit)
            buckets = series.buckets
            if buckets and index <= next(reversed(buckets)) - self.keep_buckets:
                return  # older than what is kept
            bucket = buckets.get(index)
            if bucket is None:
                newest = next(reversed(buckets)) if buckets else index
                bucket = buckets[index] = Bucket()
                if index < newest:  # late: the buckets stay in time order
                    for later in [k for k in buckets if k > index]:
                        buckets.move_to_end(later)
            for value in values:
                self._add(bucket, float(value))
            newest = next(reversed(buckets))
            while next(iter(buckets)) <= newest - self.keep_buckets:
                buckets.popitem(last=False)

    def _add(self, bucket: Bucket, value: float) -> None:
        bucket.count += 1
        bucket.total += value
        bucket.minimum = min(bucket.minimum, value)
        bucket.maximum = max(bucket.maximum, value)
        if len(bucket.sample) < self.sample_size:
            bucket.sample.append(value)
            return
        kept = self._random.randrange(bucket.count)
        if kept < self.sample_size:
            bucket.sample[kept] = value

    def series(self) -> list[SeriesKey]:
        with self._guard:
            return list(self._series)

    def unit(self, key: SeriesKey) -> str | None:
        with self._guard:
            series = self._series.get(key)
            return None if series is None else series.unit

    def query(
        self, key: SeriesKey, start: float, end: float, period: int, stat: str
    ) -> list[float | None]:
        """The statistic per period from `start` to `end` (seconds since the epoch), oldest
        first; None for a period without data. `period` is a multiple of the resolution."""
        if period % self.resolution or period <= 0:
            raise ValueError(f"the period is a multiple of {self.resolution} s")
        if not valid_statistic(stat):
            raise ValueError(f"unknown statistic {stat}")
        first = int(start // period)
        periods = max(0, math.ceil(end / period) - first)
        grouped: list[list[Bucket]] = [[] for _ in range(periods)]
        with self._guard:
            series = self._series.get(key)
            for index, bucket in series.buckets.items() if series else ():
                slot = (index * self.resolution) // period - first
                if 0 <= slot < periods:
                    grouped[slot].append(_copy(bucket))
        return [statistic(buckets, stat) if buckets else None for buckets in grouped]

    def over_all(self, key: SeriesKey, stat: str) -> float | None:
        """The statistic over everything held of the series; None when nothing is."""
        with self._guard:
            series = self._series.get(key)
            buckets = [_copy(b) for b in series.buckets.values()] if series else []
        return statistic(buckets, stat) if buckets else None

    def size(self) -> tuple[int, int]:
        """(series, buckets) held."""
        with self._guard:
            return len(self._series), sum(len(s.buckets) for s in self._series.values())


def _copy(bucket: Bucket) -> Bucket:
    return dataclasses.replace(bucket, sample=array.array("d", bucket.sample))


def statistic(buckets: Sequence[Bucket], stat: str) -> float:
    """A CloudWatch statistic over buckets (merged), each holding at least one value."""
    count = sum(b.count for b in buckets)
    if stat == "SampleCount":
        return float(count)
    if stat == "Sum":
        return sum(b.total for b in buckets)
    if stat == "Average":
        return sum(b.total for b in buckets) / count
    if stat == "Minimum":
        return min(b.minimum for b in buckets)
    if stat == "Maximum":
        return max(b.maximum for b in buckets)
    matched = _PERCENTILE.fullmatch(stat)
    if matched is None:
        raise ValueError(f"unknown statistic {stat}")
    return percentile(buckets, float(matched.group(1)))


def percentile(buckets: Sequence[Bucket], rank: float) -> float:
    """Nearest rank over the buckets' samples, each value weighted by how many of its bucket's
    values it stands for."""
    weighted = sorted(
        (value, b.count / len(b.sample)) for b in buckets for value in b.sample if b.sample
    )
    wanted = rank / 100 * sum(weight for _, weight in weighted)
    seen = 0.0
    for value, weight in weighted:
        seen += weight
        if seen >= wanted - 1e-9:
            return value
    return weighted[-1][0]
