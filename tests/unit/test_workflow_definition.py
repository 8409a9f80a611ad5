"""The workflow's definition as it is loaded for AWS and the local stack
(infra.definition.workflow_definition): the ASL file, with each task's retry policy taken from
statemachine/retry_policies.json, where each policy is stated once."""

from __future__ import annotations

import json

import pytest

from infra import definition
from infra.definition import RETRY_POLICIES_FILE, STATE_MACHINE_FILE, workflow_definition

pytestmark = pytest.mark.unit

WRITTEN = json.loads(STATE_MACHINE_FILE.read_text())["States"]
POLICIES = json.loads(RETRY_POLICIES_FILE.read_text())
# The policy of the workflow's Lambda steps.
LAMBDA_STEP = "LambdaStep"


def _lambda_tasks() -> dict[str, dict]:
    return {
        name: state
        for name, state in WRITTEN.items()
        if str(state.get("Resource", "")).startswith("arn:aws:states:::lambda:invoke")
    }


def test_every_lambda_task_retries_by_the_one_policy_or_a_variant_that_says_why():
    tasks = _lambda_tasks()
    assert len(tasks) >= 4
    for name, state in tasks.items():
        named = state.get("Retry")
        assert isinstance(named, str), f"{name} writes a Retry of its own: name a policy"
        if named == LAMBDA_STEP:
            continue
        variant = POLICIES[named]
        assert variant.get("Like") == LAMBDA_STEP, f"{name}'s {named} is not a LambdaStep variant"
        assert variant.get("Comment"), f"{named} does not say why it differs from LambdaStep"
        assert name in variant["Comment"], f"{named} does not say which task it is for"


def test_every_task_names_a_policy_and_the_loaded_definition_holds_the_policies():
    loaded = workflow_definition()["States"]
    lambda_step = definition.retry_policies()[LAMBDA_STEP]
    for name, state in WRITTEN.items():
        if state["Type"] != "Task":
            continue
        named = state["Retry"]
        assert isinstance(named, str), f"{name} writes a Retry of its own: name a policy"
        assert loaded[name]["Retry"] == definition.retry_policies()[named]
        if named == LAMBDA_STEP:
            assert loaded[name]["Retry"] == lambda_step
    # Apart from the policies, the loaded definition is the file as written.
    stripped = {name: {k: v for k, v in s.items() if k != "Retry"} for name, s in loaded.items()}
    assert stripped == {
        name: {k: v for k, v in s.items() if k != "Retry"} for name, s in WRITTEN.items()
    }


def test_a_variant_is_its_policy_without_the_errors_it_names():
    policies = definition.retry_policies()
    for name, policy in POLICIES.items():
        if not isinstance(policy, dict) or "Like" not in policy:
            continue
        (base,) = policies[policy["Like"]]
        (variant,) = policies[name]
        removed = set(base["ErrorEquals"]) - set(variant["ErrorEquals"])
        assert removed == set(policy["Without"]) and removed
        assert {k: v for k, v in variant.items() if k != "ErrorEquals"} == {
            k: v for k, v in base.items() if k != "ErrorEquals"
        }


def test_a_task_naming_a_policy_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    broken = json.loads(STATE_MACHINE_FILE.read_text())
    first = broken["StartAt"]
    broken["States"][first]["Retry"] = "NoSuchPolicy"
    asl = tmp_path / "user_create.asl.json"
    asl.write_text(json.dumps(broken))
    monkeypatch.setattr(definition, "STATE_MACHINE_FILE", asl)
    with pytest.raises(ValueError, match=f"{first}'s Retry names 'NoSuchPolicy'"):
        workflow_definition()
