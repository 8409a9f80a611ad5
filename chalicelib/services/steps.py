"""The workflow's steps. Each is safe to retry: Step Functions retries on transient errors.

A business refusal (a registered email, a rejected one) is an outcome, not an error: the step
that decides it returns it, the steps after it pass it through, and the last records it. An
exception means the step itself broke; the state machine records that.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable
from typing import TypeAlias

from chalicelib import clock
from chalicelib.domain.errors import (
    EmailAlreadyRegistered,
    ErrorCode,
    NotificationFailed,
    ReviewInconsistent,
    UserCreationIncomplete,
)
from chalicelib.domain.operations import OperationError, OperationStep, to_iso, utc_now
from chalicelib.domain.reviews import Decision, Review, ReviewStatus, TaskToken, new_review
from chalicelib.domain.users import (
    User,
    UserRequest,
    UserStatus,
    Verdict,
    approve,
    user_id_for_operation,
)
from chalicelib.services.ports import (
    UNMEASURED,
    Metrics,
    OperationRepository,
    ReviewNotifications,
    ReviewRepository,
    UserRepository,
)

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Continue:
    """The step went through: the workflow goes on with this user."""

    user_id: str


# What a step hands to the next: go on with the user, or the refusal that ends the operation.
Outcome: TypeAlias = Continue | OperationError


@dataclasses.dataclass(frozen=True)
class AwaitReview:
    """user-approve's rules leave the user to a person: the workflow waits for a reviewer's
    decision, at most timeout_seconds, then comes back to user-approve with ReviewEnded."""

    user_id: str
    timeout_seconds: int


@dataclasses.dataclass(frozen=True)
class ReviewEnded:
    """The workflow's wait for a reviewer ended: woken by a decision, or not (it timed out, or
    the review was closed before the workflow asked for it)."""

    user_id: str
    timed_out: bool


@dataclasses.dataclass(frozen=True)
class ReviewPolicy:
    email_domains: tuple[str, ...]
    timeout_seconds: int


@dataclasses.dataclass(frozen=True)
class ReviewRequested:
    """What the review-request step receives: who is reviewed, for how long at most."""

    operation_id: str
    user_id: str
    request: UserRequest
    timeout_seconds: int


def create_user(operation_id: str, request: UserRequest, users: UserRepository) -> Outcome:
    user = User(
        id=user_id_for_operation(operation_id),
        request=request,
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


def approve_user(
    outcome: Outcome | ReviewEnded,
    denied_domains: Iterable[str],
    users: UserRepository,
    review: ReviewPolicy | None = None,
    reviews: ReviewRepository | None = None,
    *,
    metrics: Metrics = UNMEASURED,
) -> Outcome | AwaitReview:
    """Decide by the rules, or send the user to a person (with a review policy) and, once the
    wait for the person ends, conclude from the review what was decided."""
    if isinstance(outcome, OperationError):
        return outcome  # refused before: nothing to approve
    user = _existing_user(outcome.user_id, users)
    if isinstance(outcome, ReviewEnded):
        return _conclude_review(user, outcome.timed_out, users, _reviews(reviews), metrics)
    review_domains = review.email_domains if review is not None else ()
    decision = approve(user.request.email, denied_domains, review_domains)
    if decision.verdict is Verdict.APPROVE:
        users.activate(user.id)
        logger.info("user approved", extra={"user_id": user.id})
        return outcome
    if decision.verdict is Verdict.REJECT:
        users.reject(user.id)
        logger.info("user rejected", extra={"user_id": user.id})
        return OperationError(ErrorCode.USER_REJECTED, f"the user was rejected: {decision.reason}")
    if review is None:  # only a review policy's domains yield REVIEW
        raise RuntimeError("a review verdict without a review policy")
    return _await_review(user, review, users, _reviews(reviews), metrics)


def _reviews(reviews: ReviewRepository | None) -> ReviewRepository:
    if reviews is None:
        raise RuntimeError("a review policy needs a review repository")
    return reviews


def _await_review(
    user: User,
    policy: ReviewPolicy,
    users: UserRepository,
    reviews: ReviewRepository,
    metrics: Metrics,
) -> Outcome | AwaitReview:
    """Wait for a person; when the workflow runs again (after a restart), the review it asked
    for before keeps its deadline, and one that was decided or expired meanwhile concludes."""
    existing = reviews.get(user.operation_id)
    if existing is None:
        logger.info("user sent to review", extra={"user_id": user.id})
        return AwaitReview(user.id, policy.timeout_seconds)
    now = clock.now()
    if existing.status is ReviewStatus.PENDING and not existing.expired(to_iso(now)):
        left = max(1, math.ceil(existing.seconds_left(now)))
        logger.info("review still pending", extra={"user_id": user.id, "seconds_left": left})
        return AwaitReview(user.id, left)
    return _conclude_review(user, True, users, reviews, metrics)


def _conclude_review(
    user: User,
    timed_out: bool,
    users: UserRepository,
    reviews: ReviewRepository,
    metrics: Metrics,
) -> Outcome:
    """The review is the record: its decision stands, whichever way the wait ended; a review
    still PENDING when the wait timed out expires, unless a decision reaches it first."""
    review = reviews.get(user.operation_id)
    if review is None:
        raise ReviewInconsistent(f"the workflow waited for a review of {user.operation_id}")
    if review.status is ReviewStatus.PENDING:
        if not timed_out:
            raise ReviewInconsistent(f"woken, yet the review of {user.operation_id} is pending")
        review = reviews.expire(user.operation_id)
        if review.status is ReviewStatus.EXPIRED:
            metrics.review_timed_out()
    if review.status is ReviewStatus.DECIDED and review.decision is not None:
        if review.decision.decision is Decision.APPROVE:
            users.activate(user.id)
            logger.info("user approved by a reviewer", extra={"user_id": user.id})
            return Continue(user.id)
        users.reject(user.id)
        logger.info("user rejected by a reviewer", extra={"user_id": user.id})
        reason = f": {review.decision.reason}" if review.decision.reason else ""
        return OperationError(ErrorCode.USER_REJECTED, f"a reviewer rejected the user{reason}")
    users.reject(user.id)  # not active, and the email free to register again
    logger.info("review expired", extra={"user_id": user.id})
    return OperationError(
        ErrorCode.REVIEW_TIMED_OUT,
        f"no reviewer decided before the review expired at {review.expires_at}",
    )


def request_review(
    requested: ReviewRequested,
    token: TaskToken,
    reviews: ReviewRepository,
    operations: OperationRepository,
    notifications: ReviewNotifications,
    *,
    metrics: Metrics = UNMEASURED,
) -> Review:
    """Put the user before a person: the review (with the token that resumes the waiting
    workflow), the operation's step, and a word to the reviewers. Safe to repeat: a review
    already pending keeps its request and deadline and takes the new token, and the reviewers
    are told again (at least once, then). Raises ReviewClosed once it was decided or expired,
    so that the workflow concludes instead of waiting; TransientError when the reviewers could
    not be told for now, so that the task is retried."""
    candidate = new_review(
        requested.operation_id,
        requested.user_id,
        requested.request,
        clock.now(),
        requested.timeout_seconds,
    )
    stored = reviews.request(candidate, token)
    if stored == candidate:  # not asked again (a retry keeps the first request)
        metrics.review_requested()
    operations.mark_step(requested.operation_id, OperationStep.AWAITING_REVIEW)
    logger.info(
        "review requested",
        extra={"user_id": stored.user_id, "expires_at": stored.expires_at},
    )
    try:
        notifications.review_requested(stored)
    except NotificationFailed:
        # A broken notification (the topic gone, the publish denied) is no reason to stop
        # waiting: the review is on the reviewer page all the same. Logged as an error.
        logger.exception("review requested, but the reviewers could not be told")
    return stored


def record_outcome(
    operation_id: str,
    outcome: Outcome,
    users: UserRepository,
    operations: OperationRepository,
    *,
    metrics: Metrics = UNMEASURED,
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
    if recorded is None:
        logger.warning("operation was already done; its outcome stands")
        return False
    logger.info("operation done", extra={"outcome": _describe(outcome)})
    metrics.operation_done(recorded)
    return True


def _describe(outcome: Outcome) -> str:
    return "SUCCEEDED" if isinstance(outcome, Continue) else f"FAILED {outcome.code}"


def _existing_user(user_id: str, users: UserRepository) -> User:
    user = users.get(user_id)
    if user is None:
        raise UserCreationIncomplete(f"user {user_id} does not exist")
    return user
