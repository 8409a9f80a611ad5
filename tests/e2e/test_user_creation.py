"""POST → Kinesis → starter → execution of the real ASL → GET, over moto, in process."""

from __future__ import annotations

import json
import threading
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.users_table import UsersTable
from chalicelib.domain.errors import TransientError
from chalicelib.services.operations import accept_user_request
from chalicelib.wiring import events, operations
from local.aws.kinesis_poller import lambda_event
from tests.builders import a_request, a_request_body, unique_email
from tests.executions import failed_tasks, states_entered
from tests.helpers import (
    JSON,
    body,
    executions,
    fail_calls,
    operation,
    post_user,
    put_again,
    table_items,
)
from tests.workflow_paths import broken_at, succeeded

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import ExecutionListItemTypeDef

    from local.emulator import Emulator

pytestmark = pytest.mark.e2e

# The states a successful or refused operation passes without a human review, from the
# definition (tests/workflow_paths.py): each is a paid transition on Standard.
STATES_WITHOUT_REVIEW = succeeded()


# The tests that take a stack of their own: the first puts the stream's only record on it
# again, the second deletes the stream, the third is the `stack` fixture's own example. They
# come first: the module's other tests share one stack (`shared`, tests/conftest.py), each
# asserting on what it did itself (its own operations, unique emails and idempotency keys,
# the executions and users made while it ran).


def test_duplicate_kinesis_delivery_starts_one_execution(stack):
    accepted = body(post_user(stack.client, "ada@example.org"))
    # The producer's retry puts the same event twice; each copy is delivered.
    shard, record = put_again(stack, accepted["id"])
    stack.drain()
    # ...and a redelivery of the same batch, as Lambda does after a timeout.
    event = lambda_event([record], stack.resources.stream_arn, shard)
    redelivered = stack.client.lambda_.invoke("starter", event)
    assert redelivered.payload == {"batchItemFailures": []}
    stack.drain()

    assert len(executions(stack)) == 1
    assert operation(stack.client, accepted["id"])["status"] == "SUCCEEDED"
    assert len([i for i in table_items("USERS_TABLE") if i["pk"]["S"].startswith("user#")]) == 1


def test_a_failed_publish_answers_503_and_a_retry_succeeds(stack, monkeypatch):
    kinesis = boto3.client("kinesis")
    kinesis.delete_stream(StreamName=stack.resources.stream_name)  # the stream is gone...
    failed = post_user(stack.client, "ada@example.org", key="k-1")
    assert failed.status_code == 503
    assert failed.headers["Content-Type"] == "application/problem+json"
    assert failed.headers["Retry-After"]
    ops = table_items("OPERATIONS_TABLE")
    (stored,) = [o for o in ops if "status" in o]
    assert stored["status"]["S"] == "FAILED"  # ...so nobody waits on it for ever
    assert stored["error"]["M"]["code"]["S"] == "PUBLISH_FAILED"

    kinesis.create_stream(StreamName=stack.resources.stream_name, ShardCount=1)
    retried = post_user(stack.client, "ada@example.org", key="k-1")
    assert retried.status_code == 202
    assert body(retried)["id"] != stored["pk"]["S"]


def test_chalice_s_test_client_works_in_a_test_that_takes_the_stack(stack):
    """Chalice's documentation writes a test as `with Client(app) as client:`; inside a test
    that takes the `stack` fixture, that client calls the same app over the emulator."""
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        accepted = client.http.post("/users", headers=JSON, body=json.dumps(a_request_body()))
        assert accepted.status_code == 202, accepted.body
        stack.drain()
        done = json.loads(client.http.get(f"/operations/{body(accepted)['id']}").body)
    assert done["status"] == "SUCCEEDED"


def started_during(stack: Emulator, before: list[ExecutionListItemTypeDef]) -> list[Any]:
    """The executions started since `before` was listed: what executions(stack) lists on a
    stack of the test's own."""
    seen = {execution["executionArn"] for execution in before}
    return [e for e in executions(stack) if e["executionArn"] not in seen]


def users_made(before: list[dict]) -> list[dict]:
    """The users table's users written since `before` (table_items) was read."""
    seen = {item["pk"]["S"] for item in before}
    items = table_items("USERS_TABLE")
    return [i for i in items if i["pk"]["S"].startswith("user#") and i["pk"]["S"] not in seen]


def test_a_user_is_created_through_the_whole_pipeline(shared):
    stack, before, email = shared, executions(shared), unique_email()
    accepted = post_user(stack.client, email, "Ada Lovelace")
    assert accepted.status_code == 202
    pending = body(accepted)
    assert accepted.headers["Location"] == f"/operations/{pending['id']}"
    assert int(accepted.headers["Retry-After"]) >= 1
    assert pending["status"] == "PENDING" and pending["done"] is False
    assert pending["type"] == "user.create"

    stack.drain()

    done = stack.client.http.get(accepted.headers["Location"])
    assert done.status_code == 200
    assert "Retry-After" not in done.headers
    result = body(done)
    assert result["status"] == "SUCCEEDED" and result["done"] is True
    assert "error" not in result
    assert result["createdAt"] <= result["updatedAt"]
    assert result["updatedAt"].endswith("Z")
    user = result["result"]["user"]
    assert user["email"] == email and user["name"] == "Ada Lovelace"
    assert user["status"] == "ACTIVE"

    fetched = stack.client.http.get(f"/users/{user['id']}")
    assert fetched.status_code == 200
    assert body(fetched) == user

    (execution,) = started_during(stack, before)
    assert execution["name"] == pending["id"]
    assert execution["status"] == "SUCCEEDED"
    assert states_entered(stack, pending["id"]) == STATES_WITHOUT_REVIEW


def test_an_operation_is_running_once_its_workflow_started(shared):
    stack = shared
    accepted = body(post_user(stack.client, unique_email()))
    stack.poller.drain()  # delivered to the starter; the execution may still run
    assert operation(stack.client, accepted["id"])["status"] in ("RUNNING", "SUCCEEDED")
    stack.drain()
    assert operation(stack.client, accepted["id"])["status"] == "SUCCEEDED"


def test_reserved_domains_and_the_deny_list_are_rejected(shared):
    stack, before = shared, executions(shared)
    reserved = body(post_user(stack.client, "eve@example.test"))
    denied = body(post_user(stack.client, "mallory@mailinator.com"))
    stack.drain()
    for accepted in (reserved, denied):
        failed = operation(stack.client, accepted["id"])
        assert failed["status"] == "FAILED" and failed["done"] is True
        assert failed["error"]["code"] == "USER_REJECTED"
        assert failed["error"]["message"]
        assert "result" not in failed
    # A business refusal is the workflow doing its job: the executions succeed, through the
    # same states, and no step fails (Lambda's error metrics stay quiet).
    assert {e["status"] for e in started_during(stack, before)} == {"SUCCEEDED"}
    for accepted in (reserved, denied):
        assert states_entered(stack, accepted["id"]) == STATES_WITHOUT_REVIEW
        assert failed_tasks(stack, accepted["id"]) == []


def test_a_registered_email_is_refused_case_insensitively(shared):
    stack, email = shared, unique_email()
    first = body(post_user(stack.client, email))
    stack.drain()
    second = body(post_user(stack.client, email.upper()))
    stack.drain()
    assert operation(stack.client, first["id"])["status"] == "SUCCEEDED"
    refused = operation(stack.client, second["id"])
    assert refused["status"] == "FAILED"
    assert refused["error"]["code"] == "EMAIL_ALREADY_REGISTERED"
    assert states_entered(stack, second["id"]) == STATES_WITHOUT_REVIEW
    assert failed_tasks(stack, second["id"]) == []


def test_a_rejected_email_stays_free(shared):
    stack = shared
    body(post_user(stack.client, "zed@mailinator.com"))
    stack.drain()
    again = body(post_user(stack.client, "zed@mailinator.com"))
    stack.drain()
    assert operation(stack.client, again["id"])["error"]["code"] == "USER_REJECTED"


def test_concurrent_requests_for_one_email_create_exactly_one_user(shared):
    stack, before, email = shared, table_items("USERS_TABLE"), unique_email()
    spellings = [email.upper() if odd else email for odd in (0, 1) * 4]
    accepted = [body(post_user(stack.client, spelling)) for spelling in spellings]
    stack.drain()  # the eight executions run concurrently
    outcomes = [operation(stack.client, a["id"]) for a in accepted]
    assert sorted(o["status"] for o in outcomes) == ["FAILED"] * 7 + ["SUCCEEDED"]
    assert {o["error"]["code"] for o in outcomes if "error" in o} == {"EMAIL_ALREADY_REGISTERED"}
    assert len(users_made(before)) == 1


def test_a_step_that_fails_once_succeeds_on_retry(shared, monkeypatch):
    stack = shared
    throttled = TransientError("ProvisionedThroughputExceededException: throttled")
    calls = fail_calls(monkeypatch, UsersTable, "add", throttled, lambda call: call == 1)
    accepted = body(post_user(stack.client, unique_email()))
    stack.drain()
    assert operation(stack.client, accepted["id"])["status"] == "SUCCEEDED"
    assert len(calls) == 2


def test_a_step_that_keeps_failing_fails_the_operation(shared, monkeypatch):
    stack, before = shared, executions(shared)
    throttled = TransientError("ThrottlingException: still throttled")
    calls = fail_calls(monkeypatch, UsersTable, "activate", throttled, lambda call: True)
    accepted = body(post_user(stack.client, unique_email()))
    stack.drain()
    failed = operation(stack.client, accepted["id"])
    assert failed["status"] == "FAILED" and failed["done"] is True
    assert failed["error"] == {
        "code": "USER_APPROVE_FAILED",
        "message": "user-approve failed: TransientError",
    }
    assert len(calls) == 4  # the first attempt and three retries
    (execution,) = started_during(stack, before)
    assert execution["status"] == "FAILED"  # a broken step: the failed-executions alarm
    described = boto3.client("stepfunctions").describe_execution(
        executionArn=execution["executionArn"]
    )
    assert described["error"] == "USER_APPROVE_FAILED"
    assert states_entered(stack, accepted["id"]) == broken_at("ApproveUser")


@pytest.mark.parametrize(
    ("seam", "code", "broken"),
    [
        ((UsersTable, "add"), "USER_CREATE_FAILED", "CreateUser"),
        ((UsersTable, "get"), "USER_APPROVE_FAILED", "ApproveUser"),
        ((OperationsTable, "mark_succeeded"), "USER_CREATE_RESPONSE_FAILED", "CreateResponse"),
    ],
)
def test_a_bug_in_a_step_fails_the_operation_without_retries(
    shared, monkeypatch, seam, code, broken
):
    stack, before = shared, executions(shared)
    owner, method = seam
    calls = fail_calls(monkeypatch, owner, method, KeyError("a bug"), lambda call: True)
    accepted = body(post_user(stack.client, unique_email()))
    stack.drain()
    failed = operation(stack.client, accepted["id"])
    assert failed["error"]["code"] == code
    assert "KeyError" in failed["error"]["message"]
    assert len(calls) == 1
    assert states_entered(stack, accepted["id"]) == broken_at(broken)
    (execution,) = started_during(stack, before)
    assert execution["status"] == "FAILED"


def test_idempotency_key_replay_returns_the_same_operation(shared):
    stack, before, email, key = shared, executions(shared), unique_email(), f"order-{uuid.uuid4()}"
    first = post_user(stack.client, email, key=key)
    again = post_user(stack.client, email, key=key)
    assert first.status_code == again.status_code == 202
    assert body(first)["id"] == body(again)["id"]
    assert first.headers["Location"] == again.headers["Location"]
    stack.drain()
    assert len(started_during(stack, before)) == 1
    after = post_user(stack.client, email, key=key)
    assert body(after)["id"] == body(first)["id"]
    assert body(after)["status"] == "SUCCEEDED"


def test_idempotency_key_with_another_body_is_refused(shared):
    stack, key = shared, f"order-{uuid.uuid4()}"
    post_user(stack.client, unique_email(), key=key)
    clash = post_user(stack.client, unique_email(), key=key)
    assert clash.status_code == 422
    assert clash.headers["Content-Type"] == "application/problem+json"
    assert body(clash)["status"] == 422


def test_concurrent_identical_idempotent_requests_make_one_operation(shared):
    stack, before, email, key = shared, executions(shared), unique_email(), f"order-{uuid.uuid4()}"
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def accept() -> None:
        barrier.wait()
        request = a_request(email=email)
        ids.append(accept_user_request(request, key, operations(), events()).id)

    threads = [threading.Thread(target=accept) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 8
    stack.drain()
    assert len(started_during(stack, before)) == 1
