"""In-memory fakes of the service ports (the domain's own seams, not of AWS), for the unit
tests; the contract suites beside them (tests/contract/) hold each to its adapter's promises."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib.adapters import metrics as m
from chalicelib.domain.errors import (
    EmailAlreadyRegistered,
    IdempotencyKeyReused,
    PublishFailed,
    ReviewAlreadyDecided,
    ReviewClosed,
    ReviewInconsistent,
    ReviewNotFound,
    TransientError,
    UserCreationIncomplete,
)
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import (
    Operation,
    OperationError,
    OperationStatus,
    OperationStep,
    utc_now,
)
from chalicelib.domain.reviews import (
    Decision,
    Review,
    ReviewDecision,
    ReviewPage,
    ReviewPosition,
    ReviewStatus,
    TaskToken,
)
from chalicelib.domain.users import User, UserStatus, normalize_email


class FakeOperations:
    def __init__(self) -> None:
        self.items: dict[str, Operation] = {}
        self.keys: dict[str, str] = {}
        # Failed by the workflow, not taken yet, in the order it failed them.
        self.unmeasured: dict[str, None] = {}

    def create(self, operation: Operation, idempotency_key: str | None) -> Operation:
        if idempotency_key in self.keys:
            stored = self.items[self.keys[idempotency_key]]
            if stored.request.fingerprint() != operation.request.fingerprint():
                raise IdempotencyKeyReused(idempotency_key)
            return stored
        if idempotency_key is not None:
            self.keys[idempotency_key] = operation.id
        self.items[operation.id] = operation
        return operation

    def get(self, operation_id: str) -> Operation | None:
        return self.items.get(operation_id)

    def _update(self, operation_id: str, **changes: Any) -> Operation | None:
        current = self.items.get(operation_id)
        if current is None or current.done:
            return None
        updated = dataclasses.replace(current, updated_at=utc_now(), **changes)
        self.items[operation_id] = updated
        return updated

    def mark_running(self, operation_id: str) -> bool:
        return self._update(operation_id, status=OperationStatus.RUNNING) is not None

    def mark_step(self, operation_id: str, step: OperationStep) -> bool:
        return self._update(operation_id, step=step) is not None

    def mark_succeeded(self, operation_id: str, user: User) -> Operation | None:
        return self._update(operation_id, status=OperationStatus.SUCCEEDED, result=user, step=None)

    def mark_failed(
        self, operation_id: str, error: OperationError, release_key: str | None = None
    ) -> Operation | None:
        failed = self._update(operation_id, status=OperationStatus.FAILED, error=error, step=None)
        # The key goes only with the operation's failure, and only if it is this operation's.
        if failed and release_key is not None and self.keys.get(release_key) == operation_id:
            del self.keys[release_key]
        return failed

    def in_flight(self, status: OperationStatus, created_before: str) -> list[Operation]:
        return [
            o for o in self.items.values() if o.status is status and o.created_at < created_before
        ]

    def fail_as_the_workflow_does(self, operation_id: str, error: OperationError) -> None:
        """What the workflow's RecordFailure state does: FAILED with the error unless done,
        marked as not measured yet."""
        if self.mark_failed(operation_id, error):
            self.unmeasured[operation_id] = None

    def take_unmeasured_failures(self, limit: int) -> Iterator[Operation]:
        oldest = sorted((self.items[i] for i in self.unmeasured), key=lambda o: o.updated_at)
        for taken in oldest[:limit]:
            if taken.id in self.unmeasured:  # not taken by another caller meanwhile
                del self.unmeasured[taken.id]
                yield taken


class FakeUsers:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.claims: dict[str, str] = {}  # normalized email -> operation id

    def add(self, user: User) -> User:
        email = normalize_email(user.request.email)
        owner = self.claims.get(email)
        if owner is not None and owner != user.operation_id:
            raise EmailAlreadyRegistered()
        stored = self.users.get(user.id)
        if stored is not None:  # a retry: what the first run wrote stands, claim or not
            return stored
        self.claims[email] = user.operation_id
        self.users[user.id] = user
        return user

    def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def activate(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None or user.status not in (UserStatus.PENDING_APPROVAL, UserStatus.ACTIVE):
            raise UserCreationIncomplete(f"user {user_id} cannot be activated")
        user = self.users[user_id] = dataclasses.replace(user, status=UserStatus.ACTIVE)
        return user

    def reject(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise UserCreationIncomplete(f"user {user_id} does not exist")
        user = self.users[user_id] = dataclasses.replace(user, status=UserStatus.REJECTED)
        email = normalize_email(user.request.email)
        if self.claims.get(email) == user.operation_id:  # the claim may be another's by now
            del self.claims[email]
        return user


class FakeEvents:
    def __init__(self, fail: bool = False) -> None:
        self.published: list[OperationRequested] = []
        self.fail = fail

    def publish(self, event: OperationRequested) -> None:
        if self.fail:
            raise PublishFailed("stream unavailable")
        self.published.append(event)


class FakeWorkflows:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.statuses: dict[str, str] = {}

    def start(self, event: OperationRequested) -> None:
        if event.operation_id not in self.started:
            self.started.append(event.operation_id)
            self.statuses[event.operation_id] = "RUNNING"

    def status(self, operation_id: str) -> str | None:
        return self.statuses.get(operation_id)


class FakeReviews:
    def __init__(self) -> None:
        self.reviews: dict[str, Review] = {}
        self.tokens: dict[str, TaskToken] = {}

    def request(self, review: Review, token: TaskToken) -> Review:
        stored = self.reviews.setdefault(review.operation_id, review)
        if stored.status is not ReviewStatus.PENDING:
            raise ReviewClosed(review.operation_id)
        self.tokens[review.operation_id] = token
        return stored

    def get(self, operation_id: str) -> Review | None:
        return self.reviews.get(operation_id)

    def decide(
        self, operation_id: str, decision: ReviewDecision, now: str, decided_by: str | None
    ) -> tuple[Review, TaskToken]:
        review = self.reviews.get(operation_id)
        if review is not None and review.status is ReviewStatus.DECIDED:
            raise ReviewAlreadyDecided(operation_id)
        if review is None or review.status is not ReviewStatus.PENDING or review.expired(now):
            raise ReviewNotFound(operation_id)
        decided = self.reviews[operation_id] = dataclasses.replace(
            review,
            status=ReviewStatus.DECIDED,
            decision=decision,
            decided_at=now,
            decided_by=decided_by,
        )
        return decided, self.tokens.pop(operation_id)

    def expire(self, operation_id: str) -> Review:
        review = self.reviews.get(operation_id)
        if review is None:
            raise ReviewInconsistent(operation_id)
        if review.status is ReviewStatus.PENDING:
            review = self.reviews[operation_id] = dataclasses.replace(
                review, status=ReviewStatus.EXPIRED
            )
            self.tokens.pop(operation_id, None)
        return review

    def count_pending(self, now: str) -> int:
        return sum(
            r.status is ReviewStatus.PENDING and not r.expired(now) for r in self.reviews.values()
        )

    def pending(self, limit: int, after: ReviewPosition | None, now: str) -> ReviewPage:
        ordered = sorted(
            (r for r in self.reviews.values() if r.status is ReviewStatus.PENDING),
            key=lambda r: (r.requested_at, r.operation_id),
        )
        if after is not None:
            ordered = [
                r
                for r in ordered
                if (r.requested_at, r.operation_id) > (after.requested_at, after.operation_id)
            ]
        page = ordered[:limit]
        more = len(ordered) > limit
        listed = [r for r in page if not r.expired(now)]
        last = page[-1] if more else None
        return ReviewPage(
            listed, None if last is None else ReviewPosition(last.requested_at, last.operation_id)
        )


class FakeCallbacks:
    """Workflows waiting in a callback task, by token. `resume` wakes one once, with the
    decision (recorded in `resumed`); a token nobody waits with, or whose wait `end`ed (timed
    out, execution stopped), is not resumed; `fail` makes the service throttle."""

    def __init__(self, *waiting: str, fail: bool = False) -> None:
        self.waiting = set(waiting)
        self.resumed: list[tuple[TaskToken, ReviewDecision]] = []
        self.fail = fail

    def wait(self, token: str) -> TaskToken:
        self.waiting.add(token)
        return TaskToken(token)

    def end(self, token: TaskToken) -> None:
        self.waiting.discard(token.value)

    def resume(self, token: TaskToken, decision: ReviewDecision) -> bool:
        if self.fail:
            raise TransientError("ThrottlingException")
        if token.value not in self.waiting:
            return False
        self.waiting.remove(token.value)
        self.resumed.append((token, decision))
        return True


class FakeNotifications:
    """Records the reviews it told the reviewers about; `fail` raises that error instead."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.told: list[Review] = []
        self.fail = fail

    def review_requested(self, review: Review) -> None:
        if self.fail is not None:
            raise self.fail
        self.told.append(review)


# What a Metrics port measured: the metric's name, its dimensions beyond Stage, one value.
Measured = tuple[str, dict[str, str], float]


class FakeMetrics:
    """Records what the services measure as the EMF adapter writes it (a value per entry); a
    dimension value outside the catalogue is dropped, as the adapter drops it."""

    def __init__(self) -> None:
        self.measured: list[Measured] = []

    def total(self, name: str, **dimensions: str) -> float:
        return sum(v for n, d, v in self.measured if n == name and d == dimensions)

    def _add(self, metric: m.Metric, *values: float, **dimensions: str) -> bool:
        if not all(value in m.DIMENSION_VALUES[d] for d, value in dimensions.items()):
            return False
        self.measured += [(metric.name, dimensions, float(value)) for value in values]
        return True

    def operation_accepted(self) -> None:
        self._add(m.OPERATIONS_ACCEPTED, 1)

    def operation_done(self, operation: Operation) -> None:
        if operation.status is OperationStatus.SUCCEEDED:
            self._add(m.OPERATIONS_SUCCEEDED, 1)
        elif not self._add(m.OPERATIONS_FAILED, 1, ErrorCode=getattr(operation.error, "code", "")):
            return
        elapsed = m.elapsed_milliseconds(operation.created_at, operation.updated_at)
        self._add(m.OPERATION_DURATION, elapsed)

    def review_requested(self) -> None:
        self._add(m.REVIEWS_REQUESTED, 1)

    def review_decided(self, decision: Decision) -> None:
        self._add(m.REVIEWS_DECIDED, 1, Decision=decision.value)

    def review_timed_out(self) -> None:
        self._add(m.REVIEWS_TIMED_OUT, 1)

    def reviews_waiting(self, count: int) -> None:
        self._add(m.REVIEWS_WAITING, count)

    def records_arrived(self, arrivals: Sequence[datetime]) -> None:
        self._add(m.STARTER_LAG, *m.lags_milliseconds(arrivals))
