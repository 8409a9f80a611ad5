"""A TestState mock result checked against botocore's model of the API the state calls, as
AWS checks it (https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html,
"Mock validation modes"):

- STRICT (the default): every required field is present, and every present field has the
  model's type, enum value, length and range;
- PRESENT: only the fields present are checked;
- NONE: nothing is checked.

Fields the model does not define are ignored in every mode. Step Functions names a field as
the model does with its first letter upper-cased (`ExecutionArn` for Step Functions'
`executionArn`): a field spelled otherwise is a field the model does not define. The
messages are AWS's ("Mock result schema validation error: Field 'StatusCode' must be a
number").
"""

from __future__ import annotations

import functools
import gzip
import os
import re
from collections.abc import Mapping
from typing import Any, cast

from botocore import xform_name
from botocore.loaders import Loader
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    Shape,
    StringShape,
    StructureShape,
)
from botocore.session import get_session
from moto.core.utils import get_service_model

MODES = ("STRICT", "PRESENT", "NONE")

# A `.sync` task's result is what Step Functions polls for, so its mock is checked against
# the polling API (the TestState page: `startExecution.sync:2` is checked against
# DescribeExecution). The integrations moto runs, and the API each polls.
SYNC_POLLED = {
    ("stepfunctions", "start_execution"): "DescribeExecution",
    ("batch", "submit_job"): "DescribeJobs",
    ("ecs", "run_task"): "DescribeTasks",
    ("glue", "start_job_run"): "GetJobRun",
}

# The optimised Lambda integration hands the function's payload on as JSON, not as the
# model's blob: the guide's own mock is `{"Payload": {"statusCode": 200, ...}}`; so does the
# Bedrock integration the model's answer (connect-bedrock.html: its result's `Body`).
FREE_FIELDS = {
    ("lambda", "Invoke"): frozenset({"Payload"}),
    ("bedrock-runtime", "InvokeModel"): frozenset({"Body"}),
}


class MockRejected(Exception):
    """The mock does not match the API's model: AWS's ValidationException message."""


# Optimised integrations whose operation is in another botocore service (the Bedrock
# integration's invokeModel is bedrock-runtime's InvokeModel; its other operations bedrock's).
INTEGRATION_OPERATIONS = {("bedrock", "invoke_model"): "bedrock-runtime"}


@functools.cache
def operation(service: str, action: str) -> OperationModel | None:
    """botocore's model of the operation `action` (snake_case or as the model spells it) of
    the service Step Functions names `service` (an optimised integration's name, an AWS SDK
    integration's, or botocore's own), or None when botocore does not know it."""
    name = INTEGRATION_OPERATIONS.get((service, action)) or _botocore_name(service)
    if name is None:
        return None
    model = get_service_model(name)
    names = {name: name for name in model.operation_names}
    names.update({xform_name(name): name for name in model.operation_names})
    found = names.get(action)
    return None if found is None else model.operation_model(found)


def _botocore_name(service: str) -> str | None:
    """botocore's name of a service as a Task's resource names it: the AWS SDK integrations
    name a service by its SDK client (`aws-sdk:eventbridge`, `aws-sdk:cloudwatchlogs`), which
    is botocore's serviceId in lower case without spaces or hyphens (EventBridge is
    botocore's events, CloudWatch Logs its logs). The serviceIds are read (about 50 ms, once)
    only for a name that is not botocore's own."""
    if service in _services():
        return service
    return _service_ids().get(service)


@functools.cache
def _services() -> tuple[str, ...]:
    """botocore's names of its services, in its order."""
    return tuple(_loader().list_available_services("service-2"))


def _loader() -> Loader:
    return cast(Loader, get_session().get_component("data_loader"))


@functools.cache
def _service_ids() -> dict[str, str]:
    """botocore's services by their serviceId, lower-cased without spaces or hyphens."""
    loader = _loader()
    found = {}
    for name in _services():
        service_id = _service_id(loader, name)
        if service_id is not None:
            found[re.sub(r"[\s-]", "", service_id).lower()] = name
    return found


def _service_id(loader: Loader, name: str) -> str | None:
    """A service's serviceId, read from the head of its model (its metadata comes first):
    parsing 440 models whole takes seconds, this a few milliseconds."""
    version = loader.determine_latest_version(name, "service-2")
    for base in loader.search_paths:
        path = os.path.join(base, name, version, "service-2.json")
        for candidate, opener in ((f"{path}.gz", gzip.open), (path, open)):
            if os.path.exists(candidate):
                with opener(candidate, "rt", encoding="utf-8") as model:
                    found = re.search(r'"serviceId"\s*:\s*"([^"]+)"', model.read(4096))
                return found.group(1) if found else None
    return None


def check(result: Any, operation_model: OperationModel, mode: str) -> None:
    """Raises MockRejected if `result` does not fit the operation's output in `mode`."""
    shape = operation_model.output_shape
    if mode == "NONE" or shape is None:
        return
    if not isinstance(result, dict):
        raise MockRejected("Mocked result must be a JSON object.")
    service = operation_model.service_model.service_name
    free = FREE_FIELDS.get((service, operation_model.name), frozenset())
    _Checker(strict=mode == "STRICT", free=free).structure(result, shape)


def sfn_cased(member: str) -> str:
    """The name Step Functions gives a model's field in a task's result."""
    return member[:1].upper() + member[1:]


class _Checker:
    def __init__(self, strict: bool, free: frozenset[str]) -> None:
        self.strict = strict
        self.free = free

    def structure(self, value: Mapping[str, Any], shape: Shape) -> None:
        assert isinstance(shape, StructureShape)
        members = {sfn_cased(name): member for name, member in shape.members.items()}
        if self.strict:
            for required in shape.required_members:
                if sfn_cased(required) not in value:
                    raise _rejected(f"Required field '{sfn_cased(required)}' is missing")
        for field, field_value in value.items():
            if field in members and field not in self.free:
                self.value(field_value, members[field], field)

    def value(self, value: Any, shape: Shape, field: str) -> None:
        kind = shape.type_name
        if kind == "document":
            return
        if kind == "structure":
            _expect(isinstance(value, dict), field, "an object")
            self.structure(value, shape)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            _expect(isinstance(value, list), field, "an array")
            _bounded(len(value), shape, field, length=True)
            for item in value:
                self.value(item, shape.member, field)
        elif kind == "map":
            assert isinstance(shape, MapShape)
            _expect(isinstance(value, dict), field, "an object")
            for item in value.values():
                self.value(item, shape.value, field)
        elif kind in ("string", "timestamp", "blob"):
            _expect(isinstance(value, str), field, "a string")
            if isinstance(shape, StringShape) and shape.enum and value not in shape.enum:
                raise _rejected(f"Field '{field}' is not an expected value")
            if kind != "timestamp":
                _bounded(len(value), shape, field, length=True)
        elif kind in ("integer", "long"):
            _expect(isinstance(value, int) and not isinstance(value, bool), field, "a number")
            _bounded(value, shape, field, length=False)
        elif kind in ("float", "double"):
            _expect(
                isinstance(value, int | float) and not isinstance(value, bool), field, "a number"
            )
            _bounded(value, shape, field, length=False)
        elif kind == "boolean":
            _expect(isinstance(value, bool), field, "a boolean")


def _expect(holds: bool, field: str, kind: str) -> None:
    if not holds:
        raise _rejected(f"Field '{field}' must be {kind}")


def _bounded(size: float, shape: Shape, field: str, length: bool) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise _rejected(
            f"Field '{field}' is smaller than the minimum length"
            if length
            else f"Field '{field}' is less than the minimum value"
        )
    if high is not None and size > high:
        raise _rejected(
            f"Field '{field}' is larger than the maximum length"
            if length
            else f"Field '{field}' exceeds the maximum value"
        )


def _rejected(detail: str) -> MockRejected:
    return MockRejected(f"Mock result schema validation error: {detail}")
