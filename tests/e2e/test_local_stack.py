"""`make run`: the local stack in a subprocess on free ports, driven over HTTP."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
import requests

from tests.local_stack_process import LocalStackProcess, free_port


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStackProcess]:
    stack = LocalStackProcess(free_port(), free_port())
    stack.wait_until_up()
    yield stack
    code, output = stack.stop()
    assert code == 0, output


def _wait_done(api: str, operation_id: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        operation = requests.get(f"{api}/operations/{operation_id}", timeout=5).json()
        if operation["done"]:
            return operation
        time.sleep(0.05)
    raise AssertionError(f"operation {operation_id} not done after {timeout}s")


def _post(api: str, email: str, key: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return requests.post(
        f"{api}/users", json={"email": email, "name": "Ada"}, headers=headers, timeout=5
    )


def test_the_banner_says_what_is_where(local_stack):
    banner = "".join(local_stack.output)
    assert local_stack.api in banner and local_stack.endpoint in banner
    assert "us-east-1" in banner and "AWS_ENDPOINT_URL" in banner


def test_a_user_is_created_within_seconds(local_stack):
    accepted = _post(local_stack.api, "ada@example.org")
    assert accepted.status_code == 202
    assert accepted.headers["Location"] == f"/operations/{accepted.json()['id']}"
    started = time.monotonic()
    done = _wait_done(local_stack.api, accepted.json()["id"])
    assert time.monotonic() - started < 2.0
    assert done["status"] == "SUCCEEDED"
    user = requests.get(f"{local_stack.api}/users/{done['result']['user']['id']}", timeout=5)
    assert user.status_code == 200 and user.json()["email"] == "ada@example.org"


def test_the_contract_holds_over_http(local_stack):
    api = local_stack.api
    rejected = _post(api, "eve@example.test").json()
    first = _post(api, "grace@example.org", key="k-1").json()
    assert _post(api, "grace@example.org", key="k-1").json()["id"] == first["id"]
    assert _post(api, "other@example.org", key="k-1").status_code == 422
    assert _wait_done(api, rejected["id"])["error"]["code"] == "USER_REJECTED"
    assert _wait_done(api, first["id"])["status"] == "SUCCEEDED"
    duplicate = _post(api, "GRACE@example.org").json()
    assert _wait_done(api, duplicate["id"])["error"]["code"] == "EMAIL_ALREADY_REGISTERED"
    bad = requests.post(f"{api}/users", data="{", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"


def test_executions_are_listed_with_their_history(local_stack):
    api = local_stack.api
    accepted = _post(api, "alan@example.org").json()
    _wait_done(api, accepted["id"])
    listing = requests.get(f"{api}/_local/executions", timeout=5).json()["executions"]
    (execution,) = [e for e in listing if e["operationId"] == accepted["id"]]
    assert execution["status"] == "SUCCEEDED"
    assert execution["durationMs"] >= 0
    assert execution["operation"] == f"/operations/{accepted['id']}"
    history = requests.get(f"{api}{execution['history']}", timeout=5).json()
    states = [step["state"] for step in history["steps"]]
    assert states[:3] == ["CreateUser", "WasUserCreated", "ApproveUser"]
    assert "RecordSuccess" in states
    assert requests.get(f"{api}/_local/executions/nope", timeout=5).status_code == 404


def test_the_aws_endpoint_serves_the_aws_cli_and_boto3(local_stack):
    accepted = _post(local_stack.api, "linus@example.org").json()
    _wait_done(local_stack.api, accepted["id"])
    sfn = local_stack.aws("stepfunctions")
    (machine,) = sfn.list_state_machines()["stateMachines"]
    names = [
        e["name"]
        for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    ]
    assert accepted["id"] in names
    table = local_stack.aws("dynamodb").scan(TableName="user-service-local-operations")
    assert table["Count"] >= 1
    stream = local_stack.aws("kinesis").describe_stream(StreamName="user-service-local-events")
    assert stream["StreamDescription"]["StreamStatus"] == "ACTIVE"


def test_a_poison_record_reaches_the_on_failure_queue_and_the_stream_moves_on(local_stack):
    local_stack.aws("kinesis").put_record(
        StreamName="user-service-local-events", Data=b"poison", PartitionKey="poison"
    )
    sqs = local_stack.aws("sqs")
    queue = sqs.get_queue_url(QueueName="user-service-local-starter-failures")["QueueUrl"]
    messages = []
    deadline = time.monotonic() + 10
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
    assert messages, "nothing reached the on-failure queue"
    assert "KinesisBatchInfo" in messages[0]["Body"]
    after = _post(local_stack.api, "after.poison@example.org").json()
    assert _wait_done(local_stack.api, after["id"])["status"] == "SUCCEEDED"


def test_a_busy_port_gives_a_one_line_error(local_stack):
    busy_api_port = int(local_stack.api.rsplit(":", 1)[1])
    second = LocalStackProcess(busy_api_port, free_port())
    output, _ = second.process.communicate(timeout=60)
    assert second.process.returncode == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: port") and "busy" in lines[-1]
    assert "Traceback" not in output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_stack_stops_cleanly_on_a_signal(signum):
    stack = LocalStackProcess(free_port(), free_port())
    stack.wait_until_up()
    code, output = stack.stop(signum)
    assert code == 0
    assert "stopped" in output
    assert "Traceback" not in output
