"""Test data: users, requests, events, reviews and emails, built with keyword arguments.

Each builder has a default for everything, so a test names only what it is about, and a
field added to the domain (docs/extending.md, "Add a field") changes no test that builds one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib import codecs
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import Operation, new_operation
from chalicelib.domain.reviews import Review, new_review
from chalicelib.domain.users import User, UserRequest, UserStatus, user_id_for_operation

# An instant a test's data may be stamped with (ISO 8601 UTC, as the domain writes them).
CREATED_AT = "2026-01-01T00:00:00.000Z"


def unique_email(domain: str = "example.org") -> str:
    """An address no other test uses (tables shared by a module's tests stay apart)."""
    return f"u-{uuid.uuid4().hex[:12]}@{domain}"


def a_request(*, email: str = "ada@example.org", name: str = "Ada", **fields: Any) -> UserRequest:
    """A client's request for a user; `fields`: any other field of UserRequest."""
    return UserRequest(email=email, name=name, **fields)


def a_request_body(**fields: Any) -> dict[str, Any]:
    """The JSON a client POSTs to /users for a_request(**fields)."""
    return codecs.encode_request(a_request(**fields))


def a_user(
    *,
    request: UserRequest | None = None,
    operation_id: str | None = None,
    status: UserStatus = UserStatus.PENDING_APPROVAL,
    created_at: str = CREATED_AT,
    **fields: Any,
) -> User:
    """A user as user-create makes it: its id derived from its operation's (a new one by
    default); `fields` build its request (a_request) when none is given."""
    operation_id = operation_id or str(uuid.uuid4())
    return User(
        id=user_id_for_operation(operation_id),
        request=request or a_request(**fields),
        status=status,
        created_at=created_at,
        operation_id=operation_id,
    )


def an_operation(
    *, request: UserRequest | None = None, now: str | None = None, **fields: Any
) -> Operation:
    """A new (PENDING) operation; `fields` build its request when none is given."""
    return new_operation(request or a_request(**fields), now=now)


def an_event(
    *,
    operation_id: str | None = None,
    request: UserRequest | None = None,
    published_at: str | None = None,
    trace_header: str | None = None,
    **fields: Any,
) -> OperationRequested:
    """The stream's event of an accepted operation (a new id by default)."""
    return OperationRequested(
        operation_id=operation_id or str(uuid.uuid4()),
        request=request or a_request(**fields),
        published_at=published_at,
        trace_header=trace_header,
    )


def a_review(
    *,
    operation_id: str | None = None,
    user_id: str | None = None,
    request: UserRequest | None = None,
    requested_at: datetime | None = None,
    timeout_seconds: int = 86400,
    **fields: Any,
) -> Review:
    """A review as the review-request step asks for it (PENDING), of a new operation by
    default; `fields` build its request when none is given."""
    operation_id = operation_id or str(uuid.uuid4())
    return new_review(
        operation_id,
        user_id or user_id_for_operation(operation_id),
        request or a_request(**({"email": "ada@review.example.org"} | fields)),
        requested_at or datetime.fromisoformat(CREATED_AT).astimezone(UTC),
        timeout_seconds,
    )
