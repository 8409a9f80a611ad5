"""A service task's answer is JSON, and an aws-sdk task's is the service's as Step Functions
gives it. Registered in local/patches/registry.py.

- aws-sdk tasks: the parameters are given to the SDK as the API's model types them, and its
  answer comes back in the model's member names. moto's aws-sdk integration left out both steps
  of its own service tasks (`_to_boto_request`, `_from_boto_response`): a blob parameter
  (Lambda Invoke's `Payload`, S3 PutObject's `Body`) given a JSON value failed with Python's
  parser text, and a streamed blob came back as a Python object, its repr in the history and a
  500 from DescribeExecution. As AWS records (aws-sdk:s3 getObject and putObject, aws-sdk:sfn
  startExecution): a blob parameter is its value's compact JSON text (a string too, quoted), a
  streamed answer the text it holds, every member PascalCase.
- Every service task's result is a JSON value before it becomes the state's: a time as AWS's
  timestamp text, bytes as their base64 text (the JSON protocols' form of a blob), anything else
  no JSON encoder can write as its text; so no execution's output or history can make an API
  answer fail.
"""

from __future__ import annotations

import base64
import datetime
import functools
from typing import Any

from botocore import xform_name
from botocore.model import OperationModel, ServiceModel
from botocore.response import StreamingBody
from botocore.session import get_session

from local.aws.stepfunctions.answers import aws_timestamp
from local.patches.hooks import Hooks


@functools.cache
def _service(name: str) -> ServiceModel:
    return get_session().get_service_model(name)


def _operation(service: str, action: str) -> OperationModel | None:
    """The API operation an aws-sdk task calls (its action as the SDK's method names it)."""
    model = _service(service)
    for operation in model.operation_names:
        if xform_name(operation) == action:
            return model.operation_model(operation)
    return None


def modelled(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskServiceAwsSdk._eval_service_task(self, env, resource_runtime_part,
    normalised_parameters, state_credentials)."""

    @functools.wraps(original)
    def _eval_service_task(
        self: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        operation = _operation(self._get_boto_service_name(), self._get_boto_service_action())
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(normalised_parameters, operation.input_shape)
        original(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(env.stack[-1], operation.output_shape)

    return _eval_service_task


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
