"""The CI bootstrap stack: what lets the pipeline (.github/workflows/pipeline.yml) deploy a
stage with short-lived credentials, and nothing more. `make bootstrap-ci REPO=owner/name
STAGE=dev`, once per stage and account, by someone who may create IAM roles.

- GitHub's OIDC provider (token.actions.githubusercontent.com): an account has one; the stack
  creates it unless it is given its ARN (OIDC_PROVIDER_ARN=...).
- The deploy role the workflow assumes: only a job of that repository running in that
  stage's GitHub environment (the token's `sub` is `repo:<owner>/<name>:environment:<stage>`)
  may assume it, for an hour at most. It may: manage the stage's one CloudFormation stack
  through change sets, hand CloudFormation the execution role below (and no other), write
  bundles to the artifacts bucket, read the managed policies the SAM transform resolves, and
  read the stack's outputs (the black-box suite finds the URL there). It cannot create or
  change any other resource itself.
- CloudFormation's execution role: what the stack's resources need to be created, changed and
  deleted, limited to the names the stack gives them (they start with the stack's name) where
  a service names its resources, and to this account and region.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
import botocore.exceptions

from infra import aws_session, cli
from infra.definition import app_name, stack_name
from infra.security import skip

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
SESSION_SECONDS = 3600


def bootstrap_stack_name(stage: str) -> str:
    return f"{app_name()}-ci-{stage}"


def artifacts_bucket_pattern() -> str:
    """The artifacts bucket infra/deploy.py creates: one per account and region."""
    return f"{app_name()}-artifacts-${{AWS::AccountId}}-${{AWS::Region}}"


def _arn(service: str, resource: str, region: bool = True) -> dict[str, str]:
    where = "${AWS::Region}" if region else ""
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:{where}:${{AWS::AccountId}}:{resource}"}


def _statement(sid: str, actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def _deploy_policy(stage: str) -> dict[str, Any]:
    stack = stack_name(stage)
    bucket = artifacts_bucket_pattern()
    return {
        "Version": "2012-10-17",
        "Statement": [
            _statement(
                "TheStageStack",
                [
                    "cloudformation:CreateStack",
                    "cloudformation:CreateChangeSet",
                    "cloudformation:DescribeChangeSet",
                    "cloudformation:ExecuteChangeSet",
                    "cloudformation:DeleteChangeSet",
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:GetTemplate",
                ],
                [_arn("cloudformation", f"stack/{stack}/*")],
            ),
            _statement(
                "TheSamTransform",
                ["cloudformation:CreateChangeSet"],
                [_arn("cloudformation", "transform/Serverless-2016-10-31")],
            ),
            _statement(
                "CloudFormationActsWithItsOwnRole",
                ["iam:PassRole"],
                [{"Fn::GetAtt": ["CloudFormationRole", "Arn"]}],
            ),
            _statement(
                "Artifacts",
                [
                    "s3:CreateBucket",
                    "s3:GetObject",
                    "s3:ListBucket",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:PutObject",
                ],
                [
                    {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket}"},
                    {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket}/*"},
                ],
            ),
            # The SAM transform resolves managed policy names (infra/deploy.py: expand).
            _statement("ManagedPolicyNames", ["iam:ListPolicies"], ["*"]),
        ],
    }


# What the stage's resources need, by service; Resource patterns where the service names
# resources (CloudFormation names them after the stack), "*" where it does not.
_EXECUTION = {
    "apigateway": (["apigateway:*"], ["arn:${AWS::Partition}:apigateway:${AWS::Region}::/*"]),
    "cloudwatch": (["cloudwatch:*"], ["alarm:{stack}-*", "alarm:{app}-{stage}-*"]),
    "dynamodb": (["dynamodb:*"], ["table/{stack}-*", "table/{app}-{stage}-*"]),
    "kinesis": (["kinesis:*"], ["stream/{app}-{stage}-*"]),
    "firehose": (["firehose:*"], ["deliverystream/{app}-{stage}-*"]),
    "lambda": (
        ["lambda:*"],
        ["function:{stack}-*", "function:{app}-{stage}-*", "event-source-mapping:*"],
    ),
    "states": (["states:*"], ["stateMachine:{app}-{stage}-*"]),
    "sqs": (["sqs:*"], ["{app}-{stage}-*", "{stack}-*"]),
    "sns": (["sns:*"], ["{app}-{stage}-*", "{stack}-*"]),
    "logs": (["logs:*"], ["log-group:*{app}-{stage}*", "log-group:*{stack}*"]),
    "cognito-idp": (["cognito-idp:*"], ["userpool/*"]),
    "kms": (["kms:*"], ["key/*", "alias/{app}-{stage}-*"]),
    "events": (["events:*"], ["rule/{stack}-*", "rule/{app}-{stage}-*"]),
}


def _execution_policy(stage: str) -> dict[str, Any]:
    names = {"stack": stack_name(stage), "app": app_name(), "stage": stage}
    statements = []
    for service, (actions, resources) in _EXECUTION.items():
        arns: list[Any] = []
        for resource in resources:
            if resource == "*" or resource.startswith("arn:"):
                arns.append({"Fn::Sub": resource} if resource.startswith("arn:") else "*")
            else:
                arns.append(_arn(service, resource.format(**names)))
        sid = "".join(part.capitalize() for part in service.split("-"))
        statements.append(_statement(sid, actions, arns))
    stack, prefix = names["stack"], f"{names['app']}-{stage}"
    statements += [
        _statement(
            "TheStacksRoles",
            [
                "iam:AttachRolePolicy",
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:PassRole",
                "iam:PutRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
            ],
            [
                _arn("iam", f"role/{stack}-*", region=False),
                _arn("iam", f"role/{prefix}-*", region=False),
            ],
        ),
        _statement(
            "TheStacksDashboards",
            ["cloudwatch:*"],
            [_arn("cloudwatch", f"dashboard/{prefix}*", region=False)],
        ),
        _statement(
            "TheStacksBuckets",
            ["s3:*"],
            [
                {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{stack}-*"},
                {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{prefix}-*"},
            ],
        ),
        # The API's account settings (its CloudWatch role) and reading what CloudFormation
        # checks exists: no resource names.
        _statement(
            "Lookups",
            ["apigateway:GET", "iam:GetPolicy", "iam:ListPolicies", "lambda:GetLayerVersion"],
            ["*"],
        ),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


# checkov's findings on a role that may write without a resource constraint, expose
# credentials, manage permissions or escalate privileges: what these two roles are for.
_IAM_WRITE_CHECKS = ("CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111")
_WHY_EXECUTION = (
    "CloudFormation's execution role for the stage's stack: it creates, changes and deletes "
    "the stack's resources, each service's actions limited to the names the stack gives them "
    "(they start with the stack's name) where the service names resources; only the deploy "
    "role may pass it, and only CloudFormation may assume it."
)
_WHY_DEPLOY = (
    "The pipeline's deploy role: it changes nothing itself but the stage's stack (through "
    "change sets run with CloudFormation's role) and the artifacts bucket; ListPolicies has "
    "no resource to name. Only a job of the repository in the stage's environment assumes it."
)


def template(stage: str, repository: str, oidc_provider_arn: str | None = None) -> dict[str, Any]:
    """The bootstrap stack for one stage of one GitHub repository (owner/name)."""
    if repository.count("/") != 1 or not all(repository.split("/")):
        raise ValueError(f"the repository is owner/name, not {repository!r}")
    resources: dict[str, Any] = {}
    provider: Any = oidc_provider_arn
    if provider is None:
        resources["GitHubOidcProvider"] = {
            "Type": "AWS::IAM::OIDCProvider",
            "Properties": {
                "Url": f"https://{GITHUB_OIDC_HOST}",
                "ClientIdList": ["sts.amazonaws.com"],
            },
        }
        provider = {"Ref": "GitHubOidcProvider"}
    resources["DeployRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"GitHub Actions deploys stage {stage} of {repository}",
            "MaxSessionDuration": SESSION_SECONDS,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": provider},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                                f"{GITHUB_OIDC_HOST}:sub": (
                                    f"repo:{repository}:environment:{stage}"
                                ),
                            }
                        },
                    }
                ],
            },
            "Policies": [{"PolicyName": "deploy", "PolicyDocument": _deploy_policy(stage)}],
        },
        "Metadata": skip(*((check, _WHY_DEPLOY) for check in _IAM_WRITE_CHECKS)),
    }
    resources["CloudFormationRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"CloudFormation deploys the stack of stage {stage}",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudformation.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                        },
                    }
                ],
            },
            "Policies": [
                {"PolicyName": "stack-resources", "PolicyDocument": _execution_policy(stage)}
            ],
        },
        "Metadata": skip(*((check, _WHY_EXECUTION) for check in _IAM_WRITE_CHECKS)),
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"CI for {app_name()} stage {stage}: GitHub Actions' deploy role",
        "Resources": resources,
        "Outputs": {
            "DeployRoleArn": {"Value": {"Fn::GetAtt": ["DeployRole", "Arn"]}},
            "CloudFormationRoleArn": {"Value": {"Fn::GetAtt": ["CloudFormationRole", "Arn"]}},
        },
    }


def main() -> int:
    parser = cli.Parser(prog="make bootstrap-ci", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--repository", required=True, help="the GitHub repository, owner/name")
    parser.add_argument("--oidc-provider-arn", help="the account's GitHub OIDC provider, if any")
    parser.add_argument("--print", action="store_true", help="print the template, deploy nothing")
    args = parser.parse_args()
    try:
        body = template(args.stage, args.repository, args.oidc_provider_arn)
    except ValueError as error:
        parser.error(str(error))
    if args.print:
        print(json.dumps(body, indent=2))
        return 0
    # Region and credentials as the AWS CLI finds them; what is missing, in one line.
    return aws_session.run(lambda: _bootstrap(args.stage, body))


def _bootstrap(stage: str, body: dict[str, Any]) -> int:
    session = aws_session.session()
    outputs = deploy(session, bootstrap_stack_name(stage), body)
    print(f"deploy role          {outputs['DeployRoleArn']}")
    print(f"CloudFormation role  {outputs['CloudFormationRoleArn']}")
    print(
        f"In the repository's GitHub environment '{stage}', set the variables "
        f"AWS_DEPLOY_ROLE_ARN={outputs['DeployRoleArn']}, "
        f"CLOUDFORMATION_ROLE_ARN={outputs['CloudFormationRoleArn']} and "
        f"AWS_REGION={session.region_name} (docs/pipeline.md)."
    )
    return 0


def deploy(session: boto3.Session, name: str, body: dict[str, Any]) -> dict[str, str]:
    """Creates the stack, or updates it; its outputs once it is complete."""
    cloudformation = session.client("cloudformation")
    arguments = {
        "StackName": name,
        "TemplateBody": json.dumps(body),
        "Capabilities": ["CAPABILITY_IAM"],
    }
    try:
        cloudformation.describe_stacks(StackName=name)
    except botocore.exceptions.ClientError as error:
        if "does not exist" not in str(error):
            raise
        cloudformation.create_stack(**arguments)
        cloudformation.get_waiter("stack_create_complete").wait(StackName=name)
    else:
        try:
            cloudformation.update_stack(**arguments)
        except botocore.exceptions.ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
        else:
            cloudformation.get_waiter("stack_update_complete").wait(StackName=name)
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


if __name__ == "__main__":
    sys.exit(main())
