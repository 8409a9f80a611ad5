"""In-process Lambdas: moto's Lambda invocations, and Step Functions' lambda:invoke tasks, run
the app's handlers through the local Lambda runtime (local/aws/lambda_runtime.py)."""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import make_function_arn
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.patches.hooks import Hooks


def invoke_in_process(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs)."""
    runtime = hooks.lambdas

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        reply = runtime.invoke(self.function_name, event if event is not None else {})
        # moto answers this with the invocation (base64-encoded, as X-Amz-Log-Result)
        return reply.payload, reply.errored, reply.tail().decode(errors="ignore")

    return _invoke_lambda


def step_functions_shortcut(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces lambda_eval_utils._invoke_lambda_function(parameters, region, credentials)."""
    runtime = hooks.lambdas

    def _invoke_lambda_function(
        parameters: dict[str, Any], region: str, state_credentials: Any
    ) -> dict[str, Any]:
        response = runtime.step_functions_task(parameters)
        if response is None:  # not one of ours: moto's own way
            return dict(original(parameters, region, state_credentials))
        return response

    return _invoke_lambda_function


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
    lambda:invoke's is)."""

    @functools.wraps(original)
    def _from_error(self: Any, env: Environment, ex: Exception) -> Any:
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
