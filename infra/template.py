"""The CloudFormation/SAM template merged into Chalice's (`chalice package --merge-template`).

Adds to the app's functions and API everything else the stage needs, as one stack: the
resources of infra/definition.py, one least-privilege role per function, the starter's
event-source-mapping settings, tracing, and alarms.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import operations_table, reviews_table
from chalicelib.http.auth import REVIEWERS_AUTHORIZER
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


def function_policies(stage: str) -> dict[str, list[dict[str, Any]]]:
    """What each function may do, and on what: nothing more than its code calls."""
    operations, users = _table("OperationsTable"), _table("UsersTable")
    stream = {"Fn::GetAtt": ["EventStream", "Arn"]}
    in_flight_index = _sub(f"${{OperationsTable.Arn}}/index/{operations_table.IN_FLIGHT_INDEX}")
    unmeasured_index = _sub(f"${{OperationsTable.Arn}}/index/{operations_table.UNMEASURED_INDEX}")
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
            # What went quiet, and the failures the workflow recorded (to measure them: the
            # mark comes off with an UpdateItem).
            _allow(["dynamodb:Query"], [in_flight_index, unmeasured_index]),
            _allow(["dynamodb:UpdateItem"], [operations]),
            _allow(["kinesis:PutRecord"], [stream]),
            _allow(["states:DescribeExecution"], [executions]),
        ],
    }
    for function, statements in review_policies(stage).items():
        found[function] = found.get(function, []) + statements
    return found


def review_policies(stage: str) -> dict[str, list[dict[str, Any]]]:
    """Human review: who touches the reviews table and the task tokens in it."""
    reviews, operations = _table("ReviewsTable"), _table("OperationsTable")
    pending_index = _sub(f"${{ReviewsTable.Arn}}/index/{reviews_table.PENDING_INDEX}")
    # The state machine by its name, not by a reference: the review-request step is told the
    # reviewer page's address on the API, and the API's function would otherwise depend on the
    # state machine that invokes that step (a cycle CloudFormation refuses).
    state_machine = definition.stage_environment(stage)["STATE_MACHINE_NAME"]
    return {
        # GET /reviews reads the index (no token in it); POST /reviews/{id} decides, then
        # resumes the waiting task. IAM checks SendTaskSuccess of a service integration's token
        # against the state machine (its AccessDenied names the stateMachine ARN); SendTaskFailure
        # and SendTaskHeartbeat are never called.
        "APIHandler": [
            _allow(["dynamodb:Query"], [pending_index]),
            _allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [reviews]),
            _allow(["states:SendTaskSuccess"], [_arn("states", f"stateMachine:{state_machine}")]),
        ],
        # Reads the review and concludes it (expires it) when the wait ends.
        "UserApprove": [_allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [reviews])],
        # Counts the reviews waiting, each minute (the ReviewsWaiting metric): the index only.
        "Sweeper": [_allow(["dynamodb:Query"], [pending_index])],
        "UserReviewRequest": [
            _allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], [reviews]),
            _allow(["dynamodb:UpdateItem"], [operations]),
            # Tells the reviewers (the topic's AWS managed key admits the account's principals
            # through SNS: no KMS grant needed).
            _allow(["sns:Publish"], [{"Ref": "ReviewTopic"}]),
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


# The stage setting that subscribes an email address to the review topic (infra/deploy.py:
# REVIEW_NOTIFICATION_EMAIL); empty, nobody is subscribed.
NOTIFICATION_EMAIL = "ReviewNotificationEmail"


def reviewer_page_url(stage: str) -> dict[str, str]:
    """The reviewer page on the stack's API (the default execute-api address)."""
    return _sub(
        "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
        f"{definition.api_stage(stage)}/review/"
    )


def review_notifications(stage: str) -> dict[str, Any]:
    """The email subscription a stage setting asks for, and what the review-request step
    needs to announce a review: the topic and the page's address."""
    return {
        "Parameters": {
            NOTIFICATION_EMAIL: {
                "Type": "String",
                "Default": "",
                "AllowedPattern": r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
                "Description": "An email address told of every review requested (empty: none)",
            }
        },
        "Conditions": {
            "NotifyByEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": NOTIFICATION_EMAIL}, ""]}]}
        },
        "ReviewEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "NotifyByEmail",
            "Properties": {
                "TopicArn": {"Ref": "ReviewTopic"},
                "Protocol": "email",
                "Endpoint": {"Ref": NOTIFICATION_EMAIL},
            },
        },
        "environment": {
            "REVIEW_TOPIC_ARN": {"Ref": "ReviewTopic"},
            "REVIEW_PAGE_URL": reviewer_page_url(stage),
        },
    }


def reviewer_sign_in(stage: str) -> dict[str, Any]:
    """A stage with REVIEW_AUTH=cognito: the API's reviewers' authorizer on the stack's pool,
    taking only the page's client's tokens (API Gateway matches their `aud` against
    identityValidationExpression), and what the page's settings tell the browser."""
    authorizer = {
        "providerARNs": [{"Fn::GetAtt": [definition.POOL, "Arn"]}],
        "identityValidationExpression": _sub(f"^${{{definition.PAGE_CLIENT}}}$"),
    }
    return {
        "securityDefinitions": {
            REVIEWERS_AUTHORIZER: {"x-amazon-apigateway-authorizer": authorizer}
        },
        "environment": {
            "REVIEWER_POOL_ID": {"Ref": definition.POOL},
            "REVIEWER_CLIENT_ID": {"Ref": definition.PAGE_CLIENT},
        },
        "Outputs": {
            "ReviewerPoolId": {"Value": {"Ref": definition.POOL}},
            "ReviewerPoolArn": {"Value": {"Fn::GetAtt": [definition.POOL, "Arn"]}},
            "ReviewerPageClientId": {"Value": {"Ref": definition.PAGE_CLIENT}},
        },
    }


def merge_template(stage: str) -> dict[str, Any]:
    resources: dict[str, Any] = definition.resources(stage)
    resources["Workflow"]["Properties"]["RoleArn"] = {"Fn::GetAtt": ["WorkflowRole", "Arn"]}
    resources["WorkflowRole"] = _workflow_role(stage)
    policies = function_policies(stage)
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
    notifications = review_notifications(stage)
    resources["ReviewEmailSubscription"] = notifications["ReviewEmailSubscription"]
    resources["UserReviewRequest"]["Properties"]["Environment"] = {
        "Variables": notifications["environment"]
    }
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
    # Merged into Chalice's API definition: deployed with it.
    api_definition: dict[str, Any] = {
        "x-amazon-apigateway-gateway-responses": gateway.gateway_responses(stage)
    }
    outputs: dict[str, Any] = {}
    if definition.stage_environment(stage).get("REVIEW_AUTH") == "cognito":
        sign_in = reviewer_sign_in(stage)
        api_definition["securityDefinitions"] = sign_in["securityDefinitions"]
        resources["APIHandler"]["Properties"]["Environment"] = {"Variables": sign_in["environment"]}
        outputs.update(sign_in["Outputs"])
    for function in policies:
        # Chalice packages its config's variables; the stack adds its own.
        environment = resources[function]["Properties"].setdefault("Environment", {})
        environment.setdefault("Variables", {}).update(definition.metrics_environment(stage))
    if definition.tracer(stage) == "otel":
        # The ADOT layer and its wrapper, on every function once each has its environment
        # (Chalice packages TRACER itself).
        for function in policies:
            properties = resources[function]["Properties"]
            properties["Layers"] = [definition.otel_layer()]
            variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
            variables["AWS_LAMBDA_EXEC_WRAPPER"] = definition.OTEL_WRAPPER
    # OpenApiVersion only stops SAM from adding a stray stage named "Stage".
    resources["RestAPI"] = {
        # Access logging needs the account's logging role set first.
        "DependsOn": ["ApiGatewayAccount"],
        "Properties": {
            "TracingEnabled": True,
            "OpenApiVersion": "3.0.1",
            "DefinitionBody": api_definition,
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
        "Parameters": notifications["Parameters"],
        "Conditions": notifications["Conditions"],
        # The ADOT layer's ARN by region, where a function names it (definition.otel_layer).
        **(
            {"Mappings": {definition.ADOT_LAYER_MAP: definition.adot_layers()}}
            if definition.tracer(stage) == "otel"
            else {}
        ),
        "Resources": resources,
        "Outputs": {
            "StateMachineArn": {"Value": {"Ref": "Workflow"}},
            "StarterFailureQueueUrl": {"Value": {"Ref": "StarterFailureQueue"}},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
            "ReviewTopicArn": {"Value": {"Ref": "ReviewTopic"}},
            "ReviewerPageUrl": {"Value": reviewer_page_url(stage)},
            **outputs,
        },
    }
