"""The workflow's steps. Each is safe to retry: Step Functions retries on transient errors.

A business refusal (a registered email, a rejected one) is an outcome, not an error: the step
that decides it returns it, the steps after it pass it through, and the last records it. An
exception means the step itself broke; the state machine records that.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import TypeAlias

from chalicelib.domain.errors import EmailAlreadyRegistered, ErrorCode, UserCreationIncomplete
from chalicelib.domain.operations import OperationError, UserRequest, utc_now
from chalicelib.domain.users import User, UserStatus, approve, user_id_for_operation
from chalicelib.services.ports import OperationRepository, UserRepository

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Continue:
    """The step went through: the workflow goes on with this user."""

    user_id: str


# What a step hands to the next: go on with the user, or the refusal that ends the operation.
Outcome: TypeAlias = Continue | OperationError


def create_user(operation_id: str, request: UserRequest, users: UserRepository) -> Outcome:
    user = User(
        id=user_id_for_operation(operation_id),
        email=request.email,
        name=request.name,
        status=UserStatus.PENDING_APPROVAL,
        created_at=utc_now(),
        operation_id=operation_id,
    )
    try:
        stored = users.add(user)
    except EmailAlreadyRegistered:
        logger.info("email already registered")
        return OperationError(ErrorCode.EMAIL_ALREADY_REGISTERED, "the email is already registered")
    logger.info("user created", extra={"user_id": stored.id})
    return Continue(stored.id)


def approve_user(outcome: Outcome, denied_domains: Iterable[str], users: UserRepository) -> Outcome:
    if isinstance(outcome, OperationError):
        return outcome  # refused before: nothing to approve
    user = _existing_user(outcome.user_id, users)
    decision = approve(user.email, denied_domains)
    if decision.approved:
        users.activate(user.id)
        logger.info("user approved", extra={"user_id": user.id})
        return outcome
    users.reject(user.id)
    logger.info("user rejected", extra={"user_id": user.id})
    return OperationError(ErrorCode.USER_REJECTED, f"the user was rejected: {decision.reason}")


def record_outcome(
    operation_id: str,
    outcome: Outcome,
    users: UserRepository,
    operations: OperationRepository,
) -> bool:
    """End the operation: SUCCEEDED with its user, or FAILED with the refusal.

    Written only while the operation is not done; False when it already was (a retry of this
    step, or the sweeper came first), and then its outcome stands.
    """
    if isinstance(outcome, OperationError):
        recorded = operations.mark_failed(operation_id, outcome)
    else:
        user = _existing_user(outcome.user_id, users)
        if user.status is not UserStatus.ACTIVE:
            raise UserCreationIncomplete(f"user {user.id} is {user.status.value}, not ACTIVE")
        recorded = operations.mark_succeeded(operation_id, user)
    if recorded:
        logger.info("operation done", extra={"outcome": _describe(outcome)})
    else:
        logger.warning("operation was already done; its outcome stands")
    return recorded


def _describe(outcome: Outcome) -> str:
    return "SUCCEEDED" if isinstance(outcome, Continue) else f"FAILED {outcome.code}"


def _existing_user(user_id: str, users: UserRepository) -> User:
    user = users.get(user_id)
    if user is None:
        raise UserCreationIncomplete(f"user {user_id} does not exist")
    return user
