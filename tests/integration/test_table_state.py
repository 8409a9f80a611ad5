"""local/persistence.py: the local stack's tables saved, journalled, killed and loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local.persistence import TableState

TABLES = ["things", "pairs"]  # one with a hash key only, one with a range key too


def _session() -> boto3.Session:
    return boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _create_tables(session: boto3.Session) -> None:
    dynamodb = session.client("dynamodb")
    for name in TABLES:
        keys = [("pk", "HASH")] + ([("sk", "RANGE")] if name == "pairs" else [])
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in keys],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
            BillingMode="PAY_PER_REQUEST",
        )


def _contents(session: boto3.Session) -> dict[str, list[dict]]:
    dynamodb = session.client("dynamodb")
    return {name: sorted(dynamodb.scan(TableName=name)["Items"], key=repr) for name in TABLES}


@pytest.fixture
def fresh_emulator() -> Iterator[boto3.Session]:
    with mock_aws():
        session = _session()
        _create_tables(session)
        yield session


def _write_a_history(session: boto3.Session, state: TableState) -> None:
    dynamodb = session.client("dynamodb")
    for n in range(30):  # more than one batch to load back
        dynamodb.put_item(TableName="things", Item={"pk": {"S": f"t{n}"}, "n": {"N": str(n)}})
    dynamodb.update_item(
        TableName="things",
        Key={"pk": {"S": "t1"}},
        UpdateExpression="SET colour = :c",
        ExpressionAttributeValues={":c": {"S": "red"}},
    )
    state.save()  # a new journal starts here
    dynamodb.delete_item(TableName="things", Key={"pk": {"S": "t2"}})
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "pairs", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}}}},
            {"Put": {"TableName": "pairs", "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
            {
                "Update": {
                    "TableName": "things",
                    "Key": {"pk": {"S": "t3"}},
                    "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "300"}},
                }
            },
            {"Delete": {"TableName": "things", "Key": {"pk": {"S": "t4"}}}},
            {
                "ConditionCheck": {
                    "TableName": "things",
                    "Key": {"pk": {"S": "t5"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(  # undone: its put must not come back
            TransactItems=[
                {"Put": {"TableName": "things", "Item": {"pk": {"S": "t7"}}}},
                {
                    "Put": {
                        "TableName": "things",
                        "Item": {"pk": {"S": "t0"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(
            TableName="things",
            Item={"pk": {"S": "t6"}, "n": {"N": "-1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )


def test_a_killed_stack_loads_every_write_it_acknowledged(tmp_path: Path):
    path = tmp_path / "state.json"
    with mock_aws():
        session = _session()
        _create_tables(session)
        state = TableState(path, TABLES, session)
        assert state.restore() is None
        state.save()
        with state.journalling():
            _write_a_history(session, state)
            written = _contents(session)
        # Killed: no save at the end, and the journal's last line torn mid-write.
    (journal,) = tmp_path.glob("state.json.journal.*")
    with journal.open("a") as file:
        file.write('{"table": "things", "key": {"pk": {"S"')

    with mock_aws():
        session = _session()
        _create_tables(session)
        loaded = TableState(path, TABLES, session).restore()
        assert _contents(session) == written
    assert loaded is not None
    assert loaded["items"] == {"things": 28, "pairs": 2}
    assert loaded["journalled"] == 5  # one delete, four items of the transaction


def test_a_clean_stop_leaves_one_snapshot_and_an_empty_journal(tmp_path: Path, fresh_emulator):
    path = tmp_path / "state.json"
    state = TableState(path, TABLES, fresh_emulator)
    state.save()
    with state.journalling():
        _write_a_history(fresh_emulator, state)
        state.save()
    journals = list(tmp_path.glob("state.json.journal.*"))
    assert len(journals) == 1 and journals[0].read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["state.json", journals[0].name])
