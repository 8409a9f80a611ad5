"""`make run`: the local stack in a subprocess on free ports, driven over HTTP (the stack is
shared with the other modules that take `local_stack`: each test's users are its own)."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import uuid
from urllib.parse import urljoin

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from infra.definition import ROOT, stage_environment, starter_failure_queue_name
from local.process.child import free_port
from local.terminal import client
from tests.builders import unique_email
from tests.local_stack_process import LocalStackProcess, assert_stops_cleanly, wait_until
from tests.workflow_paths import succeeded

LOCAL = stage_environment("local")  # the local stage's names (infra/definition.py)


def test_the_banner_says_what_is_where(local_stack):
    banner = "".join(local_stack.output)
    assert local_stack.api in banner and local_stack.endpoint in banner
    assert "us-east-1" in banner and "AWS_ENDPOINT_URL" in banner
    # The local stage's placeholder credentials, as .chalice/config.json gives them.
    placeholder = LOCAL["AWS_ACCESS_KEY_ID"]
    assert f"AWS_ACCESS_KEY_ID={placeholder}" in banner
    # On ports of its own, the commands it suggests are told where the API is.
    assert f"make demo URL={local_stack.api} " in banner
    assert f"make executions URL={local_stack.api} " in banner


def test_a_user_is_created(local_stack):
    email = unique_email()
    accepted = local_stack.create_user(email)
    assert accepted.status_code == 202
    assert accepted.headers["Location"] == f"/operations/{accepted.json()['id']}"
    # What a client does with it (RFC 9110 section 10.2.2): resolve it against the request's URL.
    operation = requests.get(urljoin(accepted.url, accepted.headers["Location"]), timeout=5)
    assert operation.json()["id"] == accepted.json()["id"]
    done = local_stack.wait_done(accepted.json()["id"])
    assert done["status"] == "SUCCEEDED"
    user = requests.get(f"{local_stack.api}/users/{done['result']['user']['id']}", timeout=5)
    assert user.status_code == 200 and user.json()["email"] == email


def test_the_contract_holds_over_http(local_stack):
    api = local_stack.api
    email, key = unique_email(), f"k-{uuid.uuid4()}"
    rejected = local_stack.create_user(unique_email("example.test")).json()
    first = local_stack.create_user(email, key=key).json()
    assert local_stack.create_user(email, key=key).json()["id"] == first["id"]
    assert local_stack.create_user(unique_email(), key=key).status_code == 422
    assert local_stack.wait_done(rejected["id"])["error"]["code"] == "USER_REJECTED"
    assert local_stack.wait_done(first["id"])["status"] == "SUCCEEDED"
    duplicate = local_stack.create_user(email.upper()).json()
    assert local_stack.wait_done(duplicate["id"])["error"]["code"] == "EMAIL_ALREADY_REGISTERED"
    bad = requests.post(f"{api}/users", data="{", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"


def test_make_load_prints_its_summary_and_writes_its_results(local_stack, tmp_path, monkeypatch):
    from benchmarks import load

    monkeypatch.setattr(load, "RESULTS", tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert load.main(["--url", local_stack.api, "-n", "3", "-c", "2", "--name", "run"]) == 0
    first, second = printed.getvalue().splitlines()
    assert first.startswith("3 operations, 3 SUCCEEDED, ") and first.endswith(" operations/s")
    assert second.startswith("accepted → done: p50 ")
    written = json.loads((tmp_path / "run.json").read_text())
    assert written["outcomes"] == {"SUCCEEDED": 3}
    assert written["per_operation"]["api_requests"]["POST"] == 1.0
    assert written["per_operation"]["state_transitions"] >= 4  # read from the executions API
    assert (tmp_path / "run.png").read_bytes().startswith(b"\x89PNG")


def test_executions_are_listed_with_their_history(local_stack):
    api = local_stack.api
    accepted = local_stack.create_user(unique_email()).json()
    execution = local_stack.wait_ended(accepted["id"])
    assert execution["status"] == "SUCCEEDED"
    assert execution["outcome"]["status"] == "SUCCEEDED"
    assert execution["durationMs"] >= 0
    detail = requests.get(f"{api}/_local/api/executions/{accepted['id']}", timeout=5).json()
    assert detail["links"]["operation"] == f"/operations/{accepted['id']}"
    states = [step["state"] for step in detail["steps"]]
    assert states == succeeded()
    assert requests.get(f"{api}/_local/api/executions/nope", timeout=5).status_code == 404


def test_make_executions_shows_each_operations_outcome_beside_its_execution(local_stack):
    refused = local_stack.create_user(unique_email("example.test")).json()
    local_stack.wait_ended(refused["id"])

    def executions(*arguments: str) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "local", "executions", *arguments, "--api", local_stack.api],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return run.stdout

    header, *rows = executions().splitlines()
    assert header.split()[:4] == ["operation", "id", "operation", "execution"]
    (row,) = [line for line in rows if line.startswith(refused["id"])]
    # The workflow ran to its end (SUCCEEDED) and recorded the refusal.
    assert row.split()[1:4] == ["FAILED", "USER_REJECTED", "SUCCEEDED"]
    one = executions(refused["id"])
    assert f"operation {refused['id']}: FAILED USER_REJECTED" in one
    assert "execution SUCCEEDED" in one and succeeded()[0] in one


def test_the_aws_endpoint_serves_the_aws_cli_and_boto3(local_stack):
    accepted = local_stack.create_user(unique_email()).json()
    local_stack.wait_done(accepted["id"])
    sfn = local_stack.aws("stepfunctions")
    (machine,) = sfn.list_state_machines()["stateMachines"]
    names = [
        e["name"]
        for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    ]
    assert accepted["id"] in names
    table = local_stack.aws("dynamodb").scan(TableName=LOCAL["OPERATIONS_TABLE"])
    assert table["Count"] >= 1
    stream = local_stack.aws("kinesis").describe_stream(StreamName=LOCAL["EVENT_STREAM"])
    assert stream["StreamDescription"]["StreamStatus"] == "ACTIVE"


def test_a_poison_record_reaches_the_on_failure_queue_and_the_stream_moves_on(local_stack):
    local_stack.aws("kinesis").put_record(
        StreamName=LOCAL["EVENT_STREAM"], Data=b"poison", PartitionKey="poison"
    )
    sqs = local_stack.aws("sqs")
    queue = sqs.get_queue_url(QueueName=starter_failure_queue_name("local"))["QueueUrl"]
    messages = wait_until(
        lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"),
        what="a message on the on-failure queue",
    )
    assert "KinesisBatchInfo" in messages[0]["Body"]
    after = local_stack.create_user(unique_email()).json()
    assert local_stack.wait_done(after["id"])["status"] == "SUCCEEDED"


def test_a_busy_port_gives_a_one_line_error(local_stack):
    busy_api_port = int(local_stack.api.rsplit(":", 1)[1])
    second = LocalStackProcess(busy_api_port, free_port())
    code, output = second.wait()
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: port") and "busy" in lines[-1]
    assert "Traceback" not in output


def test_the_stack_stops_cleanly_on_sigterm():
    stack = LocalStackProcess(free_port(), free_port())
    stack.wait_until_up()
    assert_stops_cleanly(stack, signal.SIGTERM)


@pytest.mark.parametrize(
    ("method", "path"),
    [("QUERY", "/users"), ("POST", "/nowhere"), ("PUT", "/_local/api/about")],
)
def test_a_refused_request_s_body_is_read_so_the_connection_serves_the_next(
    local_stack, method, path
):
    """The edge (or the console) answers without the body; the next request on the same
    kept-alive connection must not start inside it."""
    with requests.Session() as session:
        refused = session.request(method, f"{local_stack.api}{path}", data="{}" * 100, timeout=5)
        assert refused.status_code in (404, 405)
        after = session.get(f"{local_stack.api}/problems/not-found", timeout=5)
        assert after.status_code == 200, after.text


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/", 404, None),
        ("GET", "/USERS", 404, None),
        ("GET", "/operations/", 404, None),
        ("GET", "/users/../operations", 404, None),
        ("PUT", "/users", 405, "POST"),
        ("HEAD", "/users", 405, "POST"),
        ("DELETE", "/users/00000000-0000-0000-0000-000000000000", 405, "GET"),
        ("TRACE", "/operations/x", 405, "GET"),
        ("GET", "/_local/nothing", 404, None),
        ("PUT", "/_local/api/executions/x", 405, "GET, HEAD"),
        ("POST", "/_local/api/metrics", 405, "GET, HEAD"),
    ],
)
def test_the_edges_answer_problem_json(local_stack, method, path, status, allow):
    response = requests.request(method, f"{local_stack.api}{path}", timeout=5)
    assert response.status_code == status
    assert response.headers.get("Allow") == allow
    assert response.headers["Content-Type"] == "application/problem+json"
    if method != "HEAD":
        problem = response.json()
        assert problem["status"] == status and problem["type"] and problem["title"]
        # Its type resolves to the page of that type, served by the stack like any route.
        page = requests.get(urljoin(response.url, problem["type"]), timeout=5)
        assert page.status_code == 200
        assert f"<h1>{problem['title']}</h1>" in page.text


# The reviewers over `make run`: the sign-in a script does (DESIGN.md, "Local tools contract").


def test_the_banner_says_how_the_local_reviewer_signs_in(local_stack):
    banner = "".join(local_stack.output)
    assert f"reviewer page     {local_stack.api}/review/" in banner
    # Given in the environment, the password is not printed; only a generated one is.
    assert "user reviewer, password $LOCAL_REVIEWER_PASSWORD" in banner
    assert local_stack.reviewer_password not in banner
    assert f"initiate-auth --endpoint-url {local_stack.endpoint}" in banner
    assert "--auth-flow USER_PASSWORD_AUTH" in banner


def test_a_script_signs_in_on_the_aws_endpoint_and_lists_the_reviews(local_stack):
    token = local_stack.reviewer_token()  # ListUserPools, ListUserPoolClients, InitiateAuth
    listed = requests.get(f"{local_stack.api}/reviews", headers={"Authorization": token}, timeout=5)
    assert listed.status_code == 200 and "reviews" in listed.json()
    for headers in ({}, {"Authorization": token[:-4] + "AAAA"}, {"Authorization": "x.y.z"}):
        refused = requests.get(f"{local_stack.api}/reviews", headers=headers, timeout=5)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["title"] == "Unauthorized"


def test_the_pool_serves_its_own_keys_which_verify_its_tokens(local_stack):
    token = local_stack.reviewer_token()
    pool = local_stack.reviewers_pool()
    keys = requests.get(f"{local_stack.endpoint}/{pool}/.well-known/jwks.json", timeout=5)
    assert keys.status_code == 200
    verified = jwt.decode(token, KeySet.import_key_set(keys.json()), algorithms=["RS256"])
    assert verified.claims["cognito:username"] == "reviewer"
    missing = requests.get(
        f"{local_stack.endpoint}/us-east-1_nopool/.well-known/jwks.json", timeout=5
    )
    assert missing.status_code == 404
    assert missing.json()["__type"] == "ResourceNotFoundException"


def test_a_user_outside_the_reviewers_group_gets_403(local_stack):
    local_stack.add_user("visitor", reviewer=False)
    token = local_stack.reviewer_token("visitor")
    refused = requests.get(
        f"{local_stack.api}/reviews", headers={"Authorization": token}, timeout=5
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "the user is not in the reviewers group"


def test_a_requested_review_is_announced_and_decided_by_the_signed_in_reviewer(local_stack):
    email = unique_email("review.example.org")
    accepted = local_stack.create_user(email).json()

    def announced() -> list[dict] | None:
        notes = requests.get(f"{local_stack.api}/_local/api/notifications", timeout=5).json()
        return [m for m in notes["messages"] if accepted["id"] in m["message"]] or None

    (note,) = wait_until(announced, 15, "the review announced on the topic")
    assert f"{local_stack.api}/review/" in note["message"]
    assert email.split("@")[0] not in note["message"]  # not the reviewed user's email
    decided = local_stack.decide(accepted["id"], {"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decidedBy"] == "reviewer"
    assert local_stack.wait_done(accepted["id"])["status"] == "SUCCEEDED"
    execution = requests.get(
        f"{local_stack.api}/_local/api/executions/{accepted['id']}", timeout=5
    ).json()
    assert execution["review"]["decidedBy"] == "reviewer"


def test_make_demo_signs_in_as_the_page_does_with_the_password_it_is_given(
    local_stack, monkeypatch
):
    monkeypatch.setenv("LOCAL_REVIEWER_PASSWORD", local_stack.reviewer_password)
    credentials = client.reviewer_credentials(local_stack.api)
    assert credentials is not None
    listed = requests.get(f"{local_stack.api}/reviews", headers=credentials, timeout=5)
    assert listed.status_code == 200
    monkeypatch.delenv("LOCAL_REVIEWER_PASSWORD")
    assert client.reviewer_credentials(local_stack.api) is None  # it says how, and decides not


def test_traces_are_read_with_the_x_ray_api_on_the_aws_endpoint(local_stack):
    import json
    import socket
    import time

    operation_id = local_stack.create_user(unique_email()).json()["id"]
    local_stack.wait_done(operation_id)
    # What the stack's X-Ray daemon cannot read it drops, and goes on.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"not a segment", ("127.0.0.1", local_stack.xray_port))
    xray = local_stack.aws("xray")

    def summaries() -> list[dict] | None:
        found = xray.get_trace_summaries(
            StartTime=time.time() - 600,
            EndTime=time.time() + 60,
            FilterExpression=f'annotation.operation_id = "{operation_id}" AND ok',
        )["TraceSummaries"]
        return found if len(found) == 2 and not any(s["IsPartial"] for s in found) else None

    # The functions' segments reach the daemon over UDP, a moment after the answers.
    found = wait_until(summaries, 10, "the operation's two traces")
    traces = xray.batch_get_traces(TraceIds=[s["Id"] for s in found])["Traces"]
    documents = json.dumps([s["Document"] for t in traces for s in t["Segments"]])
    for name in ("accept_user_request", "start_workflow", LOCAL["STATE_MACHINE_NAME"]):
        assert name in documents
    refused = requests.post(
        local_stack.otlp, data=b"{", headers={"Content-Type": "application/json"}, timeout=5
    )
    assert refused.status_code == 400
    after = local_stack.create_user(unique_email())
    assert after.status_code == 202
    local_stack.wait_done(after.json()["id"])  # nothing left in flight on the shared stack
