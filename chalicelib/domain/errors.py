"""Errors the domain names; their codes are part of the public contract."""

from __future__ import annotations

EMAIL_ALREADY_REGISTERED = "EMAIL_ALREADY_REGISTERED"
USER_REJECTED = "USER_REJECTED"
PUBLISH_FAILED = "PUBLISH_FAILED"
NOT_STARTED = "NOT_STARTED"
WORKFLOW_ENDED = "WORKFLOW_ENDED"


class DomainError(Exception):
    """Base for errors that carry a public code."""

    code = "DOMAIN_ERROR"


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key arrived with a different request body."""

    code = "IDEMPOTENCY_KEY_REUSED"


class OperationNotFound(DomainError):
    code = "OPERATION_NOT_FOUND"


class UserNotFound(DomainError):
    code = "USER_NOT_FOUND"


class PublishFailed(DomainError):
    """The operation could not be handed to the event stream; it was not accepted."""

    code = PUBLISH_FAILED


class TransientError(Exception):
    """An infrastructure failure worth retrying (throttling, timeouts, 5xx).

    Adapters raise it so that the state machine's Retry policy can match on its name.
    """


class UserCreationIncomplete(Exception):
    """user-create-response found the user missing or not active: a broken invariant."""


class EmailAlreadyRegistered(DomainError):
    code = EMAIL_ALREADY_REGISTERED
