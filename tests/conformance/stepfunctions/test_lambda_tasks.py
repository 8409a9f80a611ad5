"""Lambda tasks answer as on AWS: lambda:invoke's answer with the SDK's metadata, an unhandled
error in the Python runtime's format, a result over Step Functions' size limit, a function
that does not exist, the event a runtime error's cause names, the log's tail (LogType Tail).

Pages followed:
- https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html (lambda:invoke's
  output: ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode)
- https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html (errorMessage,
  errorType, requestId, stackTrace from the handler down, under /var/task)
- https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (256 KiB of task
  result) and concepts-error-handling.html (States.DataLimitExceeded)
The texts are those of AWS's recorded executions (docs/jsonata.md: the outside corpus).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import chalice
import pytest

from local.aws import lambda_runtime
from local.aws.lambda_runtime import PROJECT, deployed_path
from tests.machines import Machine, running

INVOKE = "arn:aws:states:::lambda:invoke"


def _arn(function: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{function}"


class Broken(Exception):
    pass


def broken(event: Any, context: Any) -> Any:
    raise Broken("no luck")


def logged(event: Any, context: Any) -> Any:
    logging.getLogger("logged").warning("counting %d items", 3)
    return {}


@pytest.fixture(scope="module")
def machine() -> Iterator[Machine]:
    with running() as machine:
        machine.function("echo", lambda event, context: event)
        machine.function("broken", broken)
        machine.function("logged", logged)
        machine.function("raw", lambda event, context: b'"HelloWorld!"')
        machine.function("huge", lambda event, context: b"a" * (257 * 1024))
        machine.function("unjsonable", lambda event, context: {"ids": {1, 2}})
        machine.function("marked", _marked)
        machine.function("versioned", lambda event, context: context.function_version)
        yield machine


_MARKS: list[Any] = []
_MARKED = threading.Event()


def _marked(event: Any, context: Any) -> Any:
    _MARKS.append(event)
    _MARKED.set()
    return "ran"


def _task(machine: Machine, resource: str, name: str, payload: Any = None) -> list[Any]:
    arn = _arn(name)
    task: dict[str, Any] = {"Type": "Task", "End": True}
    if resource == INVOKE:
        task.update(Resource=INVOKE, Parameters={"FunctionName": arn, "Payload": payload})
    else:
        task.update(Resource=arn)
    execution = machine.run({"T": task}, "T")
    machine.ended(execution, f"the {name} task")
    return list(machine.sfn.get_execution_history(executionArn=execution)["events"])


def _event(history: list[Any], kind: str) -> dict[str, Any]:
    (found,) = [event for event in history if event["type"] == kind]
    return dict(found)


def test_lambda_invoke_answers_with_the_sdk_metadata(machine: Machine):
    details = _event(_task(machine, INVOKE, "echo", {"a": 1}), "TaskSucceeded")
    answer = json.loads(details["taskSucceededEventDetails"]["output"])
    assert list(answer) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert (answer["Payload"], answer["StatusCode"]) == ({"a": 1}, 200)
    http = answer["SdkHttpMetadata"]
    assert http["HttpStatusCode"] == 200
    assert http["HttpHeaders"]["Content-Length"] == str(len(json.dumps({"a": 1})))
    assert http["HttpHeaders"]["x-amzn-RequestId"] == answer["SdkResponseMetadata"]["RequestId"]
    assert http["AllHttpHeaders"] == {k: [v] for k, v in http["HttpHeaders"].items()}
    assert http["HttpHeaders"]["X-Amzn-Trace-Id"].startswith("Root=1-")


@pytest.mark.parametrize(
    ("resource", "failed", "separators"),
    [
        # lambda:invoke re-writes the error compactly; a Lambda resource keeps the runtime's text
        (INVOKE, "TaskFailed", (",", ":")),
        ("function", "LambdaFunctionFailed", (", ", ": ")),
    ],
)
def test_an_unhandled_error_is_the_python_runtimes(machine: Machine, resource, failed, separators):
    event = _event(_task(machine, resource, "broken"), failed)
    details = event[
        "taskFailedEventDetails" if failed == "TaskFailed" else "lambdaFunctionFailedEventDetails"
    ]
    assert details["error"] == "Broken"
    cause = json.loads(details["cause"])
    assert json.dumps(cause, separators=separators) == details["cause"]
    assert list(cause) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (cause["errorMessage"], cause["errorType"]) == ("no luck", "Broken")
    (frame,) = cause["stackTrace"]  # the handler's frame: none of the runtime's
    assert frame.startswith(
        '  File "/var/task/tests/conformance/stepfunctions/test_lambda_tasks.py", line '
    )
    assert frame.endswith(', in broken\n    raise Broken("no luck")\n')


def test_bytes_a_function_returns_are_its_answer_as_they_are(machine: Machine):
    details = _event(_task(machine, INVOKE, "raw"), "TaskSucceeded")
    answer = json.loads(details["taskSucceededEventDetails"]["output"])
    assert answer["Payload"] == "HelloWorld!"
    assert answer["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "13"


@pytest.mark.parametrize(
    ("resource", "failed", "named"),
    [
        (INVOKE, "TaskFailed", "lambda"),
        ("function", "LambdaFunctionFailed", _arn("huge")),
    ],
)
def test_a_result_over_256_kib_is_a_data_limit_error(machine: Machine, resource, failed, named):
    event = _event(_task(machine, resource, "huge"), failed)
    details = event[
        "taskFailedEventDetails" if failed == "TaskFailed" else "lambdaFunctionFailedEventDetails"
    ]
    assert details["error"] == "States.DataLimitExceeded"
    assert details["cause"] == (
        f"The state/task '{named}' returned a result with a size exceeding the maximum number "
        "of bytes service limit."
    )


def test_a_function_that_does_not_exist_is_named_at_latest(machine: Machine):
    event = _event(_task(machine, INVOKE, "nowhere"), "TaskFailed")["taskFailedEventDetails"]
    assert event["error"] == "Lambda.ResourceNotFoundException"
    assert event["cause"].startswith(
        f"Function not found: {_arn('nowhere')}:$LATEST "
        "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; "
    )


def test_a_runtime_error_names_the_event_its_state_was_entered_at(machine: Machine):
    # The Task's result comes in events 3 to 5; the cause names its TaskStateEntered, event 2.
    arn = _arn("echo")
    task = {"Type": "Task", "Resource": arn, "OutputPath": "$.missing", "End": True}
    execution = machine.run({"T": task}, "T")
    machine.ended(execution, "the task")
    history = machine.sfn.get_execution_history(executionArn=execution)["events"]
    failed = _event(list(history), "ExecutionFailed")["executionFailedEventDetails"]
    assert failed["error"] == "States.Runtime"
    assert failed["cause"].startswith(
        "An error occurred while executing the state 'T' (entered at the event id #2). "
    )


def test_a_frame_is_named_where_lambda_has_the_file():
    # A Chalice package puts the app and the libraries it bundles under /var/task; the
    # virtualenv inside the project is where those libraries are here.
    assert deployed_path(chalice.__file__, PROJECT) == "/var/task/chalice/__init__.py"
    assert deployed_path(str(PROJECT / "app.py"), PROJECT) == "/var/task/app.py"
    assert deployed_path("/usr/lib/python3/json/decoder.py", PROJECT).startswith("/usr/lib/")


def test_a_failed_attempts_assignments_are_dropped(machine: Machine):
    # The Task assigns, then its ResultSelector fails and the Catch takes over: the state did
    # not complete, so its Assign is not made (the catcher's would be; this one has none).
    echo = _arn("echo")
    states = {
        "Store": {"Type": "Pass", "Assign": {"x": "old"}, "Next": "T"},
        "T": {
            "Type": "Task",
            "Resource": echo,
            "Assign": {"x": "new"},
            "ResultSelector": {"v.$": "$.missing"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Read"}],
            "Next": "Read",
        },
        "Read": {"Type": "Pass", "OutputPath": "$x", "End": True},
    }
    execution = machine.run(states, "Store")
    machine.ended(execution, "the caught task")
    described = machine.sfn.describe_execution(executionArn=execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", "old")


def test_a_branchs_failed_task_is_aborted_before_the_parallel_fails(machine: Machine):
    # AWS's recorded executions: TaskStateAborted right after the branch's failure, and what
    # follows the branch (ParallelStateFailed) follows the failure, not the abort.
    broken_arn = _arn("broken")
    branch = {
        "StartAt": "B",
        "States": {"B": {"Type": "Task", "Resource": broken_arn, "End": True}},
    }
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [branch],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "End": True},
    }
    execution = machine.run(states, "P")
    machine.ended(execution, "the parallel")
    history = list(machine.sfn.get_execution_history(executionArn=execution)["events"])
    failed = _event(history, "LambdaFunctionFailed")
    aborted = _event(history, "TaskStateAborted")
    after = _event(history, "ParallelStateFailed")
    assert (aborted["id"], aborted["previousEventId"]) == (failed["id"] + 1, failed["id"])
    assert (after["id"], after["previousEventId"]) == (aborted["id"] + 1, failed["id"])


@pytest.mark.parametrize("field", ["TimeoutSecondsPath", "HeartbeatSecondsPath"])
def test_a_task_whose_seconds_path_finds_nothing_fails_the_execution_once(machine: Machine, field):
    # AWS's recorded executions (LocalStack's test_invalid_jsonpath, January 2025): the
    # Task's entry, then one ExecutionFailed that says where it occurred.
    if field == "TimeoutSecondsPath":
        echo = _arn("echo")
        task = {"Type": "Task", "Resource": echo, "End": True}
    else:  # a heartbeat is a callback task's
        _, task = machine.callback_task("heartbeats")
    task[field] = "$.NoSuchPath"
    task.pop("TimeoutSeconds", None)
    execution = machine.run({"T": task}, "T")
    machine.ended(execution, "the task")
    history = list(machine.sfn.get_execution_history(executionArn=execution)["events"])
    assert [event["type"] for event in history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ExecutionFailed",
    ]
    assert history[2]["executionFailedEventDetails"] == {
        "error": "States.Runtime",
        "cause": "An error occurred while executing the state 'T' (entered at the event id #2). "
        "Invalid path '$.NoSuchPath' : No results for path: $['NoSuchPath']",
    }


def test_log_type_tail_answers_the_invocations_log(machine: Machine, monkeypatch):
    # LogType Tail (connect-lambda.html; recorded test_invoke_unsupported_param): LogResult
    # and the X-Amz-Log-Result header hold the last 4 KB of the invocation's log, base64, as
    # the Python runtime writes it (no formatter of an app's on its handler here).
    monkeypatch.setattr(lambda_runtime._INVOCATION_LOG, "formatter", None)
    states = {
        "T": {
            "Type": "Task",
            "Resource": INVOKE,
            "Parameters": {"FunctionName": _arn("logged"), "Payload": {}, "LogType": "Tail"},
            "End": True,
        }
    }
    execution = machine.run(states, "T")
    machine.ended(execution, "the task")
    history = list(machine.sfn.get_execution_history(executionArn=execution)["events"])
    answer = json.loads(_event(history, "TaskSucceeded")["taskSucceededEventDetails"]["output"])
    assert answer["SdkHttpMetadata"]["HttpHeaders"]["X-Amz-Log-Result"] == answer["LogResult"]
    log = base64.b64decode(answer["LogResult"]).decode()
    request = answer["SdkResponseMetadata"]["RequestId"]
    start, said, end, report, after = log.split("\n")
    assert start == f"START RequestId: {request} Version: $LATEST"
    assert re.fullmatch(
        rf"\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request}\tcounting 3 items",
        said,
    )
    assert end == f"END RequestId: {request}"
    assert report.startswith(f"REPORT RequestId: {request}\tDuration: ")
    assert after == ""


def test_the_invoke_api_answers_the_log_tail_too(machine: Machine):
    answer = boto3.client("lambda").invoke(FunctionName="logged", LogType="Tail")
    log = base64.b64decode(answer["LogResult"]).decode()
    assert log.startswith("START RequestId: ") and "counting 3 items" in log
    assert log.splitlines()[-1].startswith("REPORT RequestId: ")


def test_an_unhandled_error_is_logged_as_the_runtime_logs_it(machine: Machine):
    # The Python runtime logs an unhandled error as one entry (lines joined by \r); the local
    # stack's own line about it ("function broken raised Broken") is not the function's.
    answer = boto3.client("lambda").invoke(FunctionName="broken", LogType="Tail")
    assert answer["FunctionError"] == "Unhandled"  # API_Invoke.html: the runtime's error
    start, error, end, report, after = base64.b64decode(answer["LogResult"]).decode().split("\n")
    assert (start.split(" ")[0], end.split(" ")[0], report.split(" ")[0], after) == (
        "START",
        "END",
        "REPORT",
        "",
    )
    entry = error.split("\r")
    assert entry[:2] == ["[ERROR] Broken: no luck", "Traceback (most recent call last):"]
    assert entry[2].startswith('  File "/var/task/tests/conformance/stepfunctions/')


def test_a_refused_assignment_is_a_runtime_error_no_catch_takes(machine: Machine):
    # An iteration may read the outer variables, not assign them (workflow-variables.html,
    # "Variable scope"): the state that tries fails as it evaluates its Assign, with
    # States.Runtime, which its own Catch of States.ALL does not take (concepts-error-
    # handling.html: "A retry or catch on States.ALL won't catch States.Runtime errors").
    inner = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": _arn("echo"),
                "Assign": {"outer": 2},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    states = {
        "Store": {"Type": "Pass", "Assign": {"outer": 1}, "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": inner, "End": True},
    }
    execution = machine.sfn.start_execution(
        stateMachineArn=machine.sfn.create_state_machine(
            name="outer-write",
            definition=json.dumps({"StartAt": "Store", "States": states}),
            roleArn=machine.role,
        )["stateMachineArn"],
        input=json.dumps({"items": [1]}),
    )["executionArn"]
    machine.ended(execution, "the map")
    described = machine.sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert "The variable 'outer' belongs to an outer scope" in described["cause"]
    history = machine.sfn.get_execution_history(executionArn=execution)["events"]
    assert [
        e["stateEnteredEventDetails"]["name"] for e in history if e["type"] == "PassStateEntered"
    ] == ["Store"]


def test_the_runtimes_handler_leaves_the_processs_own_logs_on_stderr():
    # Its handler on the root logger would otherwise stop logging's last resort (and an app's
    # "if not root.handlers" set-up) from writing to stderr, in a process that set up nothing.
    script = (
        "import logging; from local.aws.lambda_runtime import InProcessLambdas; "
        "InProcessLambdas(); logging.getLogger('app').warning('still on stderr')"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PROJECT
    )
    assert ran.stderr.strip() == "still on stderr"


@pytest.mark.parametrize("caught", [False, True])
def test_a_seconds_path_that_finds_nothing_in_a_branch_records_no_failure_of_its_own(
    machine: Machine, caught
):
    # The Task's own failure has no event (AWS's recorded top-level history goes from its
    # TaskStateEntered to the execution's ExecutionFailed): in a Parallel branch, with or
    # without a Catch on States.ALL (which does not take a States.Runtime: the error-handling
    # page), no ExecutionFailed appears before the execution's end.
    task = {"Type": "Task", "Resource": _arn("echo"), "TimeoutSecondsPath": "$.no", "End": True}
    parallel: dict[str, Any] = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "T", "States": {"T": task}}],
        "End": True,
    }
    if caught:
        parallel["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]
        parallel.pop("End")
        parallel["Next"] = "Done"
    done = {"Done": {"Type": "Pass", "End": True}} if caught else {}
    execution = machine.run({"P": parallel, **done}, "P")
    machine.ended(execution, "the parallel")
    kinds = [e["type"] for e in machine.sfn.get_execution_history(executionArn=execution)["events"]]
    assert kinds.count("ExecutionFailed") == 1
    assert kinds[-1] == "ExecutionFailed"


def _answer(machine: Machine, resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The task's answer, read from DescribeExecution (which must be able to give it)."""
    task = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    execution = machine.run({"T": task}, "T")
    machine.ended(execution, "the task")
    described = machine.sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED", described.get("cause")
    return dict(json.loads(described["output"]))


@pytest.mark.parametrize(
    ("payload", "received"),
    [({"a": 1}, {"a": 1}), ("text", "text"), ('{"a": 1}', '{"a": 1}')],
)
def test_aws_sdk_lambda_invoke_answers_the_functions_text(machine: Machine, payload, received):
    # A blob parameter is the compact JSON text of its value, a string's too (quoted), and a
    # streamed answer is the text it holds: AWS's recorded executions of aws-sdk:s3 putObject
    # (Body "text data" stored as '"text data"', {"Dict": "Value"} as '{"Dict":"Value"}') and
    # getObject (Body the object's text) (LocalStack snapshot test_aws_sdk_task_service,
    # 2025-06-11). moto gave the Python repr of a stream (a 500 from DescribeExecution after)
    # and failed an object payload with Python's parser text.
    parameters = {"FunctionName": "echo", "Payload": payload}
    answer = _answer(machine, "arn:aws:states:::aws-sdk:lambda:invoke", parameters)
    assert answer == {"StatusCode": 200, "Payload": json.dumps(received)}


def test_an_aws_sdk_answer_is_pascal_cased_json(machine: Machine):
    # AWS's recorded aws-sdk:sfn startExecution answer is {"ExecutionArn", "StartDate"}
    # (LocalStack snapshot test_aws_sdk_task_service test_sfn_start_execution, 2025-06-11);
    # moto kept boto3's camelCase and a datetime DescribeExecution could not write (a 500).
    # The date's text is ours: no recording shows it.
    child = machine.sfn.create_state_machine(
        name="child",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=machine.role,
    )["stateMachineArn"]
    answer = _answer(
        machine, "arn:aws:states:::aws-sdk:sfn:startExecution", {"StateMachineArn": child}
    )
    assert list(answer) == ["ExecutionArn", "StartDate"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", answer["StartDate"])


def test_an_event_invocation_answers_202_and_runs_the_function_later(machine: Machine):
    # https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: "For the Event invocation
    # type, this status code is 202"; Event queues the invocation, "The API response only
    # includes a status code" (Payload empty; no X-Amz-Executed-Version: ours, no recording).
    _MARKED.clear()
    answer = _answer(
        machine, INVOKE, {"FunctionName": "marked", "InvocationType": "Event", "Payload": {"n": 1}}
    )
    assert (answer["StatusCode"], answer["Payload"]) == (202, "")
    assert answer["SdkHttpMetadata"]["HttpStatusCode"] == 202
    assert "ExecutedVersion" not in answer
    assert _MARKED.wait(5)  # the function ran, on its own
    assert _MARKS[-1] == {"n": 1}


def test_a_dry_run_answers_204_and_does_not_run_the_function(machine: Machine):
    # API_Invoke.html: "For the DryRun invocation type, the status code is 204"; DryRun
    # validates the parameters and the caller's permission, the function is not run.
    before = machine.runtime.invocations.get("marked", 0)
    answer = _answer(machine, INVOKE, {"FunctionName": "marked", "InvocationType": "DryRun"})
    assert (answer["StatusCode"], answer["Payload"]) == (204, "")
    assert machine.runtime.invocations.get("marked", 0) == before


@pytest.mark.parametrize(
    "parameters",
    [{"FunctionName": _arn("versioned:7")}, {"FunctionName": "versioned", "Qualifier": "live"}],
)
def test_a_version_or_alias_that_does_not_exist_is_not_found(machine: Machine, parameters):
    # API_Invoke.html: ResourceNotFoundException "The resource specified in the request does
    # not exist"; lambda:invoke names it Lambda.ResourceNotFoundException with the SDK's cause,
    # as AWS's recorded executions show for a function that does not exist (see above).
    task = {"Type": "Task", "Resource": INVOKE, "Parameters": parameters, "End": True}
    execution = machine.run({"T": task}, "T")
    machine.ended(execution, "the task")
    history = list(machine.sfn.get_execution_history(executionArn=execution)["events"])
    failed = _event(history, "TaskFailed")["taskFailedEventDetails"]
    assert failed["error"] == "Lambda.ResourceNotFoundException"
    qualifier = "7" if "Qualifier" not in parameters else "live"
    assert failed["cause"].startswith(f"Function not found: {_arn('versioned')}:{qualifier} ")


def test_a_version_or_alias_runs_as_that_version(machine: Machine):
    # API_Invoke.html: ExecutedVersion "The version of the function that executed. When you
    # invoke a function with an alias, this indicates which version the alias resolved to."
    client = boto3.client("lambda")
    version = client.publish_version(FunctionName="versioned")["Version"]
    client.create_alias(FunctionName="versioned", Name="stable", FunctionVersion=version)
    for name in (f"versioned:{version}", "versioned:stable"):
        answer = _answer(machine, INVOKE, {"FunctionName": name})
        assert (answer["ExecutedVersion"], answer["Payload"]) == (version, version)


def test_a_lambda_resource_that_does_not_exist_is_not_found(machine: Machine):
    # Named as lambda:invoke names it (Lambda.ResourceNotFoundException, the SDK's cause), as
    # AWS Step Functions Local writes it for a Lambda resource
    # (https://github.com/codetheweb/serverless-step-functions-local/issues/3); no recording
    # of AWS shows the case. moto said `Exception`.
    failed = _event(_task(machine, "function", "nowhere"), "LambdaFunctionFailed")
    details = failed["lambdaFunctionFailedEventDetails"]
    assert details["error"] == "Lambda.ResourceNotFoundException"
    assert details["cause"].startswith(
        f"Function not found: {_arn('nowhere')}:$LATEST (Service: AWSLambda; Status Code: 404; "
    )


def test_a_result_json_cannot_write_is_the_runtimes_marshal_error(machine: Machine):
    # Lambda's Python runtime (awslambdaric, lambda_runtime_marshaller.py and bootstrap.py):
    # FaultException Runtime.MarshalError "Unable to marshal response: <why>", no stack trace;
    # ours named the host's json module's frames.
    failed = _event(_task(machine, INVOKE, "unjsonable"), "TaskFailed")["taskFailedEventDetails"]
    assert failed["error"] == "Runtime.MarshalError"
    cause = json.loads(failed["cause"])
    assert cause["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert (cause["errorType"], cause["stackTrace"]) == ("Runtime.MarshalError", [])
