"""Callback tasks' tokens and activities, as AWS answers them.

SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat's errors, in each API reference page
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html,
API_SendTaskFailure.html, API_SendTaskHeartbeat.html): InvalidOutput "The provided JSON output
data is not valid", InvalidToken "The provided token is not valid", TaskTimedOut "The task
token has either expired or the task associated with the token has already been closed".
AWS's words: InvalidToken's recorded (LocalStack snapshot test_sfn_send_task_outcome_with_no_
such_token, 2025-11), TaskTimedOut's as AWS answered a user's late and second callbacks
(andybalham/blog-source-code, "Handling Step Function Task Token failures with CDK").
"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import botocore.exceptions
import pytest

from tests.conformance.stepfunctions.conftest import Machines

pytestmark = pytest.mark.conformance

TIMED_OUT = "Task Timed Out: 'Provided task does not exist anymore'"
ERROR_PAGE = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"


class Callback:
    """A state machine whose task W sends its token to a queue and waits for the answer."""

    def __init__(self, machines: Machines, name: str, **task: Any) -> None:
        self.machines = machines
        self.sqs = boto3.client("sqs")
        self.queue = str(self.sqs.create_queue(QueueName=name)["QueueUrl"])
        self.task = {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": self.queue, "MessageBody": {"token.$": "$$.Task.Token"}},
            **({} if "Next" in task else {"End": True}),
            **task,
        }

    def start(self, **states: Any) -> str:
        definition = {"StartAt": "W", "States": {"W": self.task, **states}}
        return self.machines.start(definition)

    def token(self) -> str:
        """The token of the next task that has sent one (taken off the queue)."""
        for _ in range(500):
            for message in self.sqs.receive_message(QueueUrl=self.queue).get("Messages", []):
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
                return str(json.loads(message["Body"])["token"])
            PAUSE.wait(0.01)
        raise AssertionError("no task sent its token")


PAUSE = threading.Event()  # never set: a pause while an execution's thread runs


def refusal(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call(**request)
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


def test_output_that_is_no_json_is_refused_and_the_task_still_waits(machines: Machines):
    # API_SendTaskSuccess: InvalidOutput. The words are ours (no recording).
    callback = Callback(machines, "no-json")
    arn = callback.start()
    token = callback.token()
    sfn = machines.sfn
    code, message = refusal(sfn.send_task_success, taskToken=token, output="not json")
    assert code == "InvalidOutput"
    assert message == (
        "Invalid Output: 'Unrecognized token 'not': was expecting (JSON String, Number, Array, "
        "Object or token 'null', 'true' or 'false')'"
    )
    assert refusal(sfn.send_task_success, taskToken=token, output="")[0] == "InvalidOutput"
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output='{"done": true}')
    described = machines.finished(arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"done": True}


def test_an_answer_over_a_limit_is_refused_and_the_task_still_waits(machines: Machines):
    # API_SendTaskSuccess: output's "Maximum length of 262144 ... expressed as bytes in UTF-8
    # encoding"; API_SendTaskFailure: error at most 256, cause at most 32768. AWS's form of a
    # ValidationException for a sensitive member (test_api.py).
    callback = Callback(machines, "limits")
    arn = callback.start()
    token = callback.token()
    sfn = machines.sfn
    too_long = "1 validation error detected: Value at '{}' failed to satisfy constraint: Member "
    too_long += "must have length less than or equal to {}"
    output = json.dumps("é" * 131_072, ensure_ascii=False)  # 131,074 characters, 262,146 bytes
    assert refusal(sfn.send_task_success, taskToken=token, output=output) == (
        "ValidationException",
        too_long.format("output", 262144),
    )
    assert refusal(sfn.send_task_failure, taskToken=token, error="e" * 257) == (
        "ValidationException",
        too_long.format("error", 256),
    )
    assert refusal(sfn.send_task_failure, taskToken=token, cause="c" * 32769) == (
        "ValidationException",
        too_long.format("cause", 32768),
    )
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    fits = json.dumps("é" * 131_070, ensure_ascii=False)  # 262,142 bytes
    sfn.send_task_success(taskToken=token, output=fits)
    assert machines.finished(arn)["status"] == "SUCCEEDED"


def test_a_failure_records_its_error_and_cause(machines: Machines):
    # AWS's recorded execution (LocalStack snapshot test_sqs_failure_in_wait_for_task_token,
    # 2024-04): TaskFailed and ExecutionFailed carry the error and the cause sent.
    callback = Callback(machines, "failure")
    arn = callback.start()
    machines.sfn.send_task_failure(
        taskToken=callback.token(), error="Failure error", cause="Failure cause"
    )
    described = machines.finished(arn)
    assert (described["error"], described["cause"]) == ("Failure error", "Failure cause")
    failed = machines.history(arn)[-2]
    assert failed["type"] == "TaskFailed"
    assert failed["taskFailedEventDetails"] == {
        "cause": "Failure cause",
        "error": "Failure error",
        "resource": "sendMessage.waitForTaskToken",
        "resourceType": "sqs",
    }


def test_a_token_whose_task_has_ended_is_task_timed_out(machines: Machines):
    sfn = machines.sfn
    answers: list[tuple[str, dict[str, Any]]] = [
        ("send_task_success", {"output": '"late"'}),
        ("send_task_failure", {"error": "Late"}),
        ("send_task_heartbeat", {}),
    ]

    def all_timed_out(token: str) -> None:
        for call, request in answers:
            refused = refusal(getattr(sfn, call), taskToken=token, **request)
            assert refused == ("TaskTimedOut", TIMED_OUT), call

    # Answered: its execution went on and ended; answered again while a catcher runs on.
    callback = Callback(machines, "ended", HeartbeatSeconds=60, TimeoutSeconds=600)
    arn = callback.start()
    token = callback.token()
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output='"done"')
    assert machines.finished(arn)["status"] == "SUCCEEDED"
    all_timed_out(token)

    # Timed out (its heartbeat), the execution still running in the catcher's Wait.
    callback = Callback(
        machines,
        "timed-out",
        HeartbeatSeconds=5,
        TimeoutSeconds=600,
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Later"}],
        Next="Later",
    )
    arn = callback.start(Later={"Type": "Wait", "Seconds": 3600, "End": True})
    token = callback.token()
    machines.clock.advance(10)
    for _ in range(500):
        if any(e["type"] == "WaitStateEntered" for e in machines.history(arn)):
            break
        PAUSE.wait(0.01)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    all_timed_out(token)

    # Its execution stopped while the task waited.
    callback = Callback(machines, "stopped")
    arn = callback.start()
    token = callback.token()
    sfn.stop_execution(executionArn=arn)
    all_timed_out(token)


def test_a_token_no_task_had_is_invalid_token(machines: Machines):
    # AWS's recorded words (test_sfn_send_task_outcome_with_no_such_token).
    sfn = machines.sfn
    invalid = ("InvalidToken", "Invalid Token: 'Invalid token'")
    assert refusal(sfn.send_task_success, taskToken="garbage", output="{}") == invalid
    assert refusal(sfn.send_task_failure, taskToken="garbage") == invalid
    assert refusal(sfn.send_task_heartbeat, taskToken="garbage") == invalid


def test_a_waiting_task_takes_a_heartbeat_without_heartbeat_seconds(machines: Machines):
    # API_SendTaskHeartbeat: errors only for a token that is not valid or whose task has
    # ended; a heartbeat for a task that has no HeartbeatSeconds resets nothing.
    callback = Callback(machines, "no-heartbeat-seconds")
    arn = callback.start()
    token = callback.token()
    machines.sfn.send_task_heartbeat(taskToken=token)
    machines.sfn.send_task_success(taskToken=token, output="1")
    assert machines.finished(arn)["status"] == "SUCCEEDED"


@pytest.mark.parametrize("field", ["Catch", "Retry"])
def test_a_heartbeat_timeout_is_taken_by_states_heartbeat_timeout(machines: Machines, field: str):
    # The error-handling page (ERROR_PAGE): "States.HeartbeatTimeout: A Task state failed to
    # send a heartbeat for a period longer than the HeartbeatSeconds value ... only available
    # inside the Catch and Retry fields". The error is States.Timeout, as AWS records it
    # (TaskTimedOut, LocalStack snapshot test_heartbeat_timeout, 2024-04).
    handler: dict[str, Any] = {"ErrorEquals": ["States.HeartbeatTimeout"]}
    if field == "Catch":
        handler.update(Next="Caught", ResultPath="$.error")
    else:
        handler.update(MaxAttempts=1, IntervalSeconds=1)
    callback = Callback(
        machines, f"heartbeat-{field.lower()}", HeartbeatSeconds=5, TimeoutSeconds=600
    )
    callback.task[field] = [handler]
    caught = {"Caught": {"Type": "Pass", "End": True}} if field == "Catch" else {}
    arn = callback.start(**caught)
    callback.token()
    machines.clock.advance(10)
    if field == "Retry":
        token = callback.token()  # the second attempt's
        machines.sfn.send_task_success(taskToken=token, output='"second"')
    described = machines.finished(arn)
    assert described["status"] == "SUCCEEDED"
    events = machines.history(arn)
    timed_out = [e["taskTimedOutEventDetails"] for e in events if e["type"] == "TaskTimedOut"]
    assert timed_out == [
        {
            "error": "States.Timeout",
            "resource": "sendMessage.waitForTaskToken",
            "resourceType": "sqs",
        }
    ]
    if field == "Catch":
        assert json.loads(described["output"])["error"] == {"Error": "States.Timeout", "Cause": ""}
    else:
        assert json.loads(described["output"]) == "second"


def test_a_task_timeout_is_not_a_heartbeat_timeout(machines: Machines):
    # ERROR_PAGE: States.Timeout is a task that "ran longer than the TimeoutSeconds value";
    # States.HeartbeatTimeout only a missed heartbeat.
    callback = Callback(
        machines,
        "task-timeout",
        TimeoutSeconds=5,
        Catch=[{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}],
        Next="Caught",
    )
    arn = callback.start(Caught={"Type": "Pass", "End": True})
    callback.token()
    machines.clock.advance(10)
    described = machines.finished(arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")


def test_an_activity_that_does_not_exist_fails_the_execution(machines: Machines):
    # AWS's recorded execution (LocalStack snapshot test_activity_task_on_deleted, 2024-03):
    # the state machine is created after the activity was deleted; the execution fails with
    # States.Runtime right after TaskStateEntered.
    sfn = machines.sfn
    activity = sfn.create_activity(name="deleted")["activityArn"]
    sfn.delete_activity(activityArn=activity)
    arn = machines.start(
        {
            "StartAt": "ActivityTask",
            "States": {"ActivityTask": {"Type": "Task", "Resource": activity, "End": True}},
        },
        {"Value1": "HelloWorld"},
    )
    described = machines.finished(arn)
    cause = (
        "An error occurred while executing the state 'ActivityTask' (entered at the event id "
        f"#2). The activity {activity} does not exist."
    )
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "States.Runtime",
        cause,
    )
    events = machines.history(arn)
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ExecutionFailed",
    ]
    assert events[-1]["previousEventId"] == 2
    assert events[-1]["executionFailedEventDetails"] == {"error": "States.Runtime", "cause": cause}


def test_an_activity_that_exists_fails_saying_the_engine_does_not_run_activities(
    machines: Machines,
):
    # The engine's own (docs/stepfunctions-local.md: GetActivityTask is not implemented, so
    # no worker could take the task): in the form of AWS's failure for a missing activity.
    sfn = machines.sfn
    activity = sfn.create_activity(name="worker")["activityArn"]
    task = {"Type": "Task", "Resource": activity, "TimeoutSeconds": 60, "End": True}
    described = machines.run({"StartAt": "A", "States": {"A": task}})
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == (
        "An error occurred while executing the state 'A' (entered at the event id #2). The "
        f"activity {activity} cannot run on the local engine: it does not implement "
        "GetActivityTask, so no worker could take the task (docs/stepfunctions-local.md)."
    )
