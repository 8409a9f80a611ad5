"""The operations table: operations, their Idempotency-Keys, the in-flight index, and the
index of the failures the workflow recorded that no sweep has measured yet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import botocore.exceptions

from chalicelib import clock, codecs
from chalicelib.adapters import aws
from chalicelib.adapters.dynamodb import (
    Index,
    TableSchema,
    cancellation_codes,
    from_item,
    get_item,
    to_item,
)
from chalicelib.domain.errors import IdempotencyKeyReused, TransientError
from chalicelib.domain.operations import (
    NOT_DONE,
    Operation,
    OperationError,
    OperationStatus,
    OperationStep,
    normalize_timestamp,
    utc_now,
)
from chalicelib.domain.users import User

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import PutTypeDef, UpdateTypeDef

IN_FLIGHT_INDEX = "in-flight"
# The in-flight index is sharded so that a burst of new operations spreads over several
# index partitions instead of throttling one (a GSI partition takes ~1,000 writes/s).
IN_FLIGHT_SHARDS = 16
IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600
_IDEMPOTENCY_PREFIX = "idempotency#"
# The attribute DynamoDB's TTL deletes an idempotency key by (epoch seconds).
_EXPIRES_AT = "expiresAt"
# The failures the workflow's RecordFailure state wrote (statemachine/user_create.asl.json: no
# function runs there, so none measured them), marked with UNMEASURED until a sweep takes them.
UNMEASURED_INDEX = "unmeasured-failures"
UNMEASURED = "unmeasured"
# The index's one partition: a step broken after its retries is rare.
UNMEASURED_FAILURE = "FAILED"
# The table infra/definition.py declares: the sweeper's sparse in-flight index (operations not
# done, by shard and age; whole operations), its sparse index of unmeasured failures (oldest
# first; keys only: taking one returns the operation) and the keys' expiry.
SCHEMA = TableSchema(
    indexes=(
        Index(IN_FLIGHT_INDEX, "inFlight", "createdAt"),
        Index(UNMEASURED_INDEX, UNMEASURED, "updatedAt", projected=()),
    ),
    time_to_live=_EXPIRES_AT,
)
# An outcome is written only over an operation not done (domain.operations.NOT_DONE).
_NOT_DONE_VALUES = {f":{status.lower()}": {"S": status.value} for status in sorted(NOT_DONE)}
_NOT_DONE = f"#status IN ({', '.join(_NOT_DONE_VALUES)})"


def in_flight_key(operation_id: str, status: OperationStatus) -> str:
    return f"{status.value}#{int(operation_id[:4], 16) % IN_FLIGHT_SHARDS:02d}"


class OperationsTable:
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def create(self, operation: Operation, idempotency_key: str | None) -> Operation:
        put_operation: PutTypeDef = {
            "TableName": self._table,
            "Item": _operation_item(operation),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        with aws.transient_errors():
            if idempotency_key is None:
                aws.client("dynamodb").put_item(**put_operation)
                return operation
            try:
                aws.client("dynamodb").transact_write_items(
                    TransactItems=[
                        {"Put": self._idempotency_put(operation, idempotency_key)},
                        {"Put": put_operation},
                    ]
                )
                return operation
            except botocore.exceptions.ClientError as error:
                if cancellation_codes(error)[:1] != ["ConditionalCheckFailed"]:
                    raise
            return self._replay(operation, idempotency_key)

    def _idempotency_put(self, operation: Operation, key: str) -> PutTypeDef:
        now = int(clock.now().timestamp())
        return {
            "TableName": self._table,
            "Item": to_item(
                {
                    "pk": _IDEMPOTENCY_PREFIX + key,
                    "operationId": operation.id,
                    "fingerprint": operation.request.fingerprint(),
                    _EXPIRES_AT: now + IDEMPOTENCY_KEY_TTL_SECONDS,
                }
            ),
            # TTL deletes lazily: an expired key counts as free.
            "ConditionExpression": f"attribute_not_exists(pk) OR {_EXPIRES_AT} < :now",
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }

    def _replay(self, candidate: Operation, key: str) -> Operation:
        found = get_item(self._table, _IDEMPOTENCY_PREFIX + key)
        if found is None:
            raise TransientError("idempotency key vanished during the request; retry")
        if found["fingerprint"] != candidate.request.fingerprint():
            raise IdempotencyKeyReused(key)
        operation = self.get(found["operationId"])
        if operation is None:
            raise TransientError("operation of an idempotency key not found; retry")
        return operation

    def get(self, operation_id: str) -> Operation | None:
        item = get_item(self._table, operation_id)
        return None if item is None else _operation_from(item)

    def mark_running(self, operation_id: str) -> bool:
        return self._changed(
            operation_id,
            "SET #status = :new, inFlight = :inflight,"
            " startedAt = if_not_exists(startedAt, :now),"
            " updatedAt = if_not_exists(startedAt, :now)",
            {
                ":new": {"S": OperationStatus.RUNNING.value},
                ":inflight": {"S": in_flight_key(operation_id, OperationStatus.RUNNING)},
                ":now": {"S": utc_now()},
            },
        )

    def mark_failed(
        self, operation_id: str, error: OperationError, release_key: str | None = None
    ) -> Operation | None:
        update = self._failed_update(operation_id, error)
        if release_key is None:
            return self._update_if_not_done(**update)
        try:
            with aws.transient_errors():
                aws.client("dynamodb").transact_write_items(
                    TransactItems=[
                        {"Update": self._update_request(**update)},
                        {
                            "Delete": {
                                "TableName": self._table,
                                "Key": {"pk": {"S": _IDEMPOTENCY_PREFIX + release_key}},
                                "ConditionExpression": "operationId = :id",
                                "ExpressionAttributeValues": {":id": {"S": operation_id}},
                            }
                        },
                    ]
                )
        except botocore.exceptions.ClientError as failure:
            if "ConditionalCheckFailed" not in cancellation_codes(failure):
                raise
            # The key now names another operation, or this one is already done:
            # fail the operation on its own and leave the key alone.
            return self._update_if_not_done(**update)
        # A transaction returns no item: read back what it recorded (a publish failed: rare).
        return self.get(operation_id)

    def mark_step(self, operation_id: str, step: OperationStep) -> bool:
        return self._changed(
            operation_id,
            "SET step = :step, updatedAt = :now",
            {":step": {"S": step.value}, ":now": {"S": utc_now()}},
        )

    def mark_succeeded(self, operation_id: str, user: User) -> Operation | None:
        return self._update_if_not_done(
            operation_id,
            "SET #status = :new, #result = :result, updatedAt = :now REMOVE inFlight, step",
            {
                ":new": {"S": OperationStatus.SUCCEEDED.value},
                ":result": {"M": to_item(_result_value(user))},
                ":now": {"S": utc_now()},
            },
            {"#result": "result"},
        )

    def _failed_update(self, operation_id: str, error: OperationError) -> dict[str, Any]:
        return {
            "operation_id": operation_id,
            "expression": "SET #status = :new, #error = :error, updatedAt = :now"
            " REMOVE inFlight, step",
            "values": {
                ":new": {"S": OperationStatus.FAILED.value},
                ":error": {"M": to_item({"code": error.code, "message": error.message})},
                ":now": {"S": utc_now()},
            },
            "names": {"#error": "error"},
        }

    def _update_request(
        self,
        operation_id: str,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> UpdateTypeDef:
        return {
            "TableName": self._table,
            "Key": {"pk": {"S": operation_id}},
            "UpdateExpression": expression,
            "ConditionExpression": f"attribute_exists(pk) AND {_NOT_DONE}",
            "ExpressionAttributeNames": {"#status": "status", **(names or {})},
            "ExpressionAttributeValues": {**_NOT_DONE_VALUES, **values},
        }

    def _update_if_not_done(
        self,
        operation_id: str,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> Operation | None:
        """The operation as the update left it (returned by the write itself, at no extra
        read), None when it was done or unknown."""
        item = self._write_if(
            self._update_request(operation_id, expression, values, names), "ALL_NEW"
        )
        return None if item is None else _operation_from(from_item(item))

    def _changed(self, operation_id: str, expression: str, values: dict[str, Any]) -> bool:
        request = self._update_request(operation_id, expression, values)
        return self._write_if(request, "NONE") is not None

    def _write_if(
        self, request: UpdateTypeDef, returned: Literal["ALL_NEW", "NONE"]
    ) -> dict[str, Any] | None:
        """The update's returned attributes, None when its condition did not hold."""
        try:
            with aws.transient_errors():
                response = aws.client("dynamodb").update_item(**request, ReturnValues=returned)
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return dict(response.get("Attributes", {}))

    def in_flight(self, status: OperationStatus, created_before: str) -> list[Operation]:
        found: list[Operation] = []
        paginator = aws.client("dynamodb").get_paginator("query")
        for shard in range(IN_FLIGHT_SHARDS):
            with aws.transient_errors():
                pages = paginator.paginate(
                    TableName=self._table,
                    IndexName=IN_FLIGHT_INDEX,
                    KeyConditionExpression="inFlight = :shard AND createdAt < :before",
                    ExpressionAttributeValues={
                        ":shard": {"S": f"{status.value}#{shard:02d}"},
                        ":before": {"S": created_before},
                    },
                )
                found.extend(_operation_from(from_item(i)) for page in pages for i in page["Items"])
        return found

    def take_unmeasured_failures(self, limit: int) -> Iterator[Operation]:
        paginator = aws.client("dynamodb").get_paginator("query")
        with aws.transient_errors():
            pages = paginator.paginate(
                TableName=self._table,
                IndexName=UNMEASURED_INDEX,
                KeyConditionExpression=f"{UNMEASURED} = :failure",
                ExpressionAttributeValues={":failure": {"S": UNMEASURED_FAILURE}},
                PaginationConfig={"MaxItems": limit},
            )
            marked = [item["pk"]["S"] for page in pages for item in page["Items"]]
        for operation_id in marked:
            # Only if the mark is still there: another sweep may have taken it meanwhile.
            item = self._write_if(
                {
                    "TableName": self._table,
                    "Key": {"pk": {"S": operation_id}},
                    "UpdateExpression": f"REMOVE {UNMEASURED}",
                    "ConditionExpression": f"attribute_exists({UNMEASURED})",
                },
                "ALL_NEW",
            )
            if item is not None:
                yield _operation_from(from_item(item))


def _operation_item(operation: Operation) -> dict[str, Any]:
    return to_item(
        {
            "pk": operation.id,
            "type": operation.type,
            "status": operation.status.value,
            "request": codecs.encode_request(operation.request),
            "createdAt": operation.created_at,
            "updatedAt": operation.updated_at,
            "inFlight": in_flight_key(operation.id, operation.status),
        }
    )


def _result_value(user: User) -> dict[str, Any]:
    """The created user, as the operation keeps it: as it was when the operation ended."""
    return {"user": codecs.encode_user(user)}


def _result_from(operation_id: str, value: str | dict[str, Any] | None) -> User | None:
    if value is None:
        return None
    # Outcomes recorded by an earlier state machine are JSON strings (ASL cannot type a map).
    user = (json.loads(value) if isinstance(value, str) else value)["user"]
    return codecs.decode_user(user, operation_id)


def _operation_from(item: dict[str, Any]) -> Operation:
    error = item.get("error")
    return Operation(
        id=item["pk"],
        type=item["type"],
        status=OperationStatus(item["status"]),
        request=codecs.decode_request(item["request"]),
        created_at=item["createdAt"],
        updated_at=normalize_timestamp(item["updatedAt"]),
        result=_result_from(item["pk"], item.get("result")),
        error=OperationError(error["code"], error["message"]) if error else None,
        step=OperationStep(item["step"]) if "step" in item else None,
    )
