"""One codec per shape (chalicelib/codecs.py): the request, the user and the review are written
and read in one place, whatever carries them; an optional field is left out, never null."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import cast

import pytest

from chalicelib import codecs
from chalicelib.adapters.event_stream import decode, encode
from chalicelib.domain.users import UserRequest
from chalicelib.http.validation import FIELD_RULES
from tests.builders import a_request, a_review, a_user, an_event


@dataclasses.dataclass(frozen=True)
class WithPhone:
    """A request with one more, optional, field: what docs/extending.md adds."""

    email: str
    name: str
    phone: str | None = None


def _with_phone(email: str, name: str, phone: str | None = None) -> UserRequest:
    return cast(UserRequest, WithPhone(email, name, phone))


@pytest.fixture
def with_phone(monkeypatch) -> Iterator[None]:
    monkeypatch.setattr(codecs, "UserRequest", WithPhone)
    codecs.request_fields.cache_clear()
    yield
    codecs.request_fields.cache_clear()


def test_the_request_is_its_fields_under_their_json_names():
    request = a_request(email="ada@example.org", name="Ada")
    assert codecs.encode_request(request) == {"email": "ada@example.org", "name": "Ada"}
    assert codecs.decode_request({"name": "Ada", "email": "ada@example.org", "x": 1}) == request
    assert [f.name for f in codecs.request_fields() if f.required] == ["email", "name"]


@pytest.mark.parametrize(
    "values", [{"email": "ada@example.org"}, {"email": "ada@example.org", "name": 7}]
)
def test_a_request_without_a_required_field_or_with_a_value_not_text_is_malformed(values):
    with pytest.raises(codecs.MalformedData):
        codecs.decode_request(values)


def test_an_optional_field_is_left_out_when_absent_and_read_as_absent(with_phone):
    without = _with_phone("ada@example.org", "Ada")
    assert codecs.encode_request(without) == {"email": "ada@example.org", "name": "Ada"}
    assert "null" not in json.dumps(codecs.encode_request(without))
    assert codecs.decode_request({"email": "ada@example.org", "name": "Ada"}) == without
    with_one = _with_phone("ada@example.org", "Ada", "+33 1 23 45 67 89")
    assert codecs.encode_request(with_one)["phone"] == "+33 1 23 45 67 89"
    assert codecs.decode_request(codecs.encode_request(with_one)) == with_one


def test_an_optional_field_leaves_the_stream_s_records_as_they_were(with_phone):
    event = an_event(operation_id="op-1", request=_with_phone("ada@example.org", "Ada"))
    assert encode(event) == (
        b'{"type":"user.create","operationId":"op-1",'
        b'"request":{"email":"ada@example.org","name":"Ada"}}'
    )
    assert decode(encode(event)) == event


def test_a_field_of_another_type_is_refused_until_the_codec_reads_it(monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class WithAge:
        email: str
        name: str
        age: int | None = None

    monkeypatch.setattr(codecs, "UserRequest", WithAge)
    codecs.request_fields.cache_clear()
    try:
        with pytest.raises(TypeError, match=r"age: chalicelib/codecs\.py reads text only"):
            codecs.request_fields()
    finally:
        codecs.request_fields.cache_clear()


def test_the_user_and_the_review_carry_the_request_whole():
    user = a_user(email="ada@example.org", name="Ada")
    written = codecs.encode_user(user)
    assert list(written) == ["id", "email", "name", "status", "createdAt"]
    assert codecs.decode_user(written, user.operation_id) == user
    review = a_review(email="ada@review.example.org", name="Ada")
    shown = codecs.encode_review(review)
    assert list(shown) == ["operationId", "userId", "email", "name", "requestedAt", "expiresAt"]
    assert codecs.decode_review(shown) == review


def test_every_field_of_the_request_has_its_validation_rule():
    assert set(FIELD_RULES) == {field.name for field in codecs.request_fields()}
