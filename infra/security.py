"""Hardening of the stack, checked by checkov in `make test` (see docs/operators.md,
"Security: checkov").

What a production team fixes: encryption at rest for every queue, topic and log group, API
access logs, a dead-letter queue for the asynchronously invoked sweeper, reserved concurrency
where it protects what is downstream. What it accepts is skipped on the resource, with the
reason, in checkov's own metadata (`Metadata.checkov.skip`).
"""

from __future__ import annotations

from typing import Any

from infra import definition

# Access logs: kept a year; they hold client addresses and callers, never a body.
ACCESS_LOG_RETENTION_DAYS = 365
# One line of JSON per request. Every value is quoted, since API Gateway writes "-" for one
# it does not have. The operation id is in `path` for /operations/{id}; a POST's new
# operation is in the API function's log lines, found by `lambdaRequestId`.
ACCESS_LOG_FORMAT = (
    "{"
    + ",".join(
        f'"{name}":"$context.{variable}"'
        for name, variable in {
            "requestId": "requestId",
            "extendedRequestId": "extendedRequestId",
            "requestTime": "requestTimeEpoch",
            "ip": "identity.sourceIp",
            "caller": "identity.caller",
            "userAgent": "identity.userAgent",
            "method": "httpMethod",
            "resourcePath": "resourcePath",
            "path": "path",
            "protocol": "protocol",
            "status": "status",
            "responseLength": "responseLength",
            "responseLatency": "responseLatency",
            "integrationLatency": "integrationLatency",
            "lambdaRequestId": "integration.requestId",
            "errorType": "error.responseType",
            "errorMessage": "error.message",
            "xrayTraceId": "xrayTraceId",
        }.items()
    )
    + "}"
)

_NO_VPC = (
    "No VPC: the functions reach only AWS APIs (DynamoDB, Kinesis, Step Functions, SQS), over "
    "TLS and signed with their own least-privilege roles; a VPC would reach nothing private and "
    "add NAT or interface endpoints per AZ, and their cost, to every call."
)
_ENV_NOT_SECRET = (
    "The environment holds resource names and settings, never a secret; Lambda encrypts it at "
    "rest with its AWS managed key, and a customer managed key would protect nothing more."
)
_SYNC = {
    "APIHandler": "API Gateway invokes it synchronously: its errors reach the client as "
    "problem+json; a dead-letter queue applies only to asynchronous invocations.",
    "Starter": "Its Kinesis event source mapping invokes it synchronously; the records it gives "
    "up on go to the mapping's on-failure queue (StarterFailureQueue, alarmed).",
    "Step": "Step Functions invokes it synchronously; the state machine retries it and records "
    "a failure in the operation (FAILED with a code), so no event is lost.",
}
_NO_CAP = {
    "APIHandler": "A cap would fail excess requests at the Lambda integration (5xx); API "
    "Gateway's throttling answers them 429 problem+json with Retry-After instead.",
    "Step": "Invoked by executions, which the starter's reserved concurrency already bounds; "
    "the state machine's Retry absorbs a throttled invocation.",
}
ACCEPTED_TABLE_KEY = (
    "Encrypted at rest with an AWS owned key. A customer managed key would add a KMS "
    "dependency (quota, cost, a key whose deletion loses the point-in-time backups) to every "
    "read and write, for no reader this stack does not already authorise through IAM."
)
ACCEPTED_LOG_BUCKET_UNLOGGED = (
    "This bucket holds the archive bucket's access logs, written by S3's log delivery only. "
    "Logging it to itself loops, which S3 advises against; logging it elsewhere needs yet "
    "another bucket with the same question. Versions keep a deleted log 30 days."
)
ACCEPTED_API_CACHE = (
    "No cache: every GET answers current state (an operation changes within milliseconds and "
    "clients poll it), so a cache would serve stale status; writes cannot be cached."
)


def skip(*findings: tuple[str, str]) -> dict[str, Any]:
    """A resource's Metadata accepting checkov findings: (check id, why) pairs."""
    return {"checkov": {"skip": [{"id": check, "comment": why} for check, why in findings]}}


def function_hardening(stage: str, function: str) -> dict[str, Any]:
    """What a function's resource gets beyond its role: limits and accepted findings."""
    properties: dict[str, Any] = {}
    findings = [("CKV_AWS_117", _NO_VPC), ("CKV_AWS_173", _ENV_NOT_SECRET)]
    if function == "Sweeper":
        # Invoked asynchronously (EventBridge schedule): failed events land here, alarmed.
        properties["DeadLetterQueue"] = {
            "Type": "SQS",
            "TargetArn": {"Fn::GetAtt": ["SweeperDeadLetterQueue", "Arn"]},
        }
        # One sweep at a time: a slow sweep is never raced by the next minute's.
        properties["ReservedConcurrentExecutions"] = 1
    elif function == "Starter":
        # Bounds the StartExecution calls in flight (the API's quota is per account and
        # region, shared with every other state machine there).
        properties["ReservedConcurrentExecutions"] = definition.capacity(stage).starter_concurrency
        findings.append(("CKV_AWS_116", _SYNC["Starter"]))
    else:
        kind = "APIHandler" if function == "APIHandler" else "Step"
        findings += [("CKV_AWS_116", _SYNC[kind]), ("CKV_AWS_115", _NO_CAP[kind])]
    return {"Properties": properties, "Metadata": skip(*findings)}


def encrypted_queue(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": name,
            "MessageRetentionPeriod": 14 * 24 * 3600,
            "KmsMasterKeyId": definition.QUEUE_KEY,
        },
    }


def access_log_group_name(stage: str) -> str:
    return f"/aws/apigateway/{definition.app_name()}-{stage}/access"


def account_administers_through_iam() -> dict[str, Any]:
    """A key policy's first statement: the account administers the key through IAM, as for
    any key, so that IAM policies decide who else may use it."""
    return {
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        "Action": "kms:*",
        "Resource": "*",
    }


def stack_key(log_group_names: list[str]) -> dict[str, Any]:
    """The stack's customer managed key: the alarm topic and the log groups, whose services
    cannot use an AWS managed key."""
    logs = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    log_group_arns = [{"Fn::Sub": logs + name} for name in log_group_names]
    return {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": {"Fn::Sub": "${AWS::StackName}: alarm topic and log groups"},
            "EnableKeyRotation": True,
            "PendingWindowInDays": 7,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    account_administers_through_iam(),
                    {
                        "Sid": "AlarmsPublishToTheTopic",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            "ArnLike": {
                                "aws:SourceArn": {
                                    "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:"
                                    "${AWS::AccountId}:alarm:${AWS::StackName}-*"
                                }
                            },
                        },
                    },
                    {
                        "Sid": "LogsEncryptTheStackLogGroups",
                        "Effect": "Allow",
                        "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
                        "Action": [
                            "kms:Decrypt*",
                            "kms:Describe*",
                            "kms:Encrypt*",
                            "kms:GenerateDataKey*",
                            "kms:ReEncrypt*",
                        ],
                        "Resource": "*",
                        "Condition": {
                            "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}
                        },
                    },
                ],
            },
        },
    }


def encrypt_log_groups(resources: dict[str, Any]) -> None:
    """Every log group of the stack under StackKey, which admits CloudWatch Logs for these
    log groups only. Run again by whatever adds a log group (infra/archive.py)."""
    log_groups = [r for r in resources.values() if r.get("Type") == "AWS::Logs::LogGroup"]
    for found in log_groups:
        found["Properties"]["KmsKeyId"] = {"Fn::GetAtt": ["StackKey", "Arn"]}
    resources["StackKey"] = stack_key([found["Properties"]["LogGroupName"] for found in log_groups])


def log_group(name: str, retention_days: int) -> dict[str, Any]:
    """A log group; encrypt_log_groups puts it under StackKey."""
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": name,
            "RetentionInDays": retention_days,
        },
    }


def trust(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """A role's trust policy: that AWS service may assume it (under the condition, if any)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def api_gateway_account() -> dict[str, Any]:
    """API Gateway writes logs through one role per account and region (an account setting,
    not the API's). Both are kept when the stack is deleted, so that another stage's or
    service's API does not lose its logging with this one."""
    kept = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    logs = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    return {
        "ApiGatewayLoggingRole": {
            "Type": "AWS::IAM::Role",
            **kept,
            "Properties": {
                "AssumeRolePolicyDocument": trust("apigateway.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": "write-api-logs",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    # Any API's logs in this account and region: it is the
                                    # account's role (AmazonAPIGatewayPushToCloudWatchLogs,
                                    # scoped to the account and region).
                                    "Effect": "Allow",
                                    "Action": [
                                        "logs:CreateLogGroup",
                                        "logs:CreateLogStream",
                                        "logs:DescribeLogGroups",
                                        "logs:DescribeLogStreams",
                                        "logs:FilterLogEvents",
                                        "logs:GetLogEvents",
                                        "logs:PutLogEvents",
                                    ],
                                    "Resource": [
                                        {"Fn::Sub": f"{logs}*"},
                                        {"Fn::Sub": f"{logs}*:log-stream:*"},
                                    ],
                                }
                            ],
                        },
                    }
                ],
            },
        },
        "ApiGatewayAccount": {
            "Type": "AWS::ApiGateway::Account",
            **kept,
            "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]}},
        },
    }
