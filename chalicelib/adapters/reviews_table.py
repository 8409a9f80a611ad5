"""The reviews table: one review per operation, with the token that resumes its workflow.

The token is written by the review-request step and read only by a decision, which removes it
with the same write; the pending-reviews index (sparse: an item is in it while PENDING) does not
project it, so listing reviews never reads a token.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from chalicelib import codecs
from chalicelib.adapters import aws
from chalicelib.adapters.dynamodb import Index, TableSchema, from_item, get_item, to_item
from chalicelib.domain.errors import (
    ReviewAlreadyDecided,
    ReviewClosed,
    ReviewInconsistent,
    ReviewNotFound,
)
from chalicelib.domain.reviews import (
    Decision,
    Review,
    ReviewDecision,
    ReviewPage,
    ReviewPosition,
    ReviewStatus,
    TaskToken,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

PENDING_INDEX = "pending-reviews"
# What the pending-reviews index copies besides its keys (pending, requestedAt) and the table's
# (pk): what GET /reviews shows (codecs.encode_review), never the task token. A field of the
# request reviewers should see is added here. DynamoDB cannot change an index's projection in
# place (docs/extending.md, "Add a field"); a field left out is absent from the listing.
PENDING_PROJECTION = ("userId", "email", "name", "expiresAt")
# The index's one partition: reviews are made by people, a few per second at most.
_PENDING = "PENDING"
# A closed review is kept this long after it expired, then DynamoDB's TTL deletes it.
RETENTION_SECONDS = 30 * 24 * 3600
_PURGE_AT = "purgeAt"  # the table's TTL attribute (epoch seconds)
# The table infra/definition.py declares: the sparse index of pending reviews, oldest first,
# and the expiry of closed ones.
SCHEMA = TableSchema(
    indexes=(Index(PENDING_INDEX, "pending", "requestedAt", PENDING_PROJECTION),),
    time_to_live=_PURGE_AT,
)
_CONDITION_FAILED = "ConditionalCheckFailedException"


class ReviewsTable:
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def request(self, review: Review, token: TaskToken) -> Review:
        try:
            with aws.transient_errors():
                aws.client("dynamodb").put_item(
                    TableName=self._table,
                    Item=to_item({**_review_values(review), "taskToken": token.value}),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            return review
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) != _CONDITION_FAILED:
                raise
        # Asked again (a retried task, or the workflow run again after a restart): a pending
        # review takes the new token and keeps its request and deadline.
        try:
            with aws.transient_errors():
                response = aws.client("dynamodb").update_item(
                    TableName=self._table,
                    Key={"pk": {"S": review.operation_id}},
                    UpdateExpression="SET taskToken = :token",
                    ConditionExpression="#status = :pending",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":token": {"S": token.value},
                        ":pending": {"S": ReviewStatus.PENDING.value},
                    },
                    ReturnValues="ALL_NEW",
                )
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) == _CONDITION_FAILED:
                raise ReviewClosed(f"the review of {review.operation_id} is closed") from None
            raise
        return _review_from(from_item(response["Attributes"]))

    def get(self, operation_id: str) -> Review | None:
        item = get_item(self._table, operation_id)
        return None if item is None else _review_from(item)

    def decide(
        self, operation_id: str, decision: ReviewDecision, now: str, decided_by: str | None
    ) -> tuple[Review, TaskToken]:
        values: dict[str, Any] = {
            ":decided": {"S": ReviewStatus.DECIDED.value},
            ":pending": {"S": ReviewStatus.PENDING.value},
            ":decision": {"S": decision.decision.value},
            ":now": {"S": now},
        }
        update = "SET #status = :decided, decision = :decision, decidedAt = :now"
        if decision.reason is not None:
            update += ", reason = :reason"
            values[":reason"] = {"S": decision.reason}
        if decided_by is not None:
            update += ", decidedBy = :decidedBy"
            values[":decidedBy"] = {"S": decided_by}
        try:
            with aws.transient_errors():
                response = aws.client("dynamodb").update_item(
                    TableName=self._table,
                    Key={"pk": {"S": operation_id}},
                    # The token is used once, by this decision: it leaves the table with it.
                    UpdateExpression=update + " REMOVE pending, taskToken",
                    ConditionExpression="#status = :pending AND expiresAt > :now",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) != _CONDITION_FAILED:
                raise
            found = _item_of(error)
            if found is not None and found.get("status") == ReviewStatus.DECIDED.value:
                raise ReviewAlreadyDecided(operation_id) from None
            raise ReviewNotFound(operation_id) from None  # unknown, expired or expiring
        old = from_item(response["Attributes"])
        decided = dataclasses.replace(
            _review_from(old),
            status=ReviewStatus.DECIDED,
            decision=decision,
            decided_at=now,
            decided_by=decided_by,
        )
        return decided, TaskToken(old["taskToken"])

    def expire(self, operation_id: str) -> Review:
        try:
            with aws.transient_errors():
                response = aws.client("dynamodb").update_item(
                    TableName=self._table,
                    Key={"pk": {"S": operation_id}},
                    UpdateExpression="SET #status = :expired REMOVE pending, taskToken",
                    ConditionExpression="#status = :pending",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":expired": {"S": ReviewStatus.EXPIRED.value},
                        ":pending": {"S": ReviewStatus.PENDING.value},
                    },
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) != _CONDITION_FAILED:
                raise
            found = _item_of(error)
            if found is None:
                raise ReviewInconsistent(f"no review of {operation_id} to expire") from None
            return _review_from(found)  # decided first, or expired already
        return _review_from(from_item(response["Attributes"]))

    def pending(self, limit: int, after: ReviewPosition | None, now: str) -> ReviewPage:
        query: QueryInputTypeDef = {
            **self._pending_query(now),
            "ScanIndexForward": True,  # oldest first
            "Limit": limit,
        }
        if after is not None:
            query["ExclusiveStartKey"] = {
                "pk": {"S": after.operation_id},
                "pending": {"S": _PENDING},
                "requestedAt": {"S": after.requested_at},
            }
        with aws.transient_errors():
            response = aws.client("dynamodb").query(**query)
        reviews = [_review_from(from_item(item)) for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        position = (
            None
            if last is None
            else ReviewPosition(requested_at=last["requestedAt"]["S"], operation_id=last["pk"]["S"])
        )
        return ReviewPage(reviews, position)

    def count_pending(self, now: str) -> int:
        query: QueryInputTypeDef = {**self._pending_query(now), "Select": "COUNT"}
        counted = 0
        while True:
            with aws.transient_errors():
                response = aws.client("dynamodb").query(**query)
            counted += response["Count"]
            last = response.get("LastEvaluatedKey")
            if last is None:
                return counted
            query["ExclusiveStartKey"] = last

    def _pending_query(self, now: str) -> QueryInputTypeDef:
        return {
            "TableName": self._table,
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": "pending = :pending",
            # Expired, but its workflow has not concluded it yet: not pending any more.
            "FilterExpression": "expiresAt > :now",
            "ExpressionAttributeValues": {":pending": {"S": _PENDING}, ":now": {"S": now}},
        }


def _item_of(error: botocore.exceptions.ClientError) -> dict[str, Any] | None:
    """The item a failed condition saw (ReturnValuesOnConditionCheckFailure), if it exists."""
    item = error.response.get("Item")
    return from_item(item) if isinstance(item, dict) else None


def _review_values(review: Review) -> dict[str, Any]:
    expires = int(datetime.fromisoformat(review.expires_at).timestamp())
    values = codecs.encode_review(review)
    return {
        "pk": values.pop("operationId"),
        **values,
        "status": review.status.value,
        "pending": _PENDING if review.status is ReviewStatus.PENDING else None,
        _PURGE_AT: expires + RETENTION_SECONDS,
    }


def _review_from(item: dict[str, Any]) -> Review:
    decision = item.get("decision")
    return dataclasses.replace(
        codecs.decode_review({**item, "operationId": item["pk"]}),
        # The pending index projects no status: an item there is PENDING.
        status=ReviewStatus(item.get("status", ReviewStatus.PENDING.value)),
        decision=(
            None if decision is None else ReviewDecision(Decision(decision), item.get("reason"))
        ),
        decided_at=item.get("decidedAt"),
        decided_by=item.get("decidedBy"),
    )
