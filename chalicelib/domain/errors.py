"""Errors the domain names, and the catalogue of codes a failed operation carries."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Every code a FAILED operation can carry: part of the public contract.

    openapi.json (the operation's error enum), docs/clients.md's HTTP contract and the state machine
    (statemachine/*.asl.json) state them too; tests/unit/test_error_codes.py holds them equal.
    """

    # Business refusals, decided by the workflow's steps.
    EMAIL_ALREADY_REGISTERED = "EMAIL_ALREADY_REGISTERED"
    USER_REJECTED = "USER_REJECTED"
    REVIEW_TIMED_OUT = "REVIEW_TIMED_OUT"
    # A step broke after its retries; written by the state machine itself.
    USER_CREATE_FAILED = "USER_CREATE_FAILED"
    USER_APPROVE_FAILED = "USER_APPROVE_FAILED"
    USER_CREATE_RESPONSE_FAILED = "USER_CREATE_RESPONSE_FAILED"
    USER_REVIEW_FAILED = "USER_REVIEW_FAILED"
    # The workflow never ran to its end: the publish failed, or the sweeper gave up on it.
    PUBLISH_FAILED = "PUBLISH_FAILED"
    NOT_STARTED = "NOT_STARTED"
    WORKFLOW_ENDED = "WORKFLOW_ENDED"


# The codes the state machine writes itself (its failure-recording state), not the app.
RECORDED_BY_THE_STATE_MACHINE = frozenset(
    {
        ErrorCode.USER_CREATE_FAILED,
        ErrorCode.USER_APPROVE_FAILED,
        ErrorCode.USER_CREATE_RESPONSE_FAILED,
        ErrorCode.USER_REVIEW_FAILED,
    }
)


class DomainError(Exception):
    """Base for the errors the API answers with a specific problem."""


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key arrived with a different request body."""


class OperationNotFound(DomainError):
    pass


class UserNotFound(DomainError):
    pass


class PublishFailed(DomainError):
    """The operation could not be handed to the event stream; it was not accepted."""


class TransientError(Exception):
    """An infrastructure failure worth retrying (throttling, timeouts, 5xx).

    Adapters raise it so that the state machine's Retry policy can match on its name.
    """


class UserCreationIncomplete(Exception):
    """user-create-response found the user missing or not active: a broken invariant."""


class EmailAlreadyRegistered(DomainError):
    """Another operation holds the email."""


class ReviewNotFound(DomainError):
    """No review waits for this operation: unknown, expired, or its operation is over."""


class ReviewAlreadyDecided(DomainError):
    """A reviewer decided this review already; a decision is taken once."""


class WorkflowNotResumed(DomainError):
    """The decision is recorded, but its workflow could not be woken now (a transient failure):
    it applies the decision when its wait for the review ends."""


class NotificationFailed(Exception):
    """The reviewers could not be told of a review (not a transient failure): the review waits
    all the same, on the reviewer page."""


class ReviewClosed(Exception):
    """A review was asked for again after it was decided or expired. The state machine matches
    this name: the workflow goes on to conclude the review instead of waiting."""


class ReviewInconsistent(Exception):
    """A review is not in the state its workflow's position implies: a broken invariant."""
