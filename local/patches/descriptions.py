"""A state machine as AWS describes it: its revision, the variables its states read, when it
was last updated (AWS's recorded answers: LocalStack's v2/test_sfn_api, test_sfn_api_versioning
and test_sfn_api_variable_references snapshots). Registered in local/patches/registry.py.

A state machine has no revision when it is created (API_DescribeStateMachine: "The first
revision ID when you create the state machine is null"); an UpdateStateMachine that changes
its definition, role or configurations gives it a new one, a UUID, and one that changes
nothing keeps it. A version is of the revision it was published from, and publishing a
revision that already has the newest version answers that version (API_PublishStateMachine
Version: it is idempotent).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any, Final

from local.aws.stepfunctions import definitions
from local.patches import versions
from local.patches.hooks import Hooks

_REVISION: Final = "revision_id"  # the attribute a machine or version keeps it in
# What an update may change that makes a new revision.
_REVISED: Final = (
    "definition",
    "roleArn",
    "loggingConfiguration",
    "tracingConfiguration",
    "encryptionConfiguration",
)


def revision(machine: Any) -> str | None:
    """A state machine's (or a version's) revision ID; None before its first."""
    found = getattr(machine, _REVISION, None)
    return str(found) if found is not None else None


def revisions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateMachine.update(self, **kwargs), which now gives a new revision when it
    changes something; StateMachine.publish(self, description), which keeps a version's
    revision and publishes a revision once; and StepFunctionResponse.update_state_machine
    (self), whose answer carries the revisionId once there is one. moto had no revisions."""
    if name == "update":

        @functools.wraps(original)
        def update(self: Any, **kwargs: Any) -> None:
            before = [getattr(self, field) for field in _REVISED]
            original(self, **kwargs)
            if [getattr(self, field) for field in _REVISED] != before:
                setattr(self, _REVISION, str(uuid.uuid4()))

        return update
    if name == "publish":

        @functools.wraps(original)
        def publish(self: Any, description: str | None) -> None:
            latest = self.latest_version
            if latest is not None and revision(latest) == revision(self):
                return  # published already: AWS answers that version
            original(self, description)
            setattr(self.latest_version, _REVISION, revision(self))

        return publish

    @functools.wraps(original)
    def update_state_machine(self: Any) -> Any:
        answer = original(self)
        arn = self._get_param("stateMachineArn")
        current = revision(self.stepfunction_backend.describe_state_machine(arn))
        if current is not None:
            answer.result["revisionId"] = current
        return answer

    return update_state_machine


def described(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.describe_state_machine(self) and
    describe_state_machine_for_execution(self): the answer carries the revisionId of what it
    describes, once it has one, and variableReferences, the variables each state reads
    (definitions.variable_references; left out when no state reads one), as AWS's recorded
    answers do; DescribeStateMachineForExecution its updateDate too. moto gave none of them."""
    if name == "describe_state_machine":

        @functools.wraps(original)
        def describe_state_machine(self: Any) -> Any:
            answer = original(self)
            arn = self._get_param("stateMachineArn")
            _describe(answer.result, self.stepfunction_backend.describe_state_machine(arn))
            return answer

        return describe_state_machine

    @functools.wraps(original)
    def describe_state_machine_for_execution(self: Any) -> Any:
        answer = original(self)
        # What the answer describes: the version the execution ran, or the state machine.
        machine = versions.version_run(self, self._get_param("executionArn"))
        if machine is None:
            machine = self.stepfunction_backend.describe_state_machine(
                answer.result["stateMachineArn"]
            )
        answer.result["updateDate"] = machine.update_date
        _describe(answer.result, machine)
        return answer

    return describe_state_machine_for_execution


def _describe(answer: dict[str, Any], machine: Any) -> None:
    if revision(machine) is not None:
        answer["revisionId"] = revision(machine)
    definition = definitions.parsed(answer["definition"])
    references = definitions.variable_references(definition) if definition else {}
    if references:
        answer["variableReferences"] = references
