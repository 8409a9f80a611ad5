"""local/state/persistence.py: the local stack's tables saved, journalled, killed and loaded."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import boto3
import pytest

from local.patches import registry
from local.patches.hooks import Hooks
from local.state.persistence import StateInUse, StateMismatch, TableState
from tests.conftest import emulated_aws

TABLES = ["things", "pairs"]  # one with a hash key only, one with a range key too


def _create_tables(session: boto3.Session) -> None:
    dynamodb = session.client("dynamodb")
    for name in TABLES:
        keys: list[tuple[str, Literal["HASH", "RANGE"]]] = [("pk", "HASH")]
        keys += [("sk", "RANGE")] if name == "pairs" else []
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in keys],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
            BillingMode="PAY_PER_REQUEST",
        )


def _contents(session: boto3.Session) -> dict[str, list[dict]]:
    dynamodb = session.client("dynamodb")
    return {name: sorted(dynamodb.scan(TableName=name)["Items"], key=repr) for name in TABLES}


@contextlib.contextmanager
def _emulator() -> Iterator[boto3.Session]:
    with emulated_aws() as session:
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


def _killed(state_dir: Path, into: Path) -> None:
    """The files as a killed process leaves them: copied while it is still writing."""
    into.mkdir()
    for path in state_dir.glob("state.json*"):
        if not path.name.endswith(".lock"):
            shutil.copy(path, into / path.name)


@contextlib.contextmanager
def _journalling(state: TableState) -> Iterator[None]:
    """Table writes journalled, as the local stack's patch does it."""
    with registry.applied(Hooks(journal=state), ["journal-table-writes"]):
        yield
    state.close_journal()


def _load(path: Path) -> tuple[dict | None, dict[str, list[dict]]]:
    with _emulator() as session:
        state = TableState(path, TABLES, session)
        loaded = state.restore()
        state.close()
        return loaded, _contents(session)


def test_a_killed_stack_loads_every_write_it_acknowledged(tmp_path: Path):
    with _emulator() as session:
        state = TableState(tmp_path / "state.json", TABLES, session)
        assert state.restore() is None
        with _journalling(state):
            state.save()
            _write_a_history(session, state)
            written = _contents(session)
            _killed(tmp_path, tmp_path / "killed")
        state.close()
    (journal,) = (tmp_path / "killed").glob("state.json.journal.*")
    with journal.open("a") as file:
        file.write('[{"table": "things", "key": {"pk": {"S"')  # torn by the kill

    loaded, contents = _load(tmp_path / "killed" / "state.json")
    assert contents == written
    assert loaded is not None
    assert loaded["items"] == {"things": 28, "pairs": 2}
    assert loaded["journalled"] == 2  # the delete, and the transaction as one write


def test_a_kill_between_the_journal_switch_and_the_snapshot_loses_nothing(
    tmp_path: Path, monkeypatch
):
    with _emulator() as session:
        state = TableState(tmp_path / "state.json", TABLES, session)
        with _journalling(state):
            state.save()
            _write_a_history(session, state)
            with monkeypatch.context() as patched:
                patched.setattr("local.state.persistence.os.replace", _die)
                with pytest.raises(SystemExit):
                    state.save()  # the new journal is open; the old snapshot still in place
            dynamodb = session.client("dynamodb")
            dynamodb.put_item(TableName="pairs", Item={"pk": {"S": "late"}, "sk": {"S": "1"}})
            written = _contents(session)
            _killed(tmp_path, tmp_path / "killed")
        state.close()
    assert len(list((tmp_path / "killed").glob("state.json.journal.*"))) == 2
    assert _load(tmp_path / "killed" / "state.json")[1] == written


def _die(*_: object) -> None:
    raise SystemExit("killed")


def test_a_clean_stop_leaves_one_snapshot_and_an_empty_journal(tmp_path: Path):
    path = tmp_path / "state.json"
    with _emulator() as session:
        state = TableState(path, TABLES, session)
        with _journalling(state):
            state.save()
            _write_a_history(session, state)
            state.save()
            written = _contents(session)
        state.close()
    journals = sorted(p.name for p in tmp_path.glob("state.json.journal.*"))
    assert len(journals) == 1 and (tmp_path / journals[0]).read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["state.json", "state.json.lock", *journals]
    )
    assert _load(path)[1] == written


def test_one_state_file_serves_one_stack_and_one_stage(tmp_path: Path):
    path = tmp_path / "state.json"
    with _emulator() as session:
        first = TableState(path, TABLES, session)
        with pytest.raises(StateInUse):
            TableState(path, TABLES, session)
        first.save()
        first.close()
        with pytest.raises(StateMismatch):
            TableState(path, ["other-stage-table"], session)
