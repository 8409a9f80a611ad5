"""Reading the archive: Firehose's objects under events/YYYY/MM/dd/HH/ (UTC), gzipped, one
JSON event per line (infra/definition.py: archive_resources)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import botocore.exceptions

from chalicelib.adapters import event_stream
from chalicelib.adapters.aws import error_code
from chalicelib.adapters.event_stream import MalformedEvent
from chalicelib.adapters.logs import redact
from chalicelib.domain.events import OperationRequested
from infra.definition import ARCHIVE_PREFIX
from ops.target import OpsError, Target

GZIP_MAGIC = b"\x1f\x8b"
# An object sits under the hour of its oldest record's arrival and holds one buffer, at most
# 900 s (Firehose's longest interval): an event of time t is under hour(t) or an earlier hour
# up to 15 minutes back. Its publisher stamps it just before it arrives: a minute covers that.
LOOKBACK = timedelta(seconds=900 + 60)
EXAMPLE = "2026-11-23T10:00:00Z"


@dataclasses.dataclass(frozen=True)
class Window:
    """[start, end): the events published from start, before end."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"[{_iso(self.start)}, {_iso(self.end)})"


def parse_window(start: str, end: str, now: datetime | None = None) -> Window:
    window = Window(_parse_time("FROM", start), _parse_time("TO", end))
    if window.end <= window.start:
        raise OpsError(f"TO ({end}) must be after FROM ({start})")
    if window.start > (now or datetime.now(UTC)):
        raise OpsError(f"FROM ({start}) is in the future: nothing is archived yet")
    return window


def _parse_time(name: str, text: str) -> datetime:
    if not text:
        raise OpsError(f"{name} is missing: give an ISO 8601 time, e.g. {name}={EXAMPLE}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OpsError(f"{name}={text} is not an ISO 8601 time, e.g. {EXAMPLE}") from None
    if moment.tzinfo is None:
        raise OpsError(f"{name}={text} has no time zone: add Z for UTC, e.g. {EXAMPLE}")
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hour_prefixes(start: datetime, end: datetime) -> list[str]:
    """The hour prefixes that can hold the events published in [start, end)."""
    hour = (start - LOOKBACK).replace(minute=0, second=0, microsecond=0)
    last = end - timedelta(microseconds=1)
    prefixes = []
    while hour <= last:
        prefixes.append(f"{ARCHIVE_PREFIX}{hour:%Y/%m/%d/%H}/")
        hour += timedelta(hours=1)
    return prefixes


def archived_keys(target: Target, start: datetime, end: datetime) -> list[str]:
    """The archive's objects that can hold events published in [start, end), oldest first;
    a one-line error when there are none."""
    s3 = target.client("s3")
    prefixes = hour_prefixes(start, end)
    keys: list[str] = []
    try:
        for prefix in prefixes:
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=target.bucket, Prefix=prefix
            ):
                keys += [item["Key"] for item in page.get("Contents", [])]
        if keys:
            return keys
        anything = s3.list_objects_v2(Bucket=target.bucket, Prefix=ARCHIVE_PREFIX, MaxKeys=1)
    except botocore.exceptions.ClientError as error:
        raise OpsError(f"cannot read s3://{target.bucket}: {error_code(error)}") from None
    where = f"s3://{target.bucket}/{ARCHIVE_PREFIX}"
    if not anything.get("KeyCount"):
        raise OpsError(f"the archive {where} is empty: nothing has been archived yet")
    looked = f"{prefixes[0][len(ARCHIVE_PREFIX) :]} to {prefixes[-1][len(ARCHIVE_PREFIX) :]}"
    raise OpsError(f"nothing archived in {where} for {Window(start, end)} (looked in {looked})")


def read_object(target: Target, key: str) -> bytes:
    return bytes(target.client("s3").get_object(Bucket=target.bucket, Key=key)["Body"].read())


def split_records(body: bytes) -> Iterator[bytes]:
    """The records of an object, as they were on the stream: gzipped or not, one per line or
    concatenated (JSON values delimit themselves). Bytes that are not JSON come out a line at a
    time, for the caller to count as unreadable."""
    if body.startswith(GZIP_MAGIC):
        body = gzip.decompress(body)
    text = body.decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position == len(text):
            return
        try:
            _, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            newline = text.find("\n", position)
            end = len(text) if newline < 0 else newline
        yield text[position:end].encode("utf-8", "surrogateescape")
        position = end


@dataclasses.dataclass(frozen=True)
class ArchivedEvent:
    data: bytes  # exactly as it was on the stream
    event: OperationRequested
    published_at: datetime | None


def parse_event(data: bytes) -> ArchivedEvent | None:
    """None when the record is not an operation event (a poison record is archived too)."""
    try:
        event = event_stream.decode(data)
        published = (
            datetime.fromisoformat(event.published_at).astimezone(UTC)
            if event.published_at
            else None
        )
    except (MalformedEvent, ValueError):
        return None
    return ArchivedEvent(data, event, published)


def describe(data: bytes, reveal: bool) -> str:
    """A record for an operator's terminal: emails hidden unless asked for."""
    text = data.decode("utf-8", "backslashreplace")
    return text if reveal else redact(text)
