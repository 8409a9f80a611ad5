"""Task tokens as AWS answers them, and activities the engine cannot run. Registered in
local/patches/registry.py.

SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat (API reference, each page's Errors):
`InvalidToken` "The provided token is not valid" (in AWS's recorded words, moto's already);
`TaskTimedOut` "The task token has either expired or the task associated with the token has
already been closed"; SendTaskSuccess's `InvalidOutput` "The provided JSON output data is not
valid". moto answered InvalidToken for a token whose task had ended (SendTaskFailure: 200,
doing nothing), took output that is no JSON and then failed the waiting execution with
Python's parser text, dropped SendTaskFailure's cause, and refused a heartbeat for a task
without HeartbeatSeconds.

A token's task has ended once it has an outcome, once the frame it waits in has ended (it
timed out, or its execution failed, stopped or moved on), or once its execution is no longer
running.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any, Final

from moto.core.responses import EmptyResult
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType, InvalidToken
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    CallbackOutcome,
    CallbackOutcomeFailure,
    CallbackOutcomeSuccess,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local.aws.stepfunctions import answers
from local.aws.stepfunctions.failures import states_failure
from local.patches.hooks import Hooks
from local.patches.teststate import AwsError

# The frame each callback task waits in, by its token's endpoint (a frame no longer held by
# anything has ended).
_WAITS_IN: weakref.WeakKeyDictionary[CallbackEndpoint, weakref.ref[Environment]] = (
    weakref.WeakKeyDictionary()
)
# One answer at a time decides whether a task still waits, and ends its wait.
_ANSWERING: Final = threading.Lock()


def _waits_recorded(original: Any) -> Any:
    """Wraps StateTaskServiceCallback._eval_integration_pattern(self, env, ...): notes the
    frame a `.waitForTaskToken` task waits in, so that an answer after the wait sees it ended."""

    @functools.wraps(original)
    def eval_integration_pattern(
        self: Any,
        env: Environment,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        task = env.states.context_object.context_object_data.get("Task")
        endpoint = None if task is None else env.callback_pool_manager.get(task["Token"])
        if endpoint is not None:
            _WAITS_IN[endpoint] = weakref.ref(env)
        original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    return eval_integration_pattern


def _waiting(backend: Any, token: str) -> CallbackEndpoint:
    """The endpoint of the task still waiting with `token`: InvalidToken when no task has
    had it, TaskTimedOut when its task has ended."""
    for execution in backend._get_executions():
        worker = getattr(execution, "exec_worker", None)
        endpoint = None if worker is None else worker.env.callback_pool_manager.get(token)
        if endpoint is None:
            continue
        waits_in = _WAITS_IN.get(endpoint)
        frame = None if waits_in is None else waits_in()
        if (
            execution.status != ExecutionStatus.RUNNING
            or endpoint.get_outcome() is not None
            or (waits_in is not None and (frame is None or not frame.is_running()))
        ):
            raise AwsError("TaskTimedOut", answers.TASK_CLOSED)
        return endpoint
    raise InvalidToken()  # AWS's recorded words: "Invalid Token: 'Invalid token'"


def _answer(backend: Any, token: str, outcome: CallbackOutcome) -> None:
    with _ANSWERING:
        _waiting(backend, token).notify(outcome)


def task_answers(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionsParserBackend.send_task_success(self, task_token, outcome),
    send_task_failure(self, task_token, error, cause) and send_task_heartbeat(self,
    task_token): each answers as the module's docstring says; and wraps
    StateTaskServiceCallback._eval_integration_pattern, which notes where a task waits."""
    if name == "_eval_integration_pattern":
        return _waits_recorded(original)
    if name == "send_task_success":

        @functools.wraps(original)
        def send_task_success(self: Any, task_token: str, outcome: str) -> None:
            problem = answers.output_problem(outcome)
            if problem is not None:  # refused before the token is looked at (ours)
                raise AwsError("InvalidOutput", problem)
            _answer(self, task_token, CallbackOutcomeSuccess(task_token, outcome))

        return send_task_success

    if name == "send_task_failure":

        @functools.wraps(original)
        def send_task_failure(
            self: Any, task_token: str, error: str | None = None, cause: str | None = None
        ) -> None:
            _answer(self, task_token, CallbackOutcomeFailure(task_token, error, cause))

        return send_task_failure

    @functools.wraps(original)
    def send_task_heartbeat(self: Any, task_token: str) -> None:
        with _ANSWERING:
            _waiting(self, task_token).notify_heartbeat()  # nothing to reset: no HeartbeatSeconds

    return send_task_heartbeat


def failure_with_cause(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.send_task_failure(self), which passed the request's
    error on but not its cause: the task fails with both, as AWS's recorded executions show
    (test_sqs_failure_in_wait_for_task_token: "cause": "Failure cause")."""

    @functools.wraps(original)
    def send_task_failure(self: Any) -> EmptyResult:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return EmptyResult()

    return send_task_failure


def activities_not_run(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskActivity._eval_execution(self, env): an activity that does not exist
    fails the execution with States.Runtime, "The activity <arn> does not exist.", as AWS's
    recorded execution does (LocalStack snapshot test_activity_task_on_deleted, 2024-03: it
    fails straight after TaskStateEntered). One that exists fails the same way,
    saying that the local engine does not run activities (no GetActivityTask: a worker could
    never take the task); moto failed either with a Python TypeError as an ActivityFailed."""

    @functools.wraps(original)
    def eval_execution(self: Any, env: Environment) -> None:
        arn = self.resource.resource_arn
        if _activity_exists(arn):
            cause = (
                f"The activity {arn} cannot run on the local engine: it does not implement "
                "GetActivityTask, so no worker could take the task (docs/stepfunctions-local.md)."
            )
        else:
            cause = f"The activity {arn} does not exist."
        raise states_failure(
            env, StatesErrorNameType.StatesRuntime, cause, HistoryEventType.ExecutionFailed
        )

    return eval_execution


def _activity_exists(arn: str) -> bool:
    parts = arn.split(":")  # arn:aws:states:<region>:<account>:activity:<name>
    if len(parts) != 7:
        return False
    region, account = parts[3], parts[4]
    return arn in stepfunctions_parser_backends[account][region].activities
