"""local/patches/packed_items.py: a hash-key table's items kept packed, moto's behaviour intact.

What the stack keeps per operation is its tables' items (the soak, `make soak`); these tests
pin that they are kept packed (no moto Item alive between requests), and that every
attribute type, update, transaction rollback and index query behaves as before.
"""

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.patches import packed_items, registry
from local.patches.hooks import Hooks
from tests.conftest import emulated_aws
from tests.helpers import live

pytestmark = pytest.mark.integration

TABLE = "things"
EVERY_TYPE = {
    "pk": {"S": "thing#1"},
    "text": {"S": "héllo"},
    "number": {"N": "12.50"},
    "blob": {"B": b"\x00\xffbytes"},
    "flag": {"BOOL": False},
    "nothing": {"NULL": True},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "map": {"M": {"inner": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}]}}}}},
    "list": {"L": [{"BOOL": True}, {"L": []}, {"SS": ["z"]}]},
}


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    names = [
        "packed-items",
        "atomic-dynamodb",
        "atomic-dynamodb-answers",
        "transaction-backup",
        "weakly-tracked-models",  # else moto keeps every Item it ever made
    ]
    with emulated_aws(), registry.applied(Hooks(), names):
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "open", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "open",
                    "KeySchema": [{"AttributeName": "open", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def unpacked(monkeypatch) -> list[DynamoType]:
    """The keys of the items unpacked from now on, in order."""
    keys: list[DynamoType] = []
    unpack = packed_items.unpack

    def counted(key: DynamoType, packed: packed_items.Packed) -> Item:
        keys.append(key)
        return unpack(key, packed)

    monkeypatch.setattr(packed_items, "unpack", counted)
    return keys


def _table() -> Any:
    return dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE)


def test_every_attribute_type_comes_back_as_written(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item=EVERY_TYPE)

    got = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "thing#1"}})["Item"]

    assert got == EVERY_TYPE
    assert isinstance(_table().items, packed_items.PackedItems)


def test_pack_then_unpack_gives_an_equal_item():
    key = DynamoType({"S": "thing#1"})
    item = Item(key, None, EVERY_TYPE)

    again = packed_items.unpack(key, packed_items.pack(item))

    assert again == item
    assert again.to_json() == item.to_json()
    assert again.attrs["blob"].value == item.attrs["blob"].value


def test_between_requests_no_item_is_alive_and_updates_are_kept(young_heap, dynamodb):
    for number in range(5):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"thing#{number}"}, "n": {"N": "0"}})
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "thing#3"}},
        UpdateExpression="SET n = n + :one, tags = :tags REMOVE gone",
        ExpressionAttributeValues={":one": {"N": "1"}, ":tags": {"SS": ["new"]}},
    )
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "thing#3"}},
        UpdateExpression="ADD tags :more",
        ExpressionAttributeValues={":more": {"SS": ["more"]}},
    )

    assert live(Item) == [0]
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "thing#3"}})["Item"]
    assert item["n"] == {"N": "1"}
    assert sorted(item["tags"]["SS"]) == ["more", "new"]
    assert dynamodb.describe_table(TableName=TABLE)["Table"]["ItemCount"] == 5
    assert dynamodb.scan(TableName=TABLE)["Count"] == 5


def test_a_failed_transaction_leaves_the_items_as_they_were(young_heap, dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "kept"}, "n": {"N": "1"}})

    with pytest.raises(botocore.exceptions.ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "absent"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    assert dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "kept"}})["Item"]["n"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "new"}})
    assert isinstance(_table().items, packed_items.PackedItems)
    assert live(Item) == [0]


def test_an_index_query_unpacks_only_the_items_the_index_holds(dynamodb, unpacked):
    for number in range(20):
        extra = {"open": {"S": "yes"}} if number % 10 == 0 else {}
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"thing#{number}"}, **extra})

    found = dynamodb.query(
        TableName=TABLE,
        IndexName="open",
        KeyConditionExpression="#open = :yes",
        ExpressionAttributeNames={"#open": "open"},
        ExpressionAttributeValues={":yes": {"S": "yes"}},
    )["Items"]

    assert sorted(item["pk"]["S"] for item in found) == ["thing#0", "thing#10"]
    assert len(unpacked) == 2


def test_a_query_of_the_table_unpacks_only_the_keys_item(dynamodb, unpacked):
    for number in range(20):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"thing#{number}"}})

    found = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :key",
        ExpressionAttributeValues={":key": {"S": "thing#7"}},
    )["Items"]
    missing = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :key",
        ExpressionAttributeValues={":key": {"S": "absent"}},
    )["Items"]

    assert found == [{"pk": {"S": "thing#7"}}]
    assert missing == []
    assert unpacked == [DynamoType({"S": "thing#7"})]
