"""The state-by-state tier: each state of statemachine/ run once through TestState, AWS's own
way to unit-test a state machine, a state at a time, its service calls mocked
(https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html).

By default the tests call the local engine's TestState (moto in process with the local
engine's patches; no stack, no function: every call a state makes is mocked). Given a role
that TestState may assume, the same tests call AWS's TestState API instead, with the caller's
AWS credentials and region (docs/contributors.md, "Tests"):

    TESTSTATE_ROLE_ARN=arn:aws:iam::<account>:role/<role> .venv/bin/python -m pytest tests/states

Nothing is deployed for it: the definition is the one in the repository, its placeholders
filled with the account's ARNs. CI does not run it against AWS.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra import refs
from infra.definition import STEP_FUNCTIONS, resource_name, resources, substituted
from tests.conformance.test_state.calls import answer
from tests.conftest import ORIGINAL_ENVIRONMENT, STAGE, caller_session
from tests.machines import running

ROLE_VARIABLE = "TESTSTATE_ROLE_ARN"
# The role the local engine is given (it assumes none: moto enforces no IAM).
LOCAL_ROLE = f"arn:aws:iam::123456789012:role/{resource_name(STAGE, 'workflow')}"


@dataclasses.dataclass(frozen=True)
class Workflow:
    """The workflow's definition and a Step Functions client whose TestState runs its states."""

    sfn: Any
    definition: str  # the whole state machine, as deployed: substitutions applied
    role_arn: str

    def test(
        self,
        state: str,
        state_input: Any,
        *,
        variables: dict[str, Any] | None = None,
        result: Any = None,
        error: str | None = None,
        cause: str = "a cause",
        retries: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """TestState's answer (its JSON texts parsed) for one state of the workflow, at DEBUG:
        its call mocked by `result` or by `error` (with `cause`), `retries` already made."""
        request: dict[str, Any] = {
            "definition": self.definition,
            "stateName": state,
            "roleArn": self.role_arn,
            "input": json.dumps(state_input),
            "inspectionLevel": "DEBUG",
        }
        if variables is not None:
            request["variables"] = json.dumps(variables)
        if error is not None:
            request["mock"] = {"errorOutput": {"error": error, "cause": cause}}
        elif result is not None:
            request["mock"] = {"result": json.dumps(result)}
        if retries is not None:
            request["stateConfiguration"] = {"retrierRetryCount": retries}
        if context is not None:
            request["context"] = json.dumps(context)
        return answer(self.sfn, **request)


def definition_for(account: str, region: str) -> str:
    """The workflow as the stage's stack deploys it: each function's ARN and the table's name
    in place of the ASL's placeholders."""
    stack = resources(STAGE)
    values = {
        f"{logical}.Arn": f"arn:aws:lambda:{region}:{account}:function:{logical}"
        for logical in STEP_FUNCTIONS.values()
    }
    values["OperationsTable"] = stack["OperationsTable"]["Properties"]["TableName"]
    workflow = stack["Workflow"]["Properties"]
    return substituted(
        workflow["Definition"], refs.resolve(workflow["DefinitionSubstitutions"], values)
    )


@pytest.fixture(scope="module")
def workflow() -> Iterator[Workflow]:
    role = ORIGINAL_ENVIRONMENT.get(ROLE_VARIABLE)
    if role:
        session = caller_session()
        account = session.client("sts").get_caller_identity()["Account"]
        sfn = session.client("stepfunctions")
        yield Workflow(sfn, definition_for(account, sfn.meta.region_name), role)
        return
    with running() as machine:
        yield Workflow(machine.sfn, definition_for("123456789012", "us-east-1"), LOCAL_ROLE)
