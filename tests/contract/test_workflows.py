"""The Workflows port (chalicelib/services/ports.py): FakeWorkflows and StepFunctionsWorkflows
keep the same promises."""

import uuid

from chalicelib.domain.events import OperationRequested
from tests.builders import an_event, unique_email


def _event() -> OperationRequested:
    return an_event(email=unique_email())


def test_an_operation_without_execution_has_no_status(executions):
    assert executions.workflows.status(str(uuid.uuid4())) is None


def test_a_started_workflow_runs_once_however_often_it_is_started(executions):
    event = _event()
    executions.workflows.start(event)
    executions.workflows.start(event)  # a duplicate record, a redelivery
    assert executions.count(event.operation_id) == 1
    assert executions.workflows.status(event.operation_id) == "RUNNING"
