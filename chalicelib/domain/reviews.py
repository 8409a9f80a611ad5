"""Human review: a person decides the sign-ups the approval rules leave open.

The workflow waits for the decision in a callback task; the review, kept server-side with the
token that resumes the task, is the one record of what was decided. A decision is taken once
(PENDING → DECIDED), a review nobody decided in time expires (PENDING → EXPIRED), and whichever
of the two reaches the review first is the outcome.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timedelta

from chalicelib.domain.operations import to_iso
from chalicelib.domain.users import UserRequest

# The group a reviewer is in, where reviewers sign in (REVIEW_AUTH=cognito): the stack's user
# pool has it, `make reviewer` adds to it, and the API refuses a signed-in user outside it.
REVIEWERS_GROUP = "reviewers"


class ReviewStatus(enum.StrEnum):
    PENDING = "PENDING"
    DECIDED = "DECIDED"
    EXPIRED = "EXPIRED"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclasses.dataclass(frozen=True)
class ReviewDecision:
    decision: Decision
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Review:
    operation_id: str
    user_id: str
    request: UserRequest  # what the reviewer decides on: the user as the client asked
    requested_at: str  # ISO 8601 UTC (domain.operations.to_iso), so they compare as strings
    expires_at: str
    status: ReviewStatus = ReviewStatus.PENDING
    decision: ReviewDecision | None = None
    decided_at: str | None = None
    # Who decided: the reviewer's user name as the stage's authorizer verified it (never a
    # token); None where the stage's reviewers' routes take anyone (REVIEW_AUTH=none).
    decided_by: str | None = None

    def expired(self, now: str) -> bool:
        return self.expires_at <= now

    def seconds_left(self, now: datetime) -> float:
        return (datetime.fromisoformat(self.expires_at) - now).total_seconds()


def new_review(
    operation_id: str, user_id: str, request: UserRequest, now: datetime, timeout_seconds: int
) -> Review:
    return Review(
        operation_id=operation_id,
        user_id=user_id,
        request=request,
        requested_at=to_iso(now),
        expires_at=to_iso(now + timedelta(seconds=timeout_seconds)),
    )


@dataclasses.dataclass(frozen=True)
class ReviewNotification:
    """What the reviewers are told when a review is requested: which operation, until when,
    and where to decide it. Never the reviewed user's email or name, never the token."""

    subject: str
    text: str


def review_notification(review: Review, page_url: str) -> ReviewNotification:
    return ReviewNotification(
        subject="A sign-up waits for a reviewer",
        text=(
            "A sign-up waits for a reviewer's decision.\n\n"
            f"Operation:      {review.operation_id}\n"
            f"Decide before:  {review.expires_at}\n"
            f"Reviewer page:  {page_url}\n\n"
            "Sign in on the page to approve or reject it; undecided, it fails when it expires.\n"
        ),
    )


@dataclasses.dataclass(frozen=True)
class ReviewPosition:
    """Where a page of pending reviews (oldest first) ended: the next page starts after it."""

    requested_at: str
    operation_id: str


@dataclasses.dataclass(frozen=True)
class ReviewPage:
    reviews: list[Review]
    next: ReviewPosition | None


@dataclasses.dataclass(frozen=True)
class TaskToken:
    """What resumes a workflow waiting for a review. It stays server-side: never in an answer or
    a log line, so it prints as a placeholder."""

    value: str = dataclasses.field(repr=False)

    def __str__(self) -> str:
        return "<task token>"
