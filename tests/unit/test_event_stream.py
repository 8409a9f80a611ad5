"""The stream's record format (chalicelib/adapters/event_stream.py: encode, decode)."""

import pytest

from chalicelib.adapters.event_stream import MalformedEvent, decode, encode
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import UserRequest, new_operation

pytestmark = pytest.mark.unit


def test_events_round_trip():
    event = OperationRequested.of(new_operation(UserRequest("ada@example.org", "Ada")))
    assert decode(encode(event)) == event


def test_the_record_format_is_compact_json():
    # Records already on a stream (and replayed from its archive) have this exact shape.
    event = OperationRequested("op-1", UserRequest("ada@example.org", "Ada"))
    assert encode(event) == (
        b'{"type":"user.create","operationId":"op-1",'
        b'"request":{"email":"ada@example.org","name":"Ada"}}'
    )


def test_an_event_carries_its_publication_time_which_is_not_its_identity():
    event = OperationRequested("op-1", UserRequest("ada@example.org", "Ada"), "2026-11-23T10:00Z")
    parsed = decode(encode(event))
    assert parsed.published_at == "2026-11-23T10:00Z"
    assert parsed == OperationRequested("op-1", UserRequest("ada@example.org", "Ada"))
    assert b"publishedAt" not in encode(OperationRequested("op-1", event.request))


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
