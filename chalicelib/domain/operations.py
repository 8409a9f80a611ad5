"""The operation: what a client polls while the asynchronous work runs."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import UTC, datetime

from chalicelib import clock
from chalicelib.domain.users import User, UserRequest

OPERATION_TYPE_USER_CREATE = "user.create"


class OperationStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def done(self) -> bool:
        return self not in NOT_DONE


# The statuses of an operation still under way: what may still be changed (the tables write
# an outcome only over one of these).
NOT_DONE = frozenset({OperationStatus.PENDING, OperationStatus.RUNNING})


class OperationStep(enum.StrEnum):
    """Where a RUNNING operation waits, when it waits for something a client may want to know."""

    AWAITING_REVIEW = "AWAITING_REVIEW"


@dataclasses.dataclass(frozen=True)
class OperationError:
    """Why an operation failed: a code of the catalogue (domain.errors.ErrorCode) and a
    message for people."""

    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class Operation:
    id: str
    type: str
    status: OperationStatus
    request: UserRequest
    created_at: str
    updated_at: str
    # Once SUCCEEDED: the user it created, as it was then.
    result: User | None = None
    # Once FAILED: why.
    error: OperationError | None = None
    # While RUNNING: what it waits for, if anything (a person's review).
    step: OperationStep | None = None

    @property
    def done(self) -> bool:
        return self.status.done


def new_operation(request: UserRequest, now: str | None = None) -> Operation:
    timestamp = now or utc_now()
    return Operation(
        id=str(uuid.uuid4()),
        type=OPERATION_TYPE_USER_CREATE,
        status=OperationStatus.PENDING,
        request=request,
        created_at=timestamp,
        updated_at=timestamp,
    )


def to_iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z suffix, sortable as a string."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return to_iso(clock.now())


def normalize_timestamp(value: str) -> str:
    """Any ISO 8601 UTC timestamp (Step Functions' own vary in precision) in our format."""
    return to_iso(datetime.fromisoformat(value))


def is_valid_id(value: str) -> bool:
    """Ids are canonical lower-case UUIDs; anything else cannot name a stored record."""
    if len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
