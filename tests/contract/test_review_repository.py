"""The ReviewRepository port (chalicelib/services/ports.py): FakeReviews and ReviewsTable keep
the same promises. What only the table does (the token kept out of the index, the TTL
attribute, racing decisions) is in tests/integration/test_reviews_table.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import (
    ReviewAlreadyDecided,
    ReviewClosed,
    ReviewInconsistent,
    ReviewNotFound,
)
from chalicelib.domain.operations import to_iso
from chalicelib.domain.reviews import (
    Decision,
    Review,
    ReviewDecision,
    ReviewPosition,
    ReviewStatus,
    TaskToken,
)
from chalicelib.services.ports import ReviewRepository
from tests.builders import a_review

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY = 86400
APPROVE = ReviewDecision(Decision.APPROVE)


class Requests:
    """A test's reviews, the n-th for its own operation: each test has operation ids of its
    own, since the adapter's tests share one table."""

    def __init__(self) -> None:
        self._namespace = uuid.uuid4()

    def review(self, n: int, at: datetime = START, timeout: int = DAY) -> Review:
        return a_review(
            operation_id=str(uuid.uuid5(self._namespace, str(n))),
            user_id=f"user-{n}",
            email=f"u{n}@review.example.org",
            name="U",
            requested_at=at,
            timeout_seconds=timeout,
        )


@pytest.fixture
def requests() -> Requests:
    return Requests()


def _at(seconds: float) -> str:
    return to_iso(START + timedelta(seconds=seconds))


def test_a_review_is_requested_once_and_asked_again_with_a_new_token(
    reviews: ReviewRepository, requests: Requests
) -> None:
    first = requests.review(1)
    assert reviews.request(first, TaskToken("t1")) == first
    later = requests.review(1, START + timedelta(hours=2))
    assert reviews.request(later, TaskToken("t2")) == first  # its request and deadline stand
    assert reviews.get(first.operation_id) == first
    decided, token = reviews.decide(first.operation_id, APPROVE, _at(60), "grace")
    assert token == TaskToken("t2")
    assert decided.status is ReviewStatus.DECIDED and decided.decision == APPROVE
    assert (decided.decided_at, decided.decided_by) == (_at(60), "grace")
    assert reviews.get(first.operation_id) == decided
    with pytest.raises(ReviewClosed):
        reviews.request(first, TaskToken("t3"))


def test_an_unknown_review_is_none(reviews: ReviewRepository, requests: Requests) -> None:
    assert reviews.get(requests.review(9).operation_id) is None


def test_a_review_is_decided_once(reviews: ReviewRepository, requests: Requests) -> None:
    review = requests.review(1)
    reviews.request(review, TaskToken("t1"))
    rejected = ReviewDecision(Decision.REJECT, "a reason")
    assert reviews.decide(review.operation_id, rejected, _at(1), None)[0].decision == rejected
    with pytest.raises(ReviewAlreadyDecided):
        reviews.decide(review.operation_id, APPROVE, _at(2), None)
    stored = reviews.get(review.operation_id)
    assert stored is not None and stored.decision == rejected


def test_no_decision_for_an_unknown_or_expired_review(
    reviews: ReviewRepository, requests: Requests
) -> None:
    with pytest.raises(ReviewNotFound):
        reviews.decide(requests.review(9).operation_id, APPROVE, _at(0), None)
    review = requests.review(1, timeout=60)
    reviews.request(review, TaskToken("t1"))
    with pytest.raises(ReviewNotFound):
        reviews.decide(review.operation_id, APPROVE, _at(60), None)  # its time is up
    stored = reviews.get(review.operation_id)
    assert stored is not None and stored.status is ReviewStatus.PENDING  # until expired
    assert reviews.expire(review.operation_id).status is ReviewStatus.EXPIRED
    with pytest.raises(ReviewNotFound):
        reviews.decide(review.operation_id, APPROVE, _at(1), None)
    with pytest.raises(ReviewClosed):
        reviews.request(review, TaskToken("t2"))


def test_expiring_finds_a_decision_that_came_first(
    reviews: ReviewRepository, requests: Requests
) -> None:
    review = requests.review(1)
    reviews.request(review, TaskToken("t1"))
    reviews.decide(review.operation_id, APPROVE, _at(1), None)
    assert reviews.expire(review.operation_id).status is ReviewStatus.DECIDED
    assert reviews.expire(review.operation_id).decision == APPROVE  # again: the same
    with pytest.raises(ReviewInconsistent):
        reviews.expire(requests.review(9).operation_id)


def test_pending_reviews_page_oldest_first_without_the_closed_or_expired(
    reviews: ReviewRepository, requests: Requests
) -> None:
    for k in range(7):  # requested a second apart, stored out of order
        n = (k * 3) % 7
        reviews.request(requests.review(n, START + timedelta(seconds=n)), TaskToken(f"t{n}"))
    reviews.decide(requests.review(2).operation_id, APPROVE, _at(10), None)
    reviews.request(requests.review(7, START - timedelta(days=2)), TaskToken("old"))  # expired
    seen: list[Review] = []
    after: ReviewPosition | None = None
    pages = 0
    while True:
        page = reviews.pending(2, after, _at(20))
        assert len(page.reviews) <= 2
        seen += page.reviews
        pages += 1
        if page.next is None:
            break
        after = page.next
    # This test's reviews, in order (the adapter's table also holds other tests' reviews).
    ours = {requests.review(n).operation_id for n in range(8)}
    listed = [r.user_id for r in seen if r.operation_id in ours]
    assert listed == ["user-0", "user-1", "user-3", "user-4", "user-5", "user-6"]
    assert pages >= 3
    assert all(r.status is ReviewStatus.PENDING for r in seen)


def test_the_pending_reviews_are_counted_without_the_closed_or_expired(
    reviews: ReviewRepository, requests: Requests
) -> None:
    before = reviews.count_pending(_at(20))  # the adapter's table holds other tests' reviews
    for n in range(4):
        reviews.request(requests.review(n), TaskToken(f"t{n}"))
    reviews.decide(requests.review(0).operation_id, APPROVE, _at(10), None)
    reviews.expire(requests.review(1).operation_id)
    reviews.request(requests.review(5, START - timedelta(days=2)), TaskToken("old"))  # expired
    assert reviews.count_pending(_at(20)) == before + 2
