"""The CI bootstrap stack (infra/bootstrap_ci.py): the role GitHub Actions assumes is the
stage's environment's in the repository's workflow only, and may change nothing but the
stage's stack and the artifacts. checkov scans it with the stages (tests/infra/test_checkov.py)."""

from __future__ import annotations

import json

import boto3
import cfnlint.api
import pytest
from moto import mock_aws

from infra import bootstrap_ci
from infra.definition import app_name

REPOSITORY = f"acme/{app_name()}"


def _template(**kwargs) -> dict:
    return bootstrap_ci.template("dev", REPOSITORY, **kwargs)


def _statements(role: dict) -> list[dict]:
    return [
        s
        for policy in role["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    ]


def test_cfn_lint_passes():
    assert cfnlint.api.lint(json.dumps(_template())) == []


def test_only_the_repository_s_job_in_the_stage_s_environment_may_assume_the_deploy_role():
    role = _template()["Resources"]["DeployRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"] == {"Federated": {"Ref": "GitHubOidcProvider"}}
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:environment:dev",
        }
    }
    assert role["Properties"]["MaxSessionDuration"] == 3600


def test_an_account_s_existing_provider_is_used_rather_than_a_second_one():
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    template = _template(oidc_provider_arn=arn)
    assert "GitHubOidcProvider" not in template["Resources"]
    (trust,) = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert trust["Principal"] == {"Federated": arn}


def test_the_deploy_role_changes_only_the_stage_s_stack_through_cloudformation_s_role():
    statements = _statements(_template()["Resources"]["DeployRole"])
    actions = {action for s in statements for action in s["Action"]}
    assert not any(action.endswith("*") for action in actions)
    (stack,) = [s for s in statements if s["Sid"] == "TheStageStack"]
    (resource,) = stack["Resource"]
    assert resource["Fn::Sub"].endswith(f":stack/{app_name()}-dev/*")
    (passing,) = [s for s in statements if "iam:PassRole" in s["Action"]]
    assert passing["Resource"] == [{"Fn::GetAtt": ["CloudFormationRole", "Arn"]}]
    unscoped = {a for s in statements if s["Resource"] == ["*"] for a in s["Action"]}
    assert unscoped == {"iam:ListPolicies"}


def test_cloudformation_s_role_is_for_cloudformation_and_names_the_stage_s_resources():
    role = _template()["Resources"]["CloudFormationRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    for statement in _statements(role):
        if statement["Resource"] == ["*"]:
            continue
        for resource in statement["Resource"]:
            text = json.dumps(resource)
            assert (
                f"{app_name()}-dev" in text
                or "apigateway" in text
                or "userpool" in text
                or "key/" in text
                or "event-source-mapping" in text
            ), statement["Sid"]


def test_a_repository_that_is_not_owner_slash_name_is_refused():
    for wrong in (app_name(), "acme/", "/x", "a/b/c"):
        with pytest.raises(ValueError, match="owner/name"):
            bootstrap_ci.template("dev", wrong)


def test_the_stack_is_created_with_both_roles_then_updated_in_place():
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        name = bootstrap_ci.bootstrap_stack_name("dev")
        outputs = bootstrap_ci.deploy(session, name, _template())
        assert set(outputs) == {"DeployRoleArn", "CloudFormationRoleArn"}
        roles = {r["Arn"] for r in session.client("iam").list_roles()["Roles"]}
        assert set(outputs.values()) <= roles
        assert bootstrap_ci.deploy(session, name, _template()) == outputs  # again: no change
