"""DynamoDB helpers shared by the table adapters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.adapters import aws

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
# Every table's key: one string attribute.
KEY = "pk"


@dataclasses.dataclass(frozen=True)
class Index:
    """A global secondary index an adapter queries: its name, its string keys, and the
    attributes it copies besides the keys (None: all of them; (): none)."""

    name: str
    partition_key: str
    sort_key: str
    projected: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class TableSchema:
    """What an adapter needs of its table beyond the key: the indexes it queries and the
    attribute DynamoDB's TTL deletes items by. Each adapter states its own; infra/definition.py
    declares the tables from them."""

    indexes: tuple[Index, ...] = ()
    time_to_live: str | None = None


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def cancellation_codes(error: Exception) -> list[str]:
    """The per-item reasons of a cancelled transaction, in request order."""
    response = getattr(error, "response", {})
    return [reason.get("Code", "None") for reason in response.get("CancellationReasons", [])]


def get_item(table: str, pk: str) -> dict[str, Any] | None:
    """The item with this key, read consistently, as plain Python values."""
    with aws.transient_errors():
        response = aws.client("dynamodb").get_item(
            TableName=table, Key={KEY: {"S": pk}}, ConsistentRead=True
        )
    item = response.get("Item")
    return None if item is None else from_item(item)
