"""TestState calls for the conformance tests: the answer with its JSON texts parsed (a test
compares values, not spacing), or the refusal's code and message."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError
from botocore.model import StructureShape
from botocore.session import get_session

ROLE = "arn:aws:iam::123456789012:role/myRole"
# inspectionData's fields that are JSON text, as botocore's model has them: its strings, but
# "input" (the request's input, as given).
_INSPECTION = cast(
    StructureShape,
    get_session().get_service_model("stepfunctions").shape_for("InspectionData"),
)
JSON_FIELDS = {
    name for name, shape in _INSPECTION.members.items() if shape.type_name == "string"
} - {"input"}


def answer(sfn: Any, **request: Any) -> dict[str, Any]:
    """TestState's answer, its JSON texts parsed."""
    response = sfn.test_state(**request)
    assert response.pop("ResponseMetadata")["HTTPStatusCode"] == 200
    if "output" in response:
        response["output"] = json.loads(response["output"])
    inspection = response.get("inspectionData", {})
    for field in JSON_FIELDS & inspection.keys():
        inspection[field] = json.loads(inspection[field])
    return response


def refusal(sfn: Any, **request: Any) -> tuple[str, str]:
    """The error code and message of a request AWS refuses (always a 400)."""
    with pytest.raises(ClientError) as refused:
        sfn.test_state(**request)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


def definition(**state: Any) -> str:
    return json.dumps(state)


def task(resource: str, **fields: Any) -> str:
    """A Task state calling `resource` (its End, unless it names its Next)."""
    ending = {} if {"Next", "End"} & fields.keys() else {"End": True}
    return definition(Type="Task", Resource=resource, **fields, **ending)


def distributed(state_name: str) -> dict[str, Any]:
    """A distributed Map's processor whose one state passes its item on."""
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": state_name,
        "States": {state_name: {"Type": "Pass", "End": True}},
    }
