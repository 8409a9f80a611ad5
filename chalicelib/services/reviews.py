"""Use cases of the reviewers' API: list the pending reviews, decide one; and count the
waiting ones (the sweeper, for the metrics)."""

from __future__ import annotations

import logging

from chalicelib.domain.errors import (
    ReviewAlreadyDecided,
    ReviewNotFound,
    TransientError,
    WorkflowNotResumed,
)
from chalicelib.domain.operations import utc_now
from chalicelib.domain.reviews import (
    Review,
    ReviewDecision,
    ReviewPage,
    ReviewPosition,
    ReviewStatus,
)
from chalicelib.services.ports import (
    UNMEASURED,
    Metrics,
    OperationRepository,
    ReviewRepository,
    TaskCallbacks,
)

logger = logging.getLogger(__name__)


def pending_reviews(
    limit: int, after: ReviewPosition | None, reviews: ReviewRepository
) -> ReviewPage:
    return reviews.pending(limit, after, utc_now())


def decide_review(
    operation_id: str,
    decision: ReviewDecision,
    reviews: ReviewRepository,
    operations: OperationRepository,
    callbacks: TaskCallbacks,
    *,
    decided_by: str | None,
    metrics: Metrics = UNMEASURED,
) -> Review:
    """Record the decision once, with who took it, then wake the waiting workflow.

    The conditional write (PENDING → DECIDED) is what makes the decision: of concurrent
    decisions exactly one gets through, and a decision and the review's expiry race for the
    same review, so one of them wins. The workflow reads the review when its wait ends, however
    it ended: a decision that got in stands even if the wait timed out before the wake-up came.
    """
    review = reviews.get(operation_id)
    if review is None:
        raise ReviewNotFound(operation_id)
    if review.status is ReviewStatus.DECIDED:
        raise ReviewAlreadyDecided(operation_id)  # also once its operation is over
    operation = operations.get(operation_id)
    if operation is None or operation.done:
        raise ReviewNotFound(operation_id)  # a review its workflow no longer waits for
    decided, token = reviews.decide(operation_id, decision, utc_now(), decided_by)
    metrics.review_decided(decision.decision)
    try:
        resumed = callbacks.resume(token, decision)
    except TransientError as error:
        logger.error("review decided; its workflow could not be resumed now", exc_info=error)
        raise WorkflowNotResumed(operation_id) from error
    outcome = {"decision": decision.decision.value, "decided_by": decided_by}
    if resumed:
        logger.info("review decided", extra=outcome)
    else:
        logger.warning(
            "review decided as its wait ended; the workflow concludes from the review",
            extra=outcome,
        )
    return decided


def count_waiting(reviews: ReviewRepository, metrics: Metrics) -> int | None:
    """How many reviews wait for a reviewer now, measured; None when the table could not be
    read this time (throttled: the next count will do, and the caller's work stands)."""
    try:
        waiting = reviews.count_pending(utc_now())
    except TransientError:
        logger.warning("the reviews waiting were not counted this time", exc_info=True)
        return None
    metrics.reviews_waiting(waiting)
    return waiting
