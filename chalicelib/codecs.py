"""One codec per shape: the request, the stored user, the review.

The domain names each field once (chalicelib/domain/users.py: UserRequest, User;
domain/reviews.py: Review); these write them as JSON-ready values under camelCase names, and
read them back, for every place that carries them: the stream's records
(adapters/event_stream.py), the tables' items (adapters/*_table.py), the HTTP resources
(http/resources.py, http/validation.py) and the state machine's payloads. A request's fields
are found from its dataclass, so a new field needs no change here. An optional field that is
None is left out, never written as null, and one that is absent reads as None: whatever was
written before a field existed reads as it did.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.reviews import Review
from chalicelib.domain.users import User, UserRequest, UserStatus


class MalformedData(ValueError):
    """Values that are not the shape they claim to be."""


@dataclasses.dataclass(frozen=True)
class Field:
    attribute: str  # the dataclass's
    name: str  # the JSON's
    required: bool


def wire_name(attribute: str) -> str:
    """created_at -> createdAt."""
    head, *rest = attribute.split("_")
    return head + "".join(part.capitalize() for part in rest)


@functools.cache
def request_fields() -> tuple[Field, ...]:
    """The request's fields, in their dataclass's order. Each is text: a field of another type
    needs its conversion here first."""
    hints = typing.get_type_hints(UserRequest)
    found = []
    for field in dataclasses.fields(UserRequest):
        types = set(typing.get_args(hints[field.name]) or (hints[field.name],))
        if types - {str, type(None)}:
            raise TypeError(f"UserRequest.{field.name}: chalicelib/codecs.py reads text only")
        required = field.default is dataclasses.MISSING
        if not required and field.default is not None:
            raise TypeError(f"UserRequest.{field.name}: an optional field defaults to None")
        found.append(Field(field.name, wire_name(field.name), required))
    return tuple(found)


def encode_request(request: UserRequest) -> dict[str, Any]:
    """`{"email", "name", ...}`: every field set."""
    return {
        field.name: value
        for field in request_fields()
        if (value := getattr(request, field.attribute)) is not None
    }


def decode_request(values: Mapping[str, Any]) -> UserRequest:
    """The request in these values (other keys are ignored); MalformedData if a required field
    is missing or a field is not text."""
    given: dict[str, str] = {}
    for field in request_fields():
        value = values.get(field.name)
        if value is None:
            if field.required:
                raise MalformedData(f"the request has no {field.name}")
            continue
        if not isinstance(value, str):
            raise MalformedData(f"the request's {field.name} is not text")
        given[field.attribute] = value
    return UserRequest(**given)


def encode_user(user: User) -> dict[str, Any]:
    """The user as the API shows it and the tables keep it: `{"id", "email", "name", ...,
    "status", "createdAt"}`."""
    return {
        "id": user.id,
        **encode_request(user.request),
        "status": user.status.value,
        "createdAt": user.created_at,
    }


def decode_user(values: Mapping[str, Any], operation_id: str) -> User:
    try:
        return User(
            id=str(values["id"]),
            request=decode_request(values),
            status=UserStatus(values["status"]),
            created_at=str(values["createdAt"]),
            operation_id=operation_id,
        )
    except (KeyError, ValueError) as error:
        raise MalformedData(f"not a user: {error}") from error


def encode_review(review: Review) -> dict[str, Any]:
    """A review as reviewers see it: `{"operationId", "userId", "email", "name", ...,
    "requestedAt", "expiresAt"}`."""
    return {
        "operationId": review.operation_id,
        "userId": review.user_id,
        **encode_request(review.request),
        "requestedAt": review.requested_at,
        "expiresAt": review.expires_at,
    }


def decode_review(values: Mapping[str, Any]) -> Review:
    """A review as requested (PENDING); its table adds what became of it."""
    try:
        return Review(
            operation_id=str(values["operationId"]),
            user_id=str(values["userId"]),
            request=decode_request(values),
            requested_at=str(values["requestedAt"]),
            expires_at=str(values["expiresAt"]),
        )
    except KeyError as error:
        raise MalformedData(f"not a review: no {error}") from error
