"""The stream's record format (chalicelib/adapters/event_stream.py: encode, decode)."""

import pytest

from chalicelib.adapters.event_stream import MalformedEvent, decode, encode
from chalicelib.domain.events import OperationRequested
from tests.builders import a_request, an_event, an_operation

pytestmark = pytest.mark.unit


def test_events_round_trip():
    event = OperationRequested.of(an_operation())
    assert decode(encode(event)) == event


def test_the_record_format_is_compact_json():
    # Records already on a stream (and replayed from its archive) have this exact shape.
    event = an_event(operation_id="op-1", email="ada@example.org", name="Ada")
    assert encode(event) == (
        b'{"type":"user.create","operationId":"op-1",'
        b'"request":{"email":"ada@example.org","name":"Ada"}}'
    )


def test_an_archived_record_reads_as_it_was_written():
    """The archive keeps records for ever: one written before any field was added reads as
    the same event, and keeps its exact bytes when written again (make replay, redrive)."""
    archived = (
        b'{"type":"user.create","operationId":"op-1",'
        b'"request":{"email":"ada@example.org","name":"Ada"},"publishedAt":"2026-11-23T10:00Z"}'
    )
    event = decode(archived)
    assert event == an_event(operation_id="op-1", email="ada@example.org", name="Ada")
    assert encode(event) == archived


def test_an_event_carries_its_publication_time_which_is_not_its_identity():
    event = an_event(operation_id="op-1", published_at="2026-11-23T10:00Z")
    parsed = decode(encode(event))
    assert parsed.published_at == "2026-11-23T10:00Z"
    assert parsed == an_event(operation_id="op-1", request=a_request())
    assert b"publishedAt" not in encode(an_event(operation_id="op-1", request=event.request))


@pytest.mark.parametrize(
    "data",
    [
        b'{"type": "user.create", "operationId": "x", "request": {"email": "a", "name": "b"},'
        b' "publishedAt": 1}',
        b"",
        b"not json",
        b"[]",
        b'{"type": "user.delete", "operationId": "x", "request": {"email": "a", "name": "b"}}',
        b'{"type": "user.create", "operationId": "x"}',
        b'{"type": "user.create", "operationId": "x", "request": {"email": 1, "name": "b"}}',
        b"\xff\xfe",
    ],
)
def test_malformed_events_are_recognised(data):
    with pytest.raises(MalformedEvent):
        decode(data)
