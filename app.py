"""Entrypoints only: translate HTTP requests and Lambda events into use-case calls."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate, Response
from chalice.app import KinesisEvent, LambdaFunctionEvent, Request

from chalicelib import clock, wiring
from chalicelib.adapters import event_stream, logs, state_machine, tracing
from chalicelib.adapters.workflows import StepFunctionsCallbacks
from chalicelib.config import app_name, settings
from chalicelib.domain.operations import is_valid_id
from chalicelib.http import edges, pagination, review_page
from chalicelib.http.auth import reviewer, reviewers_authorizer, stage_authorizer
from chalicelib.http.links import api_root
from chalicelib.http.problems import PROBLEM_TYPES, not_found, page
from chalicelib.http.resources import (
    decision_resource,
    operation_resource,
    reviews_resource,
    user_resource,
)
from chalicelib.http.responses import (
    RETRY_AFTER_SECONDS,
    html_response,
    json_response,
    problem_json,
    retry_after,
)
from chalicelib.http.validation import (
    check_query,
    parse_idempotency_key,
    parse_limit,
    parse_review_decision,
    parse_user_request,
)
from chalicelib.services import operations, reviews, steps, workflow

# Named once, in .chalice/config.json (app_name): chalicelib/config.py.
app = Chalice(app_name=app_name())
# Chalice builds the event source mapping from this at package time, with the stage's
# environment variables set (infra/definition.py derives them), so each stage reads its own
# stream. Empty only where app.py is imported without a stage's environment.
EVENT_STREAM = os.environ.get("EVENT_STREAM", "")
AUTHORIZER = stage_authorizer()
# The reviewers' routes are for staff: their own authorizer per stage (REVIEW_AUTH).
REVIEW_AUTHORIZER = reviewers_authorizer()
# Chalice answers a Content-Type outside a route's list with a 415 of its own, not
# problem+json: POST checks the type itself, and a GET has no body whose type could matter.
ANY_CONTENT_TYPE = ["*/*"]


def _current_request() -> Request:
    request = app.current_request
    if request is None:  # Chalice sets it before any route runs
        raise RuntimeError("no current request outside a route")
    return request


def _root() -> str:
    """The API's root as this request found it: links in answers start there."""
    return api_root(_current_request().context)


# Every failure of a route is answered as problem+json, its type a link from that root.
problems_as_json = problem_json(_root)


@app.middleware("all")
def structured_logs(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Every function's log lines are JSON (configured once per process)."""
    logs.configure()
    return get_response(event)


@app.middleware("pure_lambda")
def step_correlation(event: LambdaFunctionEvent, get_response: Callable[[Any], Any]) -> Any:
    """A step's log lines carry its operation's id as correlation id, and its work is a
    subsegment named after the step, annotated with it."""
    operation_id = state_machine.operation_id(event.to_dict())
    with logs.correlation(operation_id), tracing.subsegment(_step(event.context), operation_id):
        return get_response(event)


def _step(context: Any) -> str:
    """The step a function runs: Chalice names a function `<app>-<stage>-<handler>`."""
    return str(getattr(context, "function_name", "step")).rsplit("-", 1)[-1]


@app.route("/users", methods=["POST"], content_types=ANY_CONTENT_TYPE, authorizer=AUTHORIZER)
@problems_as_json
def create_user() -> Response:
    request = _current_request()
    headers = request.headers
    user_request = parse_user_request(headers, _body(request), settings().max_request_bytes)
    with tracing.subsegment("accept_user_request"):
        operation = operations.accept_user_request(
            user_request,
            parse_idempotency_key(headers),
            wiring.operations(),
            wiring.events(),
            metrics=wiring.metrics(),
        )
        tracing.annotate(operation.id)
    return json_response(
        202,
        operation_resource(operation),
        {
            "Location": f"{_root()}/operations/{operation.id}",
            "Retry-After": str(RETRY_AFTER_SECONDS),
        },
    )


@app.route(
    "/operations/{operation_id}",
    methods=["GET"],
    content_types=ANY_CONTENT_TYPE,
    authorizer=AUTHORIZER,
)
@problems_as_json
def get_operation(operation_id: str) -> Response:
    if not is_valid_id(operation_id):
        raise not_found("operation")
    operation = operations.get_operation(operation_id, wiring.operations())
    return json_response(200, operation_resource(operation), retry_after(operation))


@app.route(
    "/users/{user_id}", methods=["GET"], content_types=ANY_CONTENT_TYPE, authorizer=AUTHORIZER
)
@problems_as_json
def get_user(user_id: str) -> Response:
    if not is_valid_id(user_id):
        raise not_found("user")
    return json_response(200, user_resource(operations.get_user(user_id, wiring.users())))


@app.route(
    "/reviews", methods=["GET"], content_types=ANY_CONTENT_TYPE, authorizer=REVIEW_AUTHORIZER
)
@problems_as_json
def list_reviews() -> Response:
    request = _current_request()
    reviewer(request.context, REVIEW_AUTHORIZER)
    query = _query(request)
    check_query(query, {"limit", "nextToken"})
    page = reviews.pending_reviews(
        parse_limit(query.get("limit", [])),
        pagination.decode(query.get("nextToken", [])),
        wiring.reviews(),
    )
    return json_response(200, reviews_resource(page))


@app.route(
    "/reviews/{operation_id}",
    methods=["POST"],
    content_types=ANY_CONTENT_TYPE,
    authorizer=REVIEW_AUTHORIZER,
)
@problems_as_json
def decide_review(operation_id: str) -> Response:
    request = _current_request()
    decided_by = reviewer(request.context, REVIEW_AUTHORIZER)
    decision = parse_review_decision(request.headers, _body(request), settings().max_request_bytes)
    if not is_valid_id(operation_id):
        raise not_found("review")
    with logs.correlation(operation_id), tracing.subsegment("decide_review", operation_id):
        decided = reviews.decide_review(
            operation_id,
            decision,
            wiring.reviews(),
            wiring.operations(),
            StepFunctionsCallbacks(),
            decided_by=decided_by,
            metrics=wiring.metrics(),
        )
    return json_response(200, decision_resource(decided))


# The reviewer page: open on every stage (it holds no data; the reviews need a reviewer's
# token), so that a browser can load it under any API_AUTH.
@app.route("/review", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@problems_as_json
def reviewer_page() -> Response:
    return review_page.index(_current_request().context, app.app_name)


@app.route("/review/{name}", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@problems_as_json
def reviewer_page_file(name: str) -> Response:
    return review_page.asset(name)


# The page each problem type's URI resolves to. Public on every stage: documentation, with
# nothing of a user in it and no AWS call behind it.
@app.route("/problems/{problem_type}", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@problems_as_json
def describe_problem(problem_type: str) -> Response:
    kind = PROBLEM_TYPES.get(problem_type)
    if kind is None:
        raise not_found("problem type")
    return html_response(200, page(kind))


def _query(request: Request) -> dict[str, list[str]]:
    params = request.query_params
    return {} if params is None else {name: params.getlist(name) for name in params}


def _body(request: Request) -> bytes:
    raw = request.raw_body
    return raw if isinstance(raw, bytes) else raw.encode()


@app.on_kinesis_record(
    stream=EVENT_STREAM,
    batch_size=100,
    starting_position="TRIM_HORIZON",
    name="starter",
    # Latency first: start workflows as records arrive. Under load, batches fill anyway.
    maximum_batching_window_in_seconds=0,
)
def starter(event: KinesisEvent) -> dict[str, Any]:
    operations_table, workflows = wiring.operations(), wiring.workflows()
    function_name = str(getattr(event.context, "function_name", "starter"))
    batch = list(event)
    wiring.metrics().records_arrived([record.timestamp for record in batch])

    def start(data: bytes) -> None:
        requested = event_stream.decode(data)
        # Each record's work joins its operation's trace (the request's, carried in the
        # record), so the execution it starts joins it too; this invocation keeps a link.
        with (
            logs.correlation(requested.operation_id),
            tracing.continued(
                requested.trace_header, "start_workflow", requested.operation_id, function_name
            ),
        ):
            workflow.start_workflow(requested, operations_table, workflows)

    records = ((record.sequence_number, record.data) for record in batch)
    failures = workflow.process_batch(records, start)
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failures]}


@app.lambda_function(name="user_create")
def user_create(event: dict[str, Any], context: Any) -> dict[str, Any]:
    requested = state_machine.create_input(event)
    outcome = steps.create_user(requested.operation_id, requested.request, wiring.users())
    return state_machine.outcome_payload(outcome)


@app.lambda_function(name="user_approve")
def user_approve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = state_machine.approval_input(event)
    outcome = steps.approve_user(
        step.outcome,
        settings().denied_email_domains,
        wiring.users(),
        wiring.review_policy(),
        wiring.reviews(),
        metrics=wiring.metrics(),
    )
    return state_machine.outcome_payload(outcome)


@app.lambda_function(name="user_review_request")
def user_review_request(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Puts the user before a person; the workflow waits until the decision resumes it."""
    requested, token = state_machine.review_request(event)
    steps.request_review(
        requested,
        token,
        wiring.reviews(),
        wiring.operations(),
        wiring.review_notifications(),
        metrics=wiring.metrics(),
    )
    return {}


@app.lambda_function(name="user_create_response")
def user_create_response(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = state_machine.step_input(event)
    recorded = steps.record_outcome(
        step.operation_id,
        step.outcome,
        wiring.users(),
        wiring.operations(),
        metrics=wiring.metrics(),
    )
    return state_machine.recorded_payload(step.outcome, recorded)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="sweeper")
def sweeper(event: Any) -> dict[str, int]:
    measured = wiring.metrics()
    report = workflow.sweep(
        clock.now(),
        wiring.sweep_policy(),
        wiring.operations(),
        wiring.events(),
        wiring.workflows(),
        metrics=measured,
    )
    reviews.count_waiting(wiring.reviews(), measured)
    workflow.measure_recorded_failures(wiring.operations(), measured)
    return {"republished": report.republished, "failed": report.failed}


# Last, after every route: each path answers a method it lacks with 405 and Allow.
edges.answer_other_methods(app)
