"""The EventPublisher port (chalicelib/services/ports.py): FakeEvents and EventStream keep the
same promises."""

import pytest

from chalicelib.domain.errors import PublishFailed
from chalicelib.domain.events import OperationRequested
from tests.builders import an_event, unique_email


def _event() -> OperationRequested:
    return an_event(email=unique_email())


def test_a_published_event_reaches_the_stream_whole(stream):
    first, second = _event(), _event()
    stream.publisher.publish(first)
    stream.publisher.publish(second)
    published = [e for e in stream.published() if e in (first, second)]
    assert published == [first, second]


def test_an_unavailable_stream_is_a_publish_failure(stream):
    event = _event()
    with pytest.raises(PublishFailed):
        stream.unavailable.publish(event)
    assert event not in stream.published()
