"""Deploy a stage as one CloudFormation stack, or remove it: `make deploy|destroy STAGE=dev`.

1. `infra.package`: `chalice package --merge-template` → build/<stage>/sam.json + bundle.
2. Upload the bundle to the artifacts bucket and point every function's CodeUri at it.
3. Expand the SAM transform here, with aws-sam-translator, so that what is reviewed, linted
   and tested is exactly what CloudFormation gets.
4. Create or update the stack through a change set (atomic; CloudFormation rolls back a
   failed one) and print the API URL and the state machine.

Credentials and region are found as the AWS CLI finds them (infra/aws_session.py: AWS_REGION,
AWS_DEFAULT_REGION, AWS_PROFILE...), and the endpoint too (AWS_ENDPOINT_URL), so the same
script runs against the emulator in tests. What is missing, or what AWS refuses, ends it with
one line.

REVIEW_NOTIFICATION_EMAIL subscribes an address to the stage's review topic (the stack's
parameter ReviewNotificationEmail; empty removes it); without it, an update keeps the address
the stack has.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions

from infra import aws_session, cli, definition
from infra.cli import CommandError
from infra.definition import ROOT, app_name, stack_name
from infra.package import package
from infra.template import NOTIFICATION_EMAIL

CAPABILITIES = ["CAPABILITY_IAM"]
MAX_TEMPLATE_BODY = 51_200


def artifacts_bucket(session: boto3.Session, requested: str | None) -> str:
    """The bucket for bundles and templates: the one given, or one per account and region."""
    s3 = session.client("s3")
    if requested:
        return requested
    account = session.client("sts").get_caller_identity()["Account"]
    name = f"{app_name()}-artifacts-{account}-{session.region_name}"
    try:
        s3.head_bucket(Bucket=name)
    except botocore.exceptions.ClientError:
        extra = (
            {}
            if session.region_name == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": session.region_name}}
        )
        s3.create_bucket(Bucket=name, **extra)
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    return name


def _upload(s3: Any, bucket: str, path: Path, prefix: str) -> str:
    body = path.read_bytes()
    key = f"{prefix}/{hashlib.sha256(body).hexdigest()[:16]}-{path.name}"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def expand(template: dict[str, Any], session: boto3.Session) -> dict[str, Any]:
    """Apply the AWS::Serverless-2016-10-31 transform offline."""
    from samtranslator.public.translator import ManagedPolicyLoader

    return expand_with(template, ManagedPolicyLoader(session.client("iam")))


def expand_with(template: dict[str, Any], policy_loader: Any) -> dict[str, Any]:
    """The transform, with a loader of managed policies by name (called only if one is named).
    Each SAM resource's Metadata (checkov's accepted findings) goes to what it expands to."""
    from samtranslator.translator.transform import transform

    expanded = transform(template, {}, policy_loader, passthrough_metadata=True)
    return _mappings_after_their_streams(dict(expanded))


def _mappings_after_their_streams(template: dict[str, Any]) -> dict[str, Any]:
    """Chalice names the stream in the mapping by an ARN string, which CloudFormation cannot
    see as a reference: without DependsOn it may create the mapping before the stream."""
    resources = template["Resources"]
    streams = {
        r["Properties"]["Name"]: logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::Kinesis::Stream"
    }
    for mapping in resources.values():
        if mapping["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        source = json.dumps(mapping["Properties"]["EventSourceArn"])
        for name, logical_id in streams.items():
            if f":stream/{name}" in source:
                depends = mapping.get("DependsOn", [])
                depends = [depends] if isinstance(depends, str) else depends
                mapping["DependsOn"] = sorted({*depends, logical_id})
    return template


def build(
    stage: str, session: boto3.Session, bucket: str, packaged: Path | None = None
) -> dict[str, Any]:
    """The plain CloudFormation template of a stage, its bundle uploaded: packaged into
    build/<stage>/, or `packaged`, the sam.json of a package of the stage made before (its
    deployment.zip beside it; cloudformation.json is written beside it too)."""
    template_file = packaged or package(stage, ROOT / "build" / stage)
    template = json.loads(template_file.read_text())
    s3 = session.client("s3")
    key = _upload(s3, bucket, template_file.with_name("deployment.zip"), f"{app_name()}/{stage}")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
    expanded = expand(template, session)
    template_file.with_name("cloudformation.json").write_text(json.dumps(expanded, indent=2))
    return expanded


def deploy(
    stage: str,
    session: boto3.Session,
    bucket: str,
    template: dict[str, Any],
    notification_email: str | None = None,
    *,
    role_arn: str | None = None,
) -> dict[str, str]:
    """Creates or updates the stage's stack; `role_arn`: the role CloudFormation acts with
    (the pipeline's, `make bootstrap-ci`), else the caller's own permissions."""
    cfn = session.client("cloudformation")
    name = stack_name(stage)
    source: dict[str, Any] = _template_argument(session, bucket, stage, template)
    if role_arn:
        source["RoleARN"] = role_arn
    tags = [{"Key": "app", "Value": app_name()}, {"Key": "stage", "Value": stage}]
    parameters = _parameters(cfn, name, notification_email)
    if _stack_status(cfn, name) is None:
        # A failed creation rolls back entirely (OnFailure=ROLLBACK).
        cfn.create_stack(
            StackName=name,
            Capabilities=CAPABILITIES,
            Tags=tags,
            OnFailure="ROLLBACK",
            Parameters=parameters,
            **source,
        )
        _wait_stack(cfn, name)
    else:
        # An update goes through a change set; a failed one rolls back to the last good stack.
        change_set = f"deploy-{int(time.time())}"
        cfn.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE",
            Capabilities=CAPABILITIES,
            Tags=tags,
            Parameters=parameters,
            **source,
        )
        if _wait_change_set(cfn, name, change_set) == "NO_CHANGES":
            print(f"{name}: no changes")
        else:
            cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
            _wait_stack(cfn, name)
    return {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=name)["Stacks"][0].get("Outputs", [])
    }


def _parameters(cfn: Any, name: str, email: str | None) -> list[dict[str, Any]]:
    """The stack's parameters: the email address given, else the one the stack has (if its
    template had the parameter), else the template's default (nobody)."""
    if email is not None:
        return [{"ParameterKey": NOTIFICATION_EMAIL, "ParameterValue": email}]
    if _stack_status(cfn, name) is None:
        return []
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    known = {parameter["ParameterKey"] for parameter in stack.get("Parameters", [])}
    if NOTIFICATION_EMAIL not in known:
        return []
    return [{"ParameterKey": NOTIFICATION_EMAIL, "UsePreviousValue": True}]


def _template_argument(
    session: boto3.Session, bucket: str, stage: str, template: dict[str, Any]
) -> dict[str, str]:
    """Inline up to CloudFormation's 51,200-byte limit, from the bucket beyond it."""
    body = json.dumps(template, separators=(",", ":"))
    if len(body) <= MAX_TEMPLATE_BODY:
        return {"TemplateBody": body}
    s3 = session.client("s3")
    key = f"{app_name()}/{stage}/template-{int(time.time())}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    region = session.region_name
    return {"TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


def _stack_status(cfn: Any, name: str) -> str | None:
    try:
        return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except botocore.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def _wait_change_set(cfn: Any, name: str, change_set: str) -> str:
    while True:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        status = described["Status"]
        if status == "CREATE_COMPLETE":
            return status
        if status == "FAILED":
            reason = described.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates" in reason:
                return "NO_CHANGES"
            raise CommandError(f"change set failed: {reason}")
        time.sleep(2)


def _wait_stack(cfn: Any, name: str) -> None:
    while True:
        status = _stack_status(cfn, name) or "DELETE_COMPLETE"
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return
        if status.endswith(("_FAILED", "ROLLBACK_COMPLETE")):
            events = cfn.describe_stack_events(StackName=name)["StackEvents"]
            failures = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
                for e in events
                if e["ResourceStatus"].endswith("_FAILED")
            ]
            raise CommandError(f"{name} is {status}: " + "; ".join(failures[:10]))
        time.sleep(5)


def destroy(stage: str, session: boto3.Session) -> None:
    cfn = session.client("cloudformation")
    name = stack_name(stage)
    if _stack_status(cfn, name) is None:
        print(f"{name} does not exist")
        return
    cfn.delete_stack(StackName=name)
    _wait_stack(cfn, name)
    print(f"{name} deleted (the artifacts bucket is kept; tables with data are deleted too)")


def main() -> int:
    parser = cli.Parser(description=__doc__)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--bucket", help="artifacts bucket (default: one per account/region)")
    parser.add_argument("--delete", action="store_true", help="remove the stage's stack")
    args = parser.parse_args()
    return aws_session.run(lambda: _deploy_or_destroy(args))


def _deploy_or_destroy(args: argparse.Namespace) -> int:
    try:
        definition.stage_environment(args.stage)
    except ValueError as error:
        raise CommandError(str(error)) from None
    session = aws_session.session()
    if args.delete:
        destroy(args.stage, session)
        return 0
    bucket = artifacts_bucket(session, args.bucket)
    email = os.environ.get("REVIEW_NOTIFICATION_EMAIL")
    role = os.environ.get("CLOUDFORMATION_ROLE_ARN")  # set by the pipeline (docs/pipeline.md)
    template = build(args.stage, session, bucket)
    outputs = deploy(args.stage, session, bucket, template, email, role_arn=role)
    region = session.region_name
    print(f"stack      {stack_name(args.stage)}")
    print(f"API        {outputs.get('EndpointURL')}")
    print(f"reviewers  {outputs.get('ReviewerPageUrl')}")
    print(f"           add one: make reviewer STAGE={args.stage} EMAIL=<address>")
    print(f"executions https://{region}.console.aws.amazon.com/states/home?region={region}"
          f"#/statemachines/view/{outputs.get('StateMachineArn')}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
