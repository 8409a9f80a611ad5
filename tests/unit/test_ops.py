"""The operator commands' pure parts: windows, hour prefixes, record framing, publishing."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from ops.archive import Window, hour_prefixes, parse_window, split_records
from ops.publish import publish
from ops.target import OpsError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_window_is_half_open_and_in_utc():
    window = parse_window("2026-11-23T10:00:00+01:00", "2026-11-23T10:30:00Z", NOW)
    assert window == Window(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), window.end)
    assert window.start in window and window.end not in window
    assert str(window) == "[2026-11-23T09:00:00Z, 2026-11-23T10:30:00Z)"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("", "2026-11-23T10:00:00Z", "FROM is missing"),
        ("yesterday", "2026-11-23T10:00:00Z", "FROM=yesterday is not an ISO 8601 time"),
        ("2026-11-23T10:00:00", "2026-11-23T11:00:00Z", "has no time zone: add Z"),
        ("2026-11-23T10:00:00Z", "2026-11-23T09:00:00Z", "TO (2026-11-23T09:00:00Z) must be after"),
        ("2026-11-23T10:00:00Z", "2026-11-23T10:00:00Z", "must be after FROM"),
        ("2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z", "is in the future"),
    ],
)
def test_a_bad_window_is_one_clear_line(start, end, message):
    with pytest.raises(OpsError, match=re.escape(message)) as raised:
        parse_window(start, end, NOW)
    assert "\n" not in str(raised.value)


def test_the_prefixes_reach_back_over_firehose_s_longest_buffer():
    start = datetime(2026, 11, 23, 10, 10, tzinfo=UTC)  # 15 min back: 09:54
    end = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # exclusive: hour 12 cannot hold it
    assert hour_prefixes(start, end) == [
        "events/2026/11/23/09/",
        "events/2026/11/23/10/",
        "events/2026/11/23/11/",
    ]
    late = datetime(2026, 11, 23, 10, 20, tzinfo=UTC)
    assert hour_prefixes(late, late.replace(minute=21)) == ["events/2026/11/23/10/"]


def test_records_split_from_gzipped_lines_concatenated_json_and_junk():
    lines = b'{"a":1}\n{"b":"x\\ny"}\n'
    assert list(split_records(gzip.compress(lines))) == [b'{"a":1}', b'{"b":"x\\ny"}']
    assert list(split_records(b'{"a":1}{"a":2} {"a":3}')) == [b'{"a":1}', b'{"a":2}', b'{"a":3}']
    assert list(split_records(b'poison\n{"a":1}\n\xff\xfe\n')) == [
        b"poison",
        b'{"a":1}',
        b"\xff\xfe",
    ]
    assert list(split_records(b"")) == []


class RefusingKinesis:
    """Refuses the records it is told to, `times` times each, as a shard over its limit does."""

    def __init__(self, refuse: set[bytes], times: int = 1) -> None:
        self.refusals = dict.fromkeys(refuse, times)
        self.calls: list[list[bytes]] = []
        self.accepted: list[bytes] = []

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        self.calls.append([r["Data"] for r in Records])
        results = []
        for record in Records:
            if self.refusals.get(record["Data"], 0) > 0:
                self.refusals[record["Data"]] -= 1
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                self.accepted.append(record["Data"])
                results.append({"SequenceNumber": "1", "ShardId": "s"})
        failed = sum("ErrorCode" in r for r in results)
        return {"FailedRecordCount": failed, "Records": results}


def test_refused_records_are_sent_again_with_backoff_until_all_are_on():
    kinesis = RefusingKinesis({b"1"}, times=2)
    waits: list[float] = []
    records = [(str(i), str(i).encode()) for i in range(3)]
    assert publish(kinesis, "replay", records, sleep=waits.append) == 3
    assert kinesis.calls == [[b"0", b"1", b"2"], [b"1"], [b"1"]]
    assert sorted(kinesis.accepted) == [b"0", b"1", b"2"]
    assert waits == [0.1, 0.2]


def test_a_record_refused_every_time_is_a_clear_error():
    kinesis = RefusingKinesis({b"data"}, times=100)
    waits: list[float] = []
    with pytest.raises(OpsError, match=r"replay refused 1 records 8 times \(Provisioned"):
        publish(kinesis, "replay", [("k", b"data")], sleep=waits.append)
    assert waits == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0]


def test_records_go_in_calls_of_at_most_500():
    kinesis = RefusingKinesis(set())
    publish(kinesis, "replay", [("k", b"x")] * 1001)
    assert [len(call) for call in kinesis.calls] == [500, 500, 1]
