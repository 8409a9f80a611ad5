"""One trace per operation, over the whole pipeline in process, read back through the emulator's
X-Ray API as a client reads it (GetTraceSummaries with a filter expression, BatchGetTraces):
the API request, the starter, the execution and its states, each function and its AWS calls,
joined; the starter's invocation linked; nothing personal in any of it; and tracing that fails
fails nothing else."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import wiring
from chalicelib.adapters import tracing, tracing_common
from chalicelib.adapters.event_stream import encode
from chalicelib.adapters.users_table import UsersTable
from chalicelib.domain.errors import TransientError
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import UserRequest, new_operation
from local.aws.lambda_runtime import FunctionSpec
from local.console.timeline import Timelines
from tests.conftest import running_stack
from tests.e2e.test_human_review import awaiting_review, decide, review_items
from tests.e2e.test_user_creation import STATES_WITHOUT_REVIEW
from tests.executions import history
from tests.helpers import body, fail_calls, operation, post_user

if TYPE_CHECKING:
    from local.emulator import Emulator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[Emulator]:
    """The in-process stack with every operation traced (conftest's samples), one for the
    module: each test makes its own operations, with their own emails."""
    with running_stack(trace_all=True) as emulator:
        yield emulator


def _summaries(expression: str) -> list[dict[str, Any]]:
    now = time.time()
    return boto3.client("xray").get_trace_summaries(
        StartTime=now - 3600, EndTime=now + 60, FilterExpression=expression
    )["TraceSummaries"]


def traces_of(operation_id: str) -> list[list[dict[str, Any]]]:
    """Each trace annotated with the operation's id: its segment documents, compiled."""
    ids = [s["Id"] for s in _summaries(f'annotation.operation_id = "{operation_id}"')]
    assert ids, f"no trace for {operation_id}"
    found = boto3.client("xray").batch_get_traces(TraceIds=ids)
    assert found["UnprocessedTraceIds"] == []
    return [[json.loads(s["Document"]) for s in trace["Segments"]] for trace in found["Traces"]]


def _entities(documents: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], str | None]]:
    """Every segment and subsegment by id, with its parent's id."""
    found: dict[str, tuple[dict[str, Any], str | None]] = {}

    def walk(entity: dict[str, Any], parent: str | None) -> None:
        found[entity["id"]] = (entity, parent)
        for child in entity.get("subsegments", []):
            walk(child, entity["id"])

    for document in documents:
        walk(document, document.get("parent_id"))
    return found


def _path(entities: dict, entity_id: str) -> list[str]:
    """The names from the trace's root down to the entity."""
    names = []
    while entity_id is not None:
        entity, parent = entities[entity_id]
        names.append(entity["name"])
        entity_id = parent
    return names[::-1]


def _operation_trace(operation_id: str) -> dict[str, tuple[dict[str, Any], str | None]]:
    """The trace the operation's execution runs in."""
    (trace,) = [
        t
        for t in traces_of(operation_id)
        if any(d.get("origin") == "AWS::StepFunctions::StateMachine" for d in t)
    ]
    return _entities(trace)


def test_an_operation_is_one_trace_from_the_request_to_the_last_step(stack):
    operation_id = body(post_user(stack.client, "user1@example.org"))["id"]
    stack.drain()
    assert operation(stack.client, operation_id)["status"] == "SUCCEEDED"
    entities = _operation_trace(operation_id)
    # Every parent is in the trace: the hops are joined, not merely annotated alike.
    assert all(parent is None or parent in entities for _, parent in entities.values())
    roots = [e["name"] for e, parent in entities.values() if parent is None]
    assert roots == ["user-service/api"]
    paths = {" > ".join(_path(entities, key)) for key in entities}
    api = "user-service/api > Lambda > user-service-test > user-service-test > Invocation"
    assert f"{api} > accept_user_request > kinesis" in paths
    starter = f"{api} > accept_user_request > user-service-test-starter > start_workflow"
    # The execution joins the trace through StartExecution (its X-Amzn-Trace-Id header):
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html
    workflow = f"{starter} > states > user-service-test-workflow"
    for state in STATES_WITHOUT_REVIEW:
        assert f"{workflow} > {state}" in paths
    for step, state in (("user_create", "CreateUser"), ("user_approve", "ApproveUser")):
        function = f"{workflow} > {state} > Lambda > user-service-test-{step}"
        assert f"{function} > user-service-test-{step} > Invocation > {step} > dynamodb" in paths
    annotated = {e["name"] for e, _ in entities.values() if e.get("annotations")}
    assert annotated == {
        "accept_user_request",
        "start_workflow",
        "user_create",
        "user_approve",
        "user_create_response",
    }
    assert all(
        e["annotations"] == {"operation_id": operation_id}
        for e, _ in entities.values()
        if e.get("annotations")
    )
    (execution,) = [e for e, _ in entities.values() if e.get("origin", "").startswith("AWS::Step")]
    assert "in_progress" not in execution and execution["end_time"] >= execution["start_time"]


def test_the_starters_invocation_keeps_a_link_to_the_operations_trace(stack):
    operation_id = body(post_user(stack.client, "user2@example.org"))["id"]
    stack.drain()
    by_entry = {}
    for documents in traces_of(operation_id):
        entities = _entities(documents)
        by_entry[next(e["name"] for e, parent in entities.values() if parent is None)] = entities
    invocation = by_entry["user-service-test-starter"]  # its own trace: Lambda's, per batch
    (here,) = [e for e, _ in invocation.values() if e["name"] == "start_workflow"]
    there_link = here["metadata"]["links"]["operation"]
    operation_trace = by_entry["user-service/api"]
    there, _ = operation_trace[there_link["id"]]
    assert (
        there["trace_id"] == there_link["trace_id"] and there["origin"] == "AWS::Lambda::Function"
    )
    assert there["metadata"]["links"]["invocation"] == {
        "trace_id": here_trace(here),
        "id": here["id"],
    }


def here_trace(entity: dict[str, Any]) -> str:
    return entity["trace_id"]


def test_start_execution_keeps_its_trace_header_the_http_header_first(stack):
    # "If both sources are provided, Step Functions will use the header value (preferred) over
    # the value in the request body":
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
    sfn = boto3.client("stepfunctions")
    body_header = "Root=1-6b000000-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=1111111111111111;Sampled=1"
    http_header = "Root=1-6b000000-bbbbbbbbbbbbbbbbbbbbbbbb;Parent=2222222222222222;Sampled=1"
    arn = sfn.create_state_machine(
        name="probe",
        definition=json.dumps(
            {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
        ),
        roleArn="arn:aws:iam::123456789012:role/probe",
    )["stateMachineArn"]

    def with_header(request, **kwargs):
        request.headers["X-Amzn-Trace-Id"] = http_header

    started = sfn.start_execution(stateMachineArn=arn, name="by-body", traceHeader=body_header)
    assert (
        sfn.describe_execution(executionArn=started["executionArn"])["traceHeader"] == body_header
    )
    sfn.meta.events.register("before-sign.states.StartExecution", with_header)
    try:
        both = sfn.start_execution(stateMachineArn=arn, name="by-both", traceHeader=body_header)
    finally:
        sfn.meta.events.unregister("before-sign.states.StartExecution", with_header)
    assert sfn.describe_execution(executionArn=both["executionArn"])["traceHeader"] == http_header
    plain = sfn.start_execution(stateMachineArn=arn, name="without")
    assert "traceHeader" not in sfn.describe_execution(executionArn=plain["executionArn"])


def test_a_record_in_todays_format_still_starts_its_workflow_in_the_starters_trace(stack):
    # Records archived before the trace header was added carry none: replayed, they start
    # their workflow all the same, traced from the starter's invocation.
    pending = wiring.operations().create(new_operation(UserRequest("old@example.org", "Old")), None)
    record = encode(OperationRequested(pending.id, pending.request, "2026-11-23T10:00:00Z"))
    assert b"traceHeader" not in record
    boto3.client("kinesis").put_record(
        StreamName=stack.resources.stream_name, Data=record, PartitionKey=pending.id
    )
    stack.drain()
    assert operation(stack.client, pending.id)["status"] == "SUCCEEDED"
    (trace,) = traces_of(pending.id)
    entities = _entities(trace)
    paths = {" > ".join(_path(entities, key)) for key in entities}
    starter = "user-service-test-starter > user-service-test-starter > Invocation > start_workflow"
    assert f"{starter} > states > user-service-test-workflow > CreateUser" in paths


def test_a_retried_step_shows_its_attempts_and_the_fault(stack, monkeypatch):
    fail_calls(monkeypatch, UsersTable, "add", TransientError("throttled"), lambda call: call == 1)
    operation_id = body(post_user(stack.client, "user3@example.org"))["id"]
    stack.drain()
    assert operation(stack.client, operation_id)["status"] == "SUCCEEDED"
    entities = _operation_trace(operation_id)
    (state,) = [e for e, _ in entities.values() if e["name"] == "CreateUser"]
    assert state["aws"]["retries"] == 1
    first, second = state["subsegments"]
    assert first["fault"] and first["cause"]["exceptions"][0]["type"] == "TransientError"
    assert "fault" not in second and second["aws"]["retries"] == 1
    invocations = [e for e, _ in entities.values() if e["name"] == "user-service-test-user_create"]
    assert len(invocations) == 4  # two attempts, each Lambda's two segments
    assert sum(1 for e in invocations if e.get("fault")) == 1


def test_a_review_is_traced_and_nothing_personal_or_secret_is(stack):
    waiting = awaiting_review(stack, "eve@review.example.org", "Eve")
    token = next(i["taskToken"]["S"] for i in review_items() if i["pk"]["S"] == waiting["id"])
    entities = _operation_trace(waiting["id"])
    (execution,) = [e for e, _ in entities.values() if e.get("origin", "").startswith("AWS::Step")]
    assert execution["in_progress"]  # it waits for a person: the states so far, still open
    (await_review,) = [e for e, _ in entities.values() if e["name"] == "AwaitReview"]
    assert await_review["in_progress"]
    assert (
        decide(stack, waiting["id"], "reject", "eve@review.example.org is fake").status_code == 200
    )
    stack.drain()
    traces = traces_of(waiting["id"])
    assert len(traces) == 3  # the request's, the starter's invocation, the decision's
    documents = json.dumps(traces)
    assert "AwaitReview" in documents and "decide_review" in documents
    assert "eve@review.example.org" not in documents and "review.example.org" not in documents
    assert token not in documents
    entities = _operation_trace(waiting["id"])
    (execution,) = [e for e, _ in entities.values() if e.get("origin", "").startswith("AWS::Step")]
    assert "in_progress" not in execution


def test_filter_expressions_find_traces_and_an_unsupported_one_is_refused_as_aws_does(stack):
    operation_id = body(post_user(stack.client, "user4@example.org"))["id"]
    stack.drain()
    annotated = f'annotation.operation_id = "{operation_id}"'
    assert len(_summaries(annotated)) == 2
    assert len(_summaries(f'{annotated} AND service("user-service/api")')) == 1
    assert len(_summaries(f"{annotated} AND (fault OR error)")) == 0
    assert len(_summaries(f'{annotated} OR annotation.operation_id = "other"')) == 2
    # https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html: a 400, never a 500
    with pytest.raises(ClientError) as refused:
        _summaries('edge("user-service/api", "user-service-test")')
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_put_trace_segments_answers_what_it_refused(stack):
    xray = boto3.client("xray")
    now = time.time()
    trace_id = "1-6b000000-0123456789abcdef01234567"
    good = {"name": "probe", "id": "0123456789abcdef", "trace_id": trace_id, "start_time": now,
            "end_time": now + 1}  # fmt: skip
    answer = xray.put_trace_segments(
        TraceSegmentDocuments=[json.dumps(good), "{not json", json.dumps({"id": "x"})]
    )
    assert [u["ErrorCode"] for u in answer["UnprocessedTraceSegments"]] == [
        "JSONFormatError",
        "MissingParam",
    ]
    assert stack.traces.traces([good["trace_id"]])[0]


def test_concurrent_invocations_each_trace_into_their_own(stack):
    barrier = threading.Barrier(2)

    def handler(event, context):
        with tracing.subsegment("probe_work", event["id"]):
            barrier.wait(5)  # both invocations inside their subsegment at once
        return {}

    stack.lambdas.register("probe", FunctionSpec(handler, "arn:probe", 128, 10))
    headers = {
        name: tracing.TraceHeader(f"1-6b00000{n}-{name * 24}", f"{n:016x}")
        for n, name in ((1, "a"), (2, "b"))
    }

    def invoke(name: str) -> None:
        with stack.lambdas.traced("probe", "arn:probe", name, headers[name]) as traced:
            assert traced is not None
            with tracing.invocation(traced.header):
                handler({"id": name}, None)

    threads = [threading.Thread(target=invoke, args=(name,)) for name in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, header in headers.items():
        (trace,) = stack.traces.traces([header.root])[0]
        probes = [
            e
            for e, _ in _entities([json.loads(s["Document"]) for s in trace["Segments"]]).values()
            if e["name"] == "probe_work"
        ]
        assert [p["annotations"]["operation_id"] for p in probes] == [name]


def test_tracing_that_fails_fails_no_request_and_is_logged_once(stack, monkeypatch, caplog):
    from chalicelib.adapters.tracing_xray import XRayTracer

    monkeypatch.setattr(tracing_common, "_reported", set())
    tracer = tracing.active()
    assert isinstance(tracer, XRayTracer)

    def full(document: str) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # a full UDP buffer

    monkeypatch.setattr(tracer.emitter, "deliver", full)
    with caplog.at_level(logging.WARNING, "chalicelib.adapters.tracing"):
        ids = [body(post_user(stack.client, f"failing{n}@example.org"))["id"] for n in range(3)]
        stack.drain()
    assert all(operation(stack.client, i)["status"] == "SUCCEEDED" for i in ids)
    failures = [r.getMessage() for r in caplog.records if r.name == "chalicelib.adapters.tracing"]
    assert len(failures) == 1 and "sending a segment" in failures[0], failures


def test_the_console_lays_the_operation_out_as_a_timeline(stack):
    operation_id = body(post_user(stack.client, "user5@example.org"))["id"]
    stack.drain()
    model = Timelines(stack.session).of(operation_id)
    first, linked = model["traces"]
    assert first["operation"] and not first["inProgress"] and first["request"] == "POST /users"
    kinds = [(row["name"], row["kind"]) for row in first["rows"]]
    for expected in [
        ("user-service/api", "api"),
        ("accept_user_request", "local"),
        ("kinesis", "aws"),
        ("Kinesis", "stream"),
        ("user-service-test-starter", "function"),
        ("start_workflow", "local"),
        ("user-service-test-workflow", "workflow"),
        ("CreateUser", "state"),
        ("user-service-test-user_create", "lambda"),
        ("user_create", "local"),
    ]:
        assert expected in kinds
    stream = next(row for row in first["rows"] if row["kind"] == "stream")
    assert stream["durationMs"] >= 0
    assert all(row["durationMs"] is not None and row["startMs"] >= 0 for row in first["rows"])
    assert not linked["operation"] and linked["entry"] == "user-service-test-starter"
    assert any("links" in row for row in linked["rows"])
    history(stack, operation_id)  # the execution the timeline drew is the operation's
