"""The CloudFormation/SAM template merged into Chalice's (`chalice package --merge-template`).

Adds to the app's functions and API everything else the stage needs, as one stack: the
resources of infra/definition.py, one least-privilege role per function, the starter's
event-source-mapping settings, tracing, and alarms.
"""

from __future__ import annotations

from typing import Any

from infra import definition, functions, gateway, security

# X-Ray's write actions support no resource-level permissions: "*" is the only resource.
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _arn(service: str, resource: str) -> dict[str, str]:
    return _sub(
        f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
    )


def _table(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _allow(actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def _role(statements: list[dict[str, Any]], service: str, log_group: Any) -> dict[str, Any]:
    logging_statements = (
        [_allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], [log_group])]
        if log_group
        else []
    )
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": security.trust(service),
            "Policies": [
                {
                    "PolicyName": "least-privilege",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            *statements,
                            *logging_statements,
                            _allow(XRAY_ACTIONS, ["*"]),
                        ],
                    },
                }
            ],
        },
    }


def _function_log_group(function: str) -> dict[str, str]:
    # CloudFormation names functions "<stack>-<LogicalId>-<suffix>".
    return _arn("logs", f"log-group:/aws/lambda/${{AWS::StackName}}-{function}-*")


def function_policies() -> dict[str, list[dict[str, Any]]]:
    """What each function may do, and on what: nothing more than its code calls."""
    operations, users = _table("OperationsTable"), _table("UsersTable")
    stream = {"Fn::GetAtt": ["EventStream", "Arn"]}
    in_flight_index = _sub("${OperationsTable.Arn}/index/in-flight")
    executions = _arn("states", "execution:${Workflow.Name}:*")
    found = {
        # Idempotent create and publish-failure rollback run as transactions: each item
        # action is authorised on its own.
        "APIHandler": [
            _allow(
                [
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                [operations],
            ),
            _allow(["dynamodb:GetItem"], [users]),
            _allow(["kinesis:PutRecord"], [stream]),
        ],
        "Starter": [
            _allow(
                [
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                ],
                [stream],
            ),
            _allow(["sqs:SendMessage"], [{"Fn::GetAtt": ["StarterFailureQueue", "Arn"]}]),
            _allow(["dynamodb:UpdateItem"], [operations]),
            _allow(["states:StartExecution"], [{"Ref": "Workflow"}]),
        ],
        "UserCreate": [_allow(["dynamodb:GetItem", "dynamodb:PutItem"], [users])],
        "UserApprove": [
            _allow(["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], [users])
        ],
        "UserCreateResponse": [
            _allow(["dynamodb:GetItem"], [users]),
            _allow(["dynamodb:UpdateItem"], [operations]),
        ],
        "Sweeper": [
            _allow(["sqs:SendMessage"], [{"Fn::GetAtt": ["SweeperDeadLetterQueue", "Arn"]}]),
            _allow(["dynamodb:Query"], [in_flight_index]),
            _allow(["dynamodb:UpdateItem"], [operations]),
            _allow(["kinesis:PutRecord"], [stream]),
            _allow(["states:DescribeExecution"], [executions]),
        ],
    }
    for function, statements in review_policies().items():
        found[function] = found.get(function, []) + statements
    return found


def review_policies() -> dict[str, list[dict[str, Any]]]:
    """Human review: who touches the reviews table and the task tokens in it."""
    reviews, operations = _table("ReviewsTable"), _table("OperationsTable")
    pending_index = _sub(f"${{ReviewsTable.Arn}}/index/{definition.REVIEWS_PENDING_INDEX}")
    return {
        # GET /reviews reads the index (no token in it); POST /reviews/{id} decides, then
        # resumes the waiting task. IAM checks SendTaskSuccess of a service integration's token
        # against the state machine (its AccessDenied names the stateMachine ARN); SendTaskFailure
        # and SendTaskHeartbeat are never called.
        "APIHandler": [
            _allow(["dynamodb:Query"], [pending_index]),
            _allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [reviews]),
            _allow(["states:SendTaskSuccess"], [{"Ref": "Workflow"}]),
        ],
        # Reads the review and concludes it (expires it) when the wait ends.
        "UserApprove": [_allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [reviews])],
        "UserReviewRequest": [
            _allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], [reviews]),
            _allow(["dynamodb:UpdateItem"], [operations]),
        ],
    }


def _workflow_role(stage: str) -> dict[str, Any]:
    steps = [{"Fn::GetAtt": [fn, "Arn"]} for fn in definition.STEP_FUNCTIONS.values()]
    versions = [_sub(f"${{{fn}.Arn}}:*") for fn in definition.STEP_FUNCTIONS.values()]
    statements = [
        _allow(["lambda:InvokeFunction"], steps + versions),
        _allow(["dynamodb:UpdateItem"], [_table("OperationsTable")]),
    ]
    return _role(statements, "states.amazonaws.com", None)


def _alarm(description: str, metric: dict[str, Any], threshold: float) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
            # A metric-math alarm gives its period per metric instead.
            **({} if "Metrics" in metric else {"Period": 60}),
            "Threshold": threshold,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
            **metric,
        },
    }


def alarms(stage: str) -> dict[str, Any]:
    api_name = f"{definition.app_name()}"
    found = {
        # CloudWatch can publish to an encrypted topic only with a customer managed key.
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]}},
        },
        "StarterIteratorAgeAlarm": _alarm(
            "The starter is falling behind the stream (oldest record over a minute old).",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "Starter"}}],
                "Statistic": "Maximum",
            },
            60_000,
        ),
        "StarterFailuresAlarm": _alarm(
            "Stream records gave up on: they wait in the on-failure queue.",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {
                        "Name": "QueueName",
                        "Value": {"Fn::GetAtt": ["StarterFailureQueue", "QueueName"]},
                    }
                ],
                "Statistic": "Maximum",
            },
            0,
        ),
        "SweeperDeadLettersAlarm": _alarm(
            "Sweeps failed after Lambda's retries: their events wait in the dead-letter queue.",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {
                        "Name": "QueueName",
                        "Value": {"Fn::GetAtt": ["SweeperDeadLetterQueue", "QueueName"]},
                    }
                ],
                "Statistic": "Maximum",
            },
            0,
        ),
        "WorkflowFailedAlarm": _alarm(
            "Executions failed or timed out: a step is broken (business refusals succeed).",
            {
                "Metrics": [
                    _metric("failed", "ExecutionsFailed"),
                    _metric("timedout", "ExecutionsTimedOut"),
                    {"Id": "broken", "Expression": "failed + timedout", "ReturnData": True},
                ]
            },
            0,
        ),
        "Api5xxAlarm": _alarm(
            "The API answered with 5xx errors.",
            {
                "Namespace": "AWS/ApiGateway",
                "MetricName": "5XXError",
                "Dimensions": [
                    {"Name": "ApiName", "Value": api_name},
                    {"Name": "Stage", "Value": "api"},
                ],
                "Statistic": "Sum",
            },
            0,
        ),
    }
    for logical_id, alarm in found.items():
        if alarm["Type"] == "AWS::CloudWatch::Alarm":
            alarm["Properties"]["AlarmName"] = _sub(f"${{AWS::StackName}}-{logical_id}")
    return found


def _metric(metric_id: str, name: str) -> dict[str, Any]:
    return {
        "Id": metric_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/States",
                "MetricName": name,
                "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": "Workflow"}}],
            },
            "Period": 60,
            "Stat": "Sum",
        },
    }


def merge_template(stage: str) -> dict[str, Any]:
    resources: dict[str, Any] = definition.resources(stage)
    resources["Workflow"]["Properties"]["RoleArn"] = {"Fn::GetAtt": ["WorkflowRole", "Arn"]}
    resources["WorkflowRole"] = _workflow_role(stage)
    policies = function_policies()
    deployed = set(functions.logical_ids(functions.load_app()).values())
    if set(policies) != deployed:
        raise ValueError(
            f"function_policies() must name exactly the app's functions {sorted(deployed)}, "
            f"not {sorted(policies)}"
        )
    for function, statements in policies.items():
        resources[f"{function}Role"] = _role(
            statements, "lambda.amazonaws.com", _function_log_group(function)
        )
        hardening = security.function_hardening(stage, function)
        resources[function] = {
            "Properties": {
                "Role": {"Fn::GetAtt": [f"{function}Role", "Arn"]},
                "Tracing": "Active",
                # Chalice writes the building interpreter's version; the stack runs this one.
                "Runtime": definition.LAMBDA_RUNTIME,
                **hardening["Properties"],
            },
            "Metadata": hardening["Metadata"],
        }
    for function in ("Starter", "Sweeper"):
        resources[function]["Properties"]["Environment"] = {
            "Variables": {
                "STATE_MACHINE_ARN": {"Ref": "Workflow"},
            }
        }
    if definition.tracer(stage) == "otel":
        # The ADOT layer and its wrapper, on every function (Chalice packages TRACER itself).
        for function in policies:
            properties = resources[function]["Properties"]
            properties["Layers"] = [definition.otel_layer()]
            variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
            variables["AWS_LAMBDA_EXEC_WRAPPER"] = definition.OTEL_WRAPPER
    resources["Starter"]["Properties"]["Events"] = {
        "StarterKinesisEventSource": {
            "Properties": {
                **definition.starter_mapping(stage),
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["StarterFailureQueue", "Arn"]}}
                },
            }
        }
    }
    resources["SweeperDeadLetterQueue"] = security.encrypted_queue(
        definition.sweeper_dead_letter_queue_name(stage)
    )
    tables = [k for k, v in resources.items() if v.get("Type") == "AWS::DynamoDB::Table"]
    for table in tables:
        resources[table]["Metadata"] = security.skip(("CKV_AWS_119", security.ACCEPTED_TABLE_KEY))
    resources["ApiAccessLogs"] = security.log_group(
        security.access_log_group_name(stage), security.ACCESS_LOG_RETENTION_DAYS
    )
    resources.update(security.api_gateway_account())
    # OpenApiVersion only stops SAM from adding a stray stage named "Stage".
    resources["RestAPI"] = {
        # Access logging needs the account's logging role set first.
        "DependsOn": ["ApiGatewayAccount"],
        "Properties": {
            "TracingEnabled": True,
            "OpenApiVersion": "3.0.1",
            # Merged into Chalice's API definition: deployed with it.
            "DefinitionBody": {
                "x-amazon-apigateway-gateway-responses": gateway.gateway_responses(stage)
            },
            "AccessLogSetting": {
                "DestinationArn": {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]},
                "Format": security.ACCESS_LOG_FORMAT,
            },
        },
        "Metadata": security.skip(("CKV_AWS_120", security.ACCEPTED_API_CACHE)),
    }
    resources.update(alarms(stage))
    security.encrypt_log_groups(resources)
    return {
        "Resources": resources,
        "Outputs": {
            "StateMachineArn": {"Value": {"Ref": "Workflow"}},
            "StarterFailureQueueUrl": {"Value": {"Ref": "StarterFailureQueue"}},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
        },
    }
