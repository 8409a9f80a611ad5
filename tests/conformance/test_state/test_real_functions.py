"""Without a mock, TestState runs a Task state for real, as AWS does: it calls the function
with the execution role given ('When you are not using mocks, you must provide an execution
role that contains the required permissions for the resources your state accesses',
https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html). Locally the
function is the app's own handler, run in process (local/aws/lambda_runtime.py); the state is the
workflow's own, from the definition the stack deployed.
"""

from __future__ import annotations

import json
import uuid

import pytest

from infra.definition import resource_name
from tests.conftest import STAGE

ROLE = f"arn:aws:iam::123456789012:role/{resource_name(STAGE, 'workflow')}"


@pytest.fixture(scope="module")
def workflow(shared_stack):
    sfn = shared_stack.session.client("stepfunctions")
    assert shared_stack.resources is not None
    arn = shared_stack.resources.state_machine_arn
    return sfn, sfn.describe_state_machine(stateMachineArn=arn)["definition"]


def test_a_task_state_calls_the_real_function(shared_stack, workflow):
    """CreateUser, unmocked: the user_create function runs and creates the user; the state's
    Output makes the function's answer (the result's Payload) its output, and its Assign keeps
    the request."""
    sfn, definition = workflow
    request = {"operationId": str(uuid.uuid4()), "email": "grace@example.org", "name": "Grace"}
    answer = sfn.test_state(
        definition=definition,
        stateName="CreateUser",
        roleArn=ROLE,
        input=json.dumps(request),
        inspectionLevel="DEBUG",
    )
    assert answer["status"] == "SUCCEEDED"
    assert answer["nextState"] == "ApproveUser"
    result = json.loads(answer["inspectionData"]["result"])
    assert result["StatusCode"] == 200
    created = result["Payload"]
    assert set(created) == {"userId"}
    assert json.loads(answer["output"]) == created
    assert json.loads(answer["inspectionData"]["variables"]) == {"request": request}
    user = shared_stack.client.http.get(f"/users/{created['userId']}")
    assert user.status_code == 200
    assert json.loads(user.body)["email"] == "grace@example.org"


def test_a_functions_error_goes_to_the_states_catch(workflow):
    """CreateUser, unmocked, with an email the function cannot read: the function's error
    (its error type, and Lambda's error payload as the cause) is the state's, caught by its
    Catch (States.ALL) on to RecordFailure, with the step's failure in a variable."""
    sfn, definition = workflow
    answer = sfn.test_state(
        definition=definition,
        stateName="CreateUser",
        roleArn=ROLE,
        input=json.dumps({"operationId": str(uuid.uuid4()), "email": 5, "name": "Five"}),
        inspectionLevel="DEBUG",
    )
    assert answer["status"] == "CAUGHT_ERROR"
    assert answer["nextState"] == "RecordFailure"
    # The request's codec refuses an email that is not text (chalicelib/codecs.py).
    assert answer["error"] == "MalformedData"
    assert json.loads(answer["cause"])["errorType"] == "MalformedData"
    assert answer["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    assert json.loads(answer["output"])["Error"] == "MalformedData"
    failure = json.loads(answer["inspectionData"]["variables"])["failure"]
    assert failure == {
        "code": "USER_CREATE_FAILED",
        "message": "user-create failed: MalformedData",
    }


def test_a_states_own_data_error_is_caught_too(workflow):
    """ApproveUser without the request its Arguments read ($request, not given): the JSONata
    expression returns nothing, States.QueryEvaluationError before the function is called,
    caught on to RecordFailure."""
    sfn, definition = workflow
    answer = sfn.test_state(
        definition=definition,
        stateName="ApproveUser",
        roleArn=ROLE,
        input='{"userId": "u-1"}',
    )
    assert answer["status"] == "CAUGHT_ERROR"
    assert answer["error"] == "States.QueryEvaluationError"
    assert "'$request.operationId'" in answer["cause"]
    assert answer["nextState"] == "RecordFailure"
