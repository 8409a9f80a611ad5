"""In-process Lambdas: moto's Lambda invocations, and Step Functions' lambda:invoke tasks, run
the app's handlers through the local Lambda runtime (local/aws/lambda_runtime.py)."""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaFunction

from local.patches.hooks import Hooks


def invoke_in_process(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs)."""
    runtime = hooks.lambdas

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        payload, errored = runtime.run(self.function_name, event if event is not None else {})
        return payload, errored, ""

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
