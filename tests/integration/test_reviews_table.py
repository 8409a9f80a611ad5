"""The reviews table against the emulator, and the unit tests' fake held to the same contract."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.adapters.reviews_table import ReviewsTable
from chalicelib.domain.errors import (
    ReviewAlreadyDecided,
    ReviewClosed,
    ReviewInconsistent,
    ReviewNotFound,
)
from chalicelib.domain.operations import UserRequest, to_iso
from chalicelib.domain.reviews import (
    Decision,
    ReviewDecision,
    ReviewStatus,
    TaskToken,
    new_review,
)
from tests.unit.review_fakes import FakeReviews

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY = 86400
APPROVE = ReviewDecision(Decision.APPROVE)


def _review(n: int, at: datetime = START, timeout: int = DAY):
    operation_id = f"00000000-0000-4000-8000-{n:012d}"
    return new_review(
        operation_id, f"user-{n}", UserRequest(f"u{n}@review.example.org", "U"), at, timeout
    )


def _at(seconds: float) -> str:
    return to_iso(START + timedelta(seconds=seconds))


@pytest.fixture(params=["dynamodb", "fake"])
def reviews(request):
    if request.param == "fake":
        return FakeReviews()
    request.getfixturevalue("stack")
    return ReviewsTable(os.environ["REVIEWS_TABLE"])


def test_a_review_is_requested_once_and_asked_again_with_a_new_token(reviews):
    first = _review(1)
    assert reviews.request(first, TaskToken("t1")) == first
    later = _review(1, START + timedelta(hours=2))
    assert reviews.request(later, TaskToken("t2")) == first  # its request and deadline stand
    assert reviews.get(first.operation_id) == first
    decided, token = reviews.decide(first.operation_id, APPROVE, _at(60), "grace")
    assert token == TaskToken("t2")
    assert decided.status is ReviewStatus.DECIDED and decided.decision == APPROVE
    assert (decided.decided_at, decided.decided_by) == (_at(60), "grace")
    assert reviews.get(first.operation_id) == decided
    with pytest.raises(ReviewClosed):
        reviews.request(first, TaskToken("t3"))


def test_a_review_is_decided_once(reviews):
    review = _review(1)
    reviews.request(review, TaskToken("t1"))
    rejected = ReviewDecision(Decision.REJECT, "a reason")
    assert reviews.decide(review.operation_id, rejected, _at(1), None)[0].decision == rejected
    with pytest.raises(ReviewAlreadyDecided):
        reviews.decide(review.operation_id, APPROVE, _at(2), None)
    assert reviews.get(review.operation_id).decision == rejected


def test_no_decision_for_an_unknown_or_expired_review(reviews):
    with pytest.raises(ReviewNotFound):
        reviews.decide(_review(9).operation_id, APPROVE, _at(0), None)
    review = _review(1, timeout=60)
    reviews.request(review, TaskToken("t1"))
    with pytest.raises(ReviewNotFound):
        reviews.decide(review.operation_id, APPROVE, _at(60), None)  # its time is up
    assert reviews.get(review.operation_id).status is ReviewStatus.PENDING  # until expired
    assert reviews.expire(review.operation_id).status is ReviewStatus.EXPIRED
    with pytest.raises(ReviewNotFound):
        reviews.decide(review.operation_id, APPROVE, _at(1), None)
    with pytest.raises(ReviewClosed):
        reviews.request(review, TaskToken("t2"))


def test_expiring_finds_a_decision_that_came_first(reviews):
    review = _review(1)
    reviews.request(review, TaskToken("t1"))
    reviews.decide(review.operation_id, APPROVE, _at(1), None)
    assert reviews.expire(review.operation_id).status is ReviewStatus.DECIDED
    assert reviews.expire(review.operation_id).decision == APPROVE  # again: the same
    with pytest.raises(ReviewInconsistent):
        reviews.expire(_review(9).operation_id)


def test_pending_reviews_page_oldest_first_without_the_closed_or_expired(reviews):
    for k in range(7):  # requested a second apart, stored out of order
        n = (k * 3) % 7
        reviews.request(_review(n, START + timedelta(seconds=n)), TaskToken(f"t{n}"))
    reviews.decide(_review(2).operation_id, APPROVE, _at(10), None)
    reviews.request(_review(7, START - timedelta(days=2)), TaskToken("old"))  # long expired
    seen, after, pages = [], None, 0
    while True:
        page = reviews.pending(2, after, _at(20))
        assert len(page.reviews) <= 2
        seen += page.reviews
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert [r.user_id for r in seen] == ["user-0", "user-1", "user-3", "user-4", "user-5", "user-6"]
    assert pages >= 3
    assert all(r.status is ReviewStatus.PENDING for r in seen)


def test_the_table_keeps_the_token_out_of_the_index_and_drops_it_when_used(stack):
    reviews = ReviewsTable(os.environ["REVIEWS_TABLE"])
    reviews.request(_review(1), TaskToken("secret"))
    reviews.request(_review(2), TaskToken("secret-2"))
    client = boto3.client("dynamodb")
    indexed = client.scan(TableName=os.environ["REVIEWS_TABLE"], IndexName="pending-reviews")
    assert indexed["Count"] == 2
    assert all("taskToken" not in item and "status" not in item for item in indexed["Items"])
    reviews.decide(_review(1).operation_id, APPROVE, _at(1), None)
    reviews.expire(_review(2).operation_id)
    items = client.scan(TableName=os.environ["REVIEWS_TABLE"])["Items"]
    assert all("taskToken" not in item and "pending" not in item for item in items)
    for item in items:  # the TTL attribute: 30 days after the review expired
        expires = datetime.fromisoformat(item["expiresAt"]["S"])
        assert int(item["purgeAt"]["N"]) == int(expires.timestamp()) + 30 * DAY


def test_concurrent_decisions_on_the_table_one_wins(stack):
    reviews = ReviewsTable(os.environ["REVIEWS_TABLE"])
    review = _review(1)
    reviews.request(review, TaskToken("t1"))
    start = threading.Barrier(10)
    results: list[str] = []

    def decide(n: int) -> None:
        start.wait()
        try:
            reviews.decide(
                review.operation_id, ReviewDecision(Decision.REJECT, f"r{n}"), _at(1), None
            )
            results.append("won")
        except ReviewAlreadyDecided:
            results.append("409")

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["409"] * 9 + ["won"]
