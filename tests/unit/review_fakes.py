"""In-memory fakes of the human-review ports; tests/integration/test_reviews_table.py holds
FakeReviews to the same contract as the DynamoDB adapter."""

from __future__ import annotations

import dataclasses

from chalicelib.domain.errors import (
    ReviewAlreadyDecided,
    ReviewClosed,
    ReviewInconsistent,
    ReviewNotFound,
    TransientError,
)
from chalicelib.domain.reviews import (
    Review,
    ReviewDecision,
    ReviewPage,
    ReviewPosition,
    ReviewStatus,
    TaskToken,
)


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
    """Records what it resumed; `over` marks tokens whose wait ended, `fail` breaks it."""

    def __init__(self, fail: bool = False) -> None:
        self.resumed: list[tuple[TaskToken, ReviewDecision]] = []
        self.over: set[str] = set()
        self.fail = fail

    def resume(self, token: TaskToken, decision: ReviewDecision) -> bool:
        if self.fail:
            raise TransientError("ThrottlingException")
        if token.value in self.over:
            return False
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
