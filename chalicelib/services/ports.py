"""The ports the services depend on; adapters implement them over AWS, fakes in tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import Operation, OperationError, OperationStatus, OperationStep
from chalicelib.domain.reviews import (
    Decision,
    Review,
    ReviewDecision,
    ReviewPage,
    ReviewPosition,
    TaskToken,
)
from chalicelib.domain.users import User


class OperationRepository(Protocol):
    def create(self, operation: Operation, idempotency_key: str | None) -> Operation:
        """Store a new operation, or return the one already stored under the key.

        Raises IdempotencyKeyReused when the key holds an operation for another request.
        """
        ...

    def get(self, operation_id: str) -> Operation | None:
        """The operation as stored, None when unknown."""
        ...

    def mark_running(self, operation_id: str) -> bool:
        """PENDING or RUNNING → RUNNING; False when the operation is done or unknown."""
        ...

    def mark_succeeded(self, operation_id: str, user: User) -> Operation | None:
        """Not done → SUCCEEDED with the user as its result; the operation as recorded, None
        when it was done already or is unknown."""
        ...

    def mark_failed(
        self, operation_id: str, error: OperationError, release_key: str | None = None
    ) -> Operation | None:
        """Not done → FAILED with the error; the operation as recorded, None when it was done
        already or is unknown.

        With release_key, the Idempotency-Key is freed too, but only if it names this
        operation and the operation was not done: a retry with that key then starts afresh.
        """
        ...

    def in_flight(self, status: OperationStatus, created_before: str) -> list[Operation]:
        """The operations in that status (PENDING or RUNNING: not done) created before the
        timestamp."""
        ...

    def mark_step(self, operation_id: str, step: OperationStep) -> bool:
        """Not done → the step it waits in (shown while it runs); False when done or unknown."""
        ...

    def take_unmeasured_failures(self, limit: int) -> Iterator[Operation]:
        """The operations the workflow failed itself (its failure-recording state, where no
        function runs) that nobody has measured yet, oldest first, at most `limit`; each taken
        once, as the caller asks for it: its mark is removed, only if still there, before it is
        given, so two callers never both get it."""
        ...


class UserRepository(Protocol):
    def add(self, user: User) -> User:
        """Store the user and claim its email (unique case-insensitively).

        Idempotent for the same operation: a retry returns what the first run stored, and
        claims nothing the first run's user no longer holds (a rejected user's email stays
        free). Raises EmailAlreadyRegistered when another operation holds the email.
        """
        ...

    def get(self, user_id: str) -> User | None: ...

    def activate(self, user_id: str) -> User:
        """PENDING_APPROVAL or ACTIVE → ACTIVE; UserCreationIncomplete for a rejected or
        missing user."""
        ...

    def reject(self, user_id: str) -> User:
        """Mark the user REJECTED (repeatable) and free its email claim, if the claim is still
        this user's; UserCreationIncomplete for a missing user."""
        ...


class EventPublisher(Protocol):
    def publish(self, event: OperationRequested) -> None:
        """Put the operation's event on the stream; raises PublishFailed."""
        ...


class Workflows(Protocol):
    def start(self, event: OperationRequested) -> None:
        """Start the operation's execution; a second start of the same one is a no-op."""
        ...

    def status(self, operation_id: str) -> str | None:
        """The execution's status (RUNNING, SUCCEEDED, ...), None when none exists."""
        ...


class ReviewRepository(Protocol):
    """Reviews by operation id, each with the token that resumes its waiting workflow."""

    def request(self, review: Review, token: TaskToken) -> Review:
        """Store the review PENDING with the token. If the operation's review is PENDING
        already (its workflow asks again: a retry, or a run after a restart), only the token
        changes and the stored review is returned. Raises ReviewClosed once it is decided or
        expired."""
        ...

    def get(self, operation_id: str) -> Review | None: ...

    def decide(
        self, operation_id: str, decision: ReviewDecision, now: str, decided_by: str | None
    ) -> tuple[Review, TaskToken]:
        """PENDING and not expired at `now` → DECIDED by `decided_by`, exactly once; the
        decided review and the token to resume its workflow with. Raises ReviewAlreadyDecided,
        or ReviewNotFound when there is no review or it expired."""
        ...

    def expire(self, operation_id: str) -> Review:
        """PENDING → EXPIRED. Returns the review as it then stands: EXPIRED, or DECIDED when a
        decision reached it first."""
        ...

    def pending(self, limit: int, after: ReviewPosition | None, now: str) -> ReviewPage:
        """Pending reviews not expired at `now`, oldest first, at most `limit`, after a position."""
        ...

    def count_pending(self, now: str) -> int:
        """How many reviews are pending and not expired at `now`."""
        ...


class TaskCallbacks(Protocol):
    def resume(self, token: TaskToken, decision: ReviewDecision) -> bool:
        """Wake the workflow waiting with this token; False when its wait is over already
        (timed out, or the execution is gone). Raises TransientError."""
        ...


class ReviewNotifications(Protocol):
    def review_requested(self, review: Review) -> None:
        """Tell the reviewers that the review waits (ReviewNotification: no user's email, no
        token). Raises TransientError (worth retrying) or NotificationFailed."""
        ...


class Metrics(Protocol):
    """What the service measures, for its operators (adapters.metrics writes it as CloudWatch
    embedded metric format). Nothing personal goes in: counts, times, an error code, a decision.
    Never raises: a metric that cannot be written is dropped."""

    def operation_accepted(self) -> None: ...

    def operation_done(self, operation: Operation) -> None:
        """The operation ended (as recorded: SUCCEEDED, or FAILED with its error's code),
        accepted at its created_at, done at its updated_at."""
        ...

    def review_requested(self) -> None: ...

    def review_decided(self, decision: Decision) -> None: ...

    def review_timed_out(self) -> None: ...

    def reviews_waiting(self, count: int) -> None:
        """How many reviews wait for a reviewer now."""
        ...

    def records_arrived(self, arrivals: Sequence[datetime]) -> None:
        """The starter took records that arrived on the stream at these times."""
        ...


class Unmeasured:
    """Metrics that measure nothing: where nobody reads them (a stage without a metrics
    namespace, a recovery at the local stack's start, unit tests of other things)."""

    def operation_accepted(self) -> None:
        pass

    def operation_done(self, operation: Operation) -> None:
        pass

    def review_requested(self) -> None:
        pass

    def review_decided(self, decision: Decision) -> None:
        pass

    def review_timed_out(self) -> None:
        pass

    def reviews_waiting(self, count: int) -> None:
        pass

    def records_arrived(self, arrivals: Sequence[datetime]) -> None:
        pass


UNMEASURED = Unmeasured()
