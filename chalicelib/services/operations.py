"""Use cases behind the HTTP API: accept a request, read operations and users."""

from __future__ import annotations

import logging

from chalicelib.domain.errors import ErrorCode, OperationNotFound, PublishFailed, UserNotFound
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import Operation, OperationError, new_operation
from chalicelib.domain.users import User, UserRequest
from chalicelib.services.ports import (
    UNMEASURED,
    EventPublisher,
    Metrics,
    OperationRepository,
    UserRepository,
)

logger = logging.getLogger(__name__)


def accept_user_request(
    request: UserRequest,
    idempotency_key: str | None,
    operations: OperationRepository,
    events: EventPublisher,
    *,
    metrics: Metrics = UNMEASURED,
) -> Operation:
    """Record the operation, then hand it to the stream.

    A replay under the same Idempotency-Key returns the stored operation and publishes
    nothing: the first request's event, or the sweeper, starts its workflow.
    """
    candidate = new_operation(request)
    stored = operations.create(candidate, idempotency_key)
    if stored.id != candidate.id:
        logger.info("idempotent replay", extra={"operation_id": stored.id})
        return stored
    try:
        events.publish(OperationRequested.of(stored))
    except PublishFailed:
        # Not accepted: fail it (so nobody waits on it) and free the key for a retry. An event
        # that did land after all is ignored by the starter, which only starts unfinished ones.
        failed = operations.mark_failed(
            stored.id,
            OperationError(
                ErrorCode.PUBLISH_FAILED, "the operation could not be queued; retry the request"
            ),
            release_key=idempotency_key,
        )
        if failed is not None:
            metrics.operation_done(failed)
        raise
    logger.info("operation accepted", extra={"operation_id": stored.id})
    metrics.operation_accepted()
    return stored


def get_operation(operation_id: str, operations: OperationRepository) -> Operation:
    operation = operations.get(operation_id)
    if operation is None:
        raise OperationNotFound(operation_id)
    return operation


def get_user(user_id: str, users: UserRepository) -> User:
    user = users.get(user_id)
    if user is None:
        raise UserNotFound(user_id)
    return user
