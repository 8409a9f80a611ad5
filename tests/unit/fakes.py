"""In-memory fakes of the service ports (the domain's own seams, not of AWS)."""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.domain.errors import (
    EmailAlreadyRegistered,
    IdempotencyKeyReused,
    PublishFailed,
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
from chalicelib.domain.users import User, UserStatus, normalize_email


class FakeOperations:
    def __init__(self) -> None:
        self.items: dict[str, Operation] = {}
        self.keys: dict[str, str] = {}

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

    def _update(self, operation_id: str, **changes: Any) -> bool:
        current = self.items.get(operation_id)
        if current is None or current.done:
            return False
        self.items[operation_id] = dataclasses.replace(current, updated_at=utc_now(), **changes)
        return True

    def mark_running(self, operation_id: str) -> bool:
        return self._update(operation_id, status=OperationStatus.RUNNING)

    def mark_step(self, operation_id: str, step: OperationStep) -> bool:
        return self._update(operation_id, step=step)

    def mark_succeeded(self, operation_id: str, user: User) -> bool:
        return self._update(operation_id, status=OperationStatus.SUCCEEDED, result=user, step=None)

    def mark_failed(
        self, operation_id: str, error: OperationError, release_key: str | None = None
    ) -> bool:
        failed = self._update(operation_id, status=OperationStatus.FAILED, error=error, step=None)
        # The key goes only with the operation's failure, and only if it is this operation's.
        if failed and release_key is not None and self.keys.get(release_key) == operation_id:
            del self.keys[release_key]
        return failed

    def in_flight(self, status: OperationStatus, created_before: str) -> list[Operation]:
        return [
            o for o in self.items.values() if o.status is status and o.created_at < created_before
        ]


class FakeUsers:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.claims: dict[str, str] = {}  # normalized email -> operation id

    def add(self, user: User) -> User:
        email = normalize_email(user.email)
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
        email = normalize_email(user.email)
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
