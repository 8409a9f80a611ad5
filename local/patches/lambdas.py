"""In-process Lambdas: moto's Lambda invocations, and Step Functions' lambda:invoke tasks, run
the app's handlers through the local Lambda runtime (local/aws/lambda_runtime.py)."""

from __future__ import annotations

import functools
import json
from typing import Any, cast

from botocore.exceptions import ClientError
from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import make_function_arn
from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_lambda,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client

from local.aws.lambda_runtime import LATEST, qualified_name
from local.patches.hooks import Hooks


def invoke_in_process(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs)."""
    runtime = hooks.lambdas

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        # moto's invoke has read the request's JSON already, or stands "{}" in for no body:
        # the runtime is handed the event's JSON text, so that a string event stays a string
        text = event if event in (None, _NO_BODY) else json.dumps(event)
        reply = runtime.invoke(self.function_name, text or _NO_BODY)
        # moto answers this with the invocation (base64-encoded, as X-Amz-Log-Result)
        return reply.payload, reply.errored, reply.tail().decode(errors="ignore")

    return _invoke_lambda


_NO_BODY = "{}"  # what moto's LambdaFunction.invoke hands on for a request without a body


def step_functions_shortcut(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces lambda_eval_utils._invoke_lambda_function(parameters, region, credentials)."""
    runtime = hooks.lambdas

    def _invoke_lambda_function(
        parameters: dict[str, Any], region: str, state_credentials: Any
    ) -> dict[str, Any]:
        function, qualifier = qualified_name(str(parameters["FunctionName"]))
        qualifier = qualifier or parameters.get("Qualifier")
        version: str | None = LATEST
        if qualifier not in (None, LATEST):
            version = _version(function, str(qualifier), region, state_credentials)
        response = None
        if runtime.knows(function) and version is not None:
            response = runtime.step_functions_task(parameters, function, qualifier, version)
        if response is None:  # not one of ours, or refused: moto's own way (Lambda's answer)
            if "Qualifier" in parameters:  # which moto's Invoke API does not read
                named = f"{parameters['FunctionName']}:{parameters['Qualifier']}"
                parameters = {k: v for k, v in parameters.items() if k != "Qualifier"}
                parameters["FunctionName"] = named
            return dict(original(parameters, region, state_credentials))
        return response

    return _invoke_lambda_function


def _version(function: str, qualifier: str, region: str, state_credentials: Any) -> str | None:
    """The version a version number or alias names, as Lambda resolves it; None if the
    function has no such version or alias."""
    client: Any = boto_client.boto_client_for(
        service="lambda", region=region, state_credentials=state_credentials
    )
    try:
        found = client.get_function(FunctionName=function, Qualifier=qualifier)
    except ClientError as refused:
        if refused.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return str(found["Configuration"]["Version"])


# What Step Functions' lambda:invoke answers: Lambda's Invoke response as the AWS SDK for Java
# gives it (fields in its order), which moto cut down to the Python SDK's fields.
_INVOKE_ANSWER = (
    "ExecutedVersion",
    "LogResult",
    "Payload",
    "SdkHttpMetadata",
    "SdkResponseMetadata",
    "StatusCode",
)


def sdk_answer(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces lambda_eval_utils.execute_lambda_function_integration(env, parameters, region,
    state_credentials): the answer keeps Lambda's HTTP and request metadata."""

    def execute_lambda_function_integration(
        env: Environment, parameters: dict[str, Any], region: str, state_credentials: Any
    ) -> None:
        if env.is_mocked_mode():  # TestState's mocks: the mock is the whole answer
            original(env, parameters, region, state_credentials)
            return
        response = lambda_eval_utils._invoke_lambda_function(
            parameters=parameters, region=region, state_credentials=state_credentials
        )
        if function_error := response.get("FunctionError"):
            payload = json.dumps(response["Payload"], separators=(",", ":"))
            raise lambda_eval_utils.LambdaFunctionErrorException(function_error, payload)
        env.stack.append({key: response[key] for key in _INVOKE_ANSWER if key in response})

    return execute_lambda_function_integration


def error_as_written(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskLambda._from_error(self, env, ex): a Lambda resource's error cause is
    the function's error payload as its runtime wrote it, not re-written compactly (only
    lambda:invoke's is); Lambda's refusal of the invocation (a function that does not exist)
    is named as lambda:invoke names it, `Lambda.<error code>` with the SDK's cause, where moto
    said `Exception`."""

    @functools.wraps(original)
    def _from_error(self: Any, env: Environment, ex: Exception) -> Any:
        if isinstance(ex, ClientError):
            error, cause = (
                state_task_service_lambda.StateTaskServiceLambda._error_cause_from_client_error(ex)
            )
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error),
                event_type=HistoryEventType.LambdaFunctionFailed,
                event_details=cast(
                    EventDetails,
                    {
                        "lambdaFunctionFailedEventDetails": LambdaFunctionFailedEventDetails(
                            error=error, cause=cause
                        )
                    },
                ),
            )
        if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
            try:  # the Python runtime writes its error with json.dumps' default separators
                written = json.dumps(json.loads(ex.payload))
            except ValueError:
                written = ex.payload
            ex = lambda_eval_utils.LambdaFunctionErrorException(ex.function_error, written)
        return original(self, env, ex)

    return _from_error


def unknown_as_latest(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces LambdaBackend.invoke(self, function_name, qualifier, body, headers,
    response_headers): an unqualified invocation of a function that does not exist is
    refused naming the version it asked for, `...:function:NAME:$LATEST`, as Lambda does."""

    @functools.wraps(original)
    def invoke(self: Any, function_name: str, qualifier: str | None, *request: Any) -> Any:
        try:
            return original(self, function_name, qualifier, *request)
        except UnknownFunctionException:
            arn = function_name
            if not arn.startswith("arn:"):
                arn = make_function_arn(self.region_name, self.account_id, function_name)
            if qualifier is not None or arn.count(":") != _UNQUALIFIED_COLONS:
                raise
            raise UnknownFunctionException(f"{arn}:$LATEST") from None

    return invoke


_UNQUALIFIED_COLONS = 6  # arn:aws:lambda:REGION:ACCOUNT:function:NAME


def unhandled_errors(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces LambdaFunction.invoke(self, body, request_headers, response_headers): a
    function's uncaught error is answered with X-Amz-Function-Error `Unhandled`, as Lambda
    does (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html); moto said
    `Handled`, which Lambda says of no error the runtime reports."""

    @functools.wraps(original)
    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        answer = original(self, body, request_headers, response_headers)
        if response_headers.get("x-amz-function-error") == "Handled":
            response_headers["x-amz-function-error"] = "Unhandled"
        return answer

    return invoke


def invocation_type_kept(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskServiceLambda._get_supported_parameters(self): lambda:invoke passes
    InvocationType on to Lambda (connect-lambda.html lists it with ClientContext,
    FunctionName, Payload and Qualifier); moto dropped it, so Event and DryRun ran the
    function and answered 200."""

    @functools.wraps(original)
    def _get_supported_parameters(self: Any) -> set[str] | None:
        supported: set[str] | None = original(self)
        return None if supported is None else supported | {"InvocationType"}

    return _get_supported_parameters
