"""What only the reviews table does, against the emulator: the token kept out of the index and
dropped once used, the TTL attribute, racing decisions. The port's promises, which FakeReviews
keeps too, are in tests/contract/test_review_repository.py."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.adapters.reviews_table import ReviewsTable
from chalicelib.domain.errors import ReviewAlreadyDecided
from chalicelib.domain.operations import to_iso
from chalicelib.domain.reviews import Decision, Review, ReviewDecision, TaskToken
from tests.builders import a_review

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY = 86400
APPROVE = ReviewDecision(Decision.APPROVE)


def _review(n: int, at: datetime = START, timeout: int = DAY) -> Review:
    operation_id = f"00000000-0000-4000-8000-{n:012d}"
    return a_review(
        operation_id=operation_id,
        user_id=f"user-{n}",
        email=f"u{n}@review.example.org",
        requested_at=at,
        timeout_seconds=timeout,
    )


def _at(seconds: float) -> str:
    return to_iso(START + timedelta(seconds=seconds))


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
