"""The emulator's AWS endpoint answers every call it does not implement as AWS answers a call
it does not know: 400 UnknownOperationException, in the service's protocol, naming the
operation; never moto's HTML 500 or its 404 "Not yet implemented". In process (moto's mock)
and over HTTP (moto's server, as `make run` serves it), for an operation of a service moto
has (JSON, query and REST protocols) and for a service moto lacks. TestState, which moto
lacks too, is answered on both doors alike.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from local.emulator import EMULATOR_CONFIG
from local.patches import registry
from local.patches.hooks import Hooks
from local.state.clock import Clock
from tests.conftest import emulated_aws
from tests.local_stack_process import free_port

UNSUPPORTED = [
    (
        "stepfunctions",
        "redrive_execution",
        {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e"},
        "RedriveExecution",
    ),
    (
        "stepfunctions",
        "validate_state_machine_definition",
        {"definition": "{}"},
        "ValidateStateMachineDefinition",
    ),
    (
        "dynamodb",
        "describe_contributor_insights",
        {"TableName": "t"},
        "DescribeContributorInsights",
    ),
    ("sqs", "cancel_message_move_task", {"TaskHandle": "h"}, "CancelMessageMoveTask"),
    (
        "lambda",
        "get_function_recursion_config",
        {"FunctionName": "f"},
        "GetFunctionRecursionConfig",
    ),
    ("mediaconvert", "list_queues", {}, "ListQueues"),
]
NO_RETRIES = Config(retries={"max_attempts": 1})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto in process and its server on a free port, patched as the local stack is."""
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    # The server's threads read moto's global config: set for this module, then put back (left
    # set, every later mock_aws() of the worker would execute state machines).
    with (
        mock.patch.dict(default_user_config, EMULATOR_CONFIG),
        emulated_aws(EMULATOR_CONFIG),
        registry.applied(Hooks(clock=Clock(skip_sleeps=True))),
    ):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{server._port}"
        finally:
            server.stop()


@functools.cache  # building a client loads botocore's model again
def _client(service: str, endpoint: str | None) -> Any:
    if endpoint is None:
        return boto3.client(service, config=NO_RETRIES)  # type: ignore[call-overload]
    # Over HTTP, as against `make run`: TestState's host prefix cannot reach an IP address.
    config = NO_RETRIES.merge(Config(inject_host_prefix=False))
    return boto3.client(service, endpoint_url=endpoint, config=config)  # type: ignore[call-overload]


@pytest.mark.parametrize("door", ["in process", "over HTTP"])
@pytest.mark.parametrize("case", UNSUPPORTED, ids=[case[3] for case in UNSUPPORTED])
def test_an_unimplemented_call_gets_awss_answer_to_an_unknown_operation(endpoint, door, case):
    service, call, arguments, operation = case
    client = _client(service, endpoint if door == "over HTTP" else None)
    with pytest.raises(ClientError) as refused:
        getattr(client, call)(**arguments)
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "UnknownOperationException"
    assert f"{service} {operation}" in response["Error"]["Message"]


def test_the_answer_is_not_an_html_page(endpoint):
    """What a client that is not an AWS SDK sees: a JSON error of Step Functions' protocol."""
    response = requests.post(
        endpoint,  # a request the API's model takes (one it refuses is a ValidationException)
        data=json.dumps({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e"}),
        headers={
            "X-Amz-Target": "AWSStepFunctions.RedriveExecution",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 "
            "Credential=x/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=x",
        },
        timeout=5,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/x-amz-json")
    assert response.json()["__type"].endswith("UnknownOperationException")


def test_test_state_answers_alike_in_process_and_over_http(endpoint):
    request = {
        "definition": json.dumps(
            {
                "Type": "Pass",
                "InputPath": "$.a",
                "Result": {"b": 2},
                "ResultPath": "$.r",
                "Next": "N",
            }
        ),
        "input": '{"a": {"x": 1}}',
        "inspectionLevel": "DEBUG",
    }
    answers = []
    for door in (None, endpoint):
        answer = _client("stepfunctions", door).test_state(**request)
        answer.pop("ResponseMetadata")
        answers.append(answer)
    assert answers[0] == answers[1]
    assert answers[0]["nextState"] == "N"
    assert json.loads(answers[0]["output"]) == {"a": {"x": 1}, "r": {"b": 2}}
