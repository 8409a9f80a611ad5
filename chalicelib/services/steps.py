"""The workflow's steps. Each is safe to retry: Step Functions retries on transient errors.

Each returns {"ok": true, ...}, or {"ok": false, "error": {...}} for a business outcome
(duplicate email, rejection) that the state machine records; an exception means the step
itself broke.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from chalicelib.domain.errors import EmailAlreadyRegistered, ErrorCode, UserCreationIncomplete
from chalicelib.domain.operations import OperationError, utc_now
from chalicelib.domain.users import User, UserStatus, approve, user_id_for_operation
from chalicelib.services.ports import UserRepository

logger = logging.getLogger(__name__)


def _outcome_error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": OperationError(code, message).to_dict()}


def create_user(operation_id: str, email: str, name: str, users: UserRepository) -> dict[str, Any]:
    user = User(
        id=user_id_for_operation(operation_id),
        email=email,
        name=name,
        status=UserStatus.PENDING_APPROVAL,
        created_at=utc_now(),
        operation_id=operation_id,
    )
    try:
        stored = users.add(user)
    except EmailAlreadyRegistered:
        logger.info("email already registered", extra={"operation_id": operation_id})
        return _outcome_error(ErrorCode.EMAIL_ALREADY_REGISTERED, "the email is already registered")
    logger.info("user created", extra={"operation_id": operation_id, "user_id": stored.id})
    return {"ok": True, "userId": stored.id}


def approve_user(
    user_id: str, denied_domains: Iterable[str], users: UserRepository
) -> dict[str, Any]:
    user = _existing_user(user_id, users)
    decision = approve(user.email, denied_domains)
    if decision.approved:
        users.activate(user_id)
        logger.info("user approved", extra={"user_id": user_id})
        return {"ok": True}
    users.reject(user_id)
    logger.info("user rejected", extra={"user_id": user_id})
    return _outcome_error(ErrorCode.USER_REJECTED, f"the user was rejected: {decision.reason}")


def build_response(user_id: str, users: UserRepository) -> dict[str, Any]:
    """Check that creation completed and build the operation's result."""
    user = _existing_user(user_id, users)
    if user.status is not UserStatus.ACTIVE:
        raise UserCreationIncomplete(f"user {user_id} is {user.status.value}, not ACTIVE")
    return {"ok": True, "result": {"user": user.to_resource()}}


def _existing_user(user_id: str, users: UserRepository) -> User:
    user = users.get(user_id)
    if user is None:
        raise UserCreationIncomplete(f"user {user_id} does not exist")
    return user
