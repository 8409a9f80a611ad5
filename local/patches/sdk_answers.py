"""Every service task's result is a JSON value before it becomes the state's: a time as AWS's
timestamp text, a streamed answer the text it holds, bytes as their base64 text (the JSON
protocols' form of a blob), anything else no JSON encoder can write as its text; so no
execution's output or history can make an API answer fail (an aws-sdk:lambda:invoke's streamed
Payload was a Python repr in the history, and DescribeExecution answered 500). The parameters
and answers of every service task, aws-sdk ones included, are named and typed by the API's
model in local/patches/nested.py (service-task-names): as AWS records for aws-sdk:s3 getObject
and putObject and aws-sdk:sfn startExecution, a blob parameter is its value's compact JSON
text (a string too, quoted), every member of an answer PascalCase. Registered in
local/patches/registry.py.
"""

from __future__ import annotations

import base64
import datetime
import functools
from typing import Any

from botocore.response import StreamingBody

from local.aws.stepfunctions.answers import aws_timestamp
from local.patches.hooks import Hooks


def json_value(value: Any) -> Any:
    """The value as JSON holds it (see the module's docstring)."""
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime.datetime):
        return aws_timestamp(value)
    if isinstance(value, StreamingBody):
        return value.read().decode("utf-8", "replace")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return str(value)


def json_results(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskService._after_eval_execution(self, env, resource_runtime_part,
    normalised_parameters, state_credentials): the task's result is a JSON value first."""

    @functools.wraps(original)
    def _after_eval_execution(
        self: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        env.stack[-1] = json_value(env.stack[-1])
        original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    return _after_eval_execution
