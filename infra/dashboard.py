"""The stage's CloudWatch dashboard, and the alarms pointing at it.

The app's own metrics first (chalicelib/adapters/metrics.py writes them as EMF; APP_CHARTS
draws them, and the local console draws the same charts from the same definitions), then
AWS's: the API's requests, errors and latency, the stream's iterator age, the executions,
each function's errors, throttles and duration, DynamoDB's throttles, the on-failure queues,
and the state of every alarm. Every alarm of the stack names the dashboard and links to it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from chalicelib.adapters import metrics as m
from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.reviews import Decision
from infra import definition, functions

WIDTH, HEIGHT, COLUMNS = 8, 6, 24
PERIOD = 60  # seconds, every widget
# The dashboard's name: the stack's (the deploy role of the pipeline may make dashboards
# named after the stage's stack only: infra/bootstrap_ci.py).
DASHBOARD_NAME = "${AWS::StackName}"
DASHBOARD_URL = (
    "https://console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
    f"#dashboards/dashboard/{DASHBOARD_NAME}"
)


@dataclasses.dataclass(frozen=True)
class Line:
    """One of the app's metrics, with its dimensions beyond Stage, by one statistic."""

    metric: m.Metric
    stat: str  # a CloudWatch statistic: Sum, Average, Maximum, pNN
    label: str
    dimensions: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Chart:
    title: str
    unit: str  # what the values are: "count", "ms"
    lines: tuple[Line, ...]


def _count(metric: m.Metric, label: str, **dimensions: str) -> Line:
    return Line(metric, "Sum", label, tuple(dimensions.items()))


APP_CHARTS: tuple[Chart, ...] = (
    Chart(
        "Operations accepted and succeeded",
        "count",
        (
            _count(m.OPERATIONS_ACCEPTED, "accepted"),
            _count(m.OPERATIONS_SUCCEEDED, "succeeded"),
        ),
    ),
    Chart(
        "Operations failed, by error code",
        "count",
        tuple(_count(m.OPERATIONS_FAILED, code, **{m.ERROR_CODE: code}) for code in ErrorCode),
    ),
    Chart(
        "Time from accepted to done",
        "ms",
        tuple(Line(m.OPERATION_DURATION, stat, stat) for stat in ("p50", "p90", "p99", "Maximum")),
    ),
    Chart(
        "Starter lag: record on the stream to the starter",
        "ms",
        tuple(Line(m.STARTER_LAG, stat, stat) for stat in ("p50", "p99", "Maximum")),
    ),
    Chart(
        "Human review",
        "count",
        (
            _count(m.REVIEWS_REQUESTED, "requested"),
            *(_count(m.REVIEWS_DECIDED, f"decided: {d}", **{m.DECISION: d}) for d in Decision),
            _count(m.REVIEWS_TIMED_OUT, "timed out"),
        ),
    ),
    Chart(
        "Reviews waiting for a reviewer",
        "count",
        (Line(m.REVIEWS_WAITING, "Maximum", "waiting"),),
    ),
)


def _app_metric(line: Line, stage: str) -> list[Any]:
    environment = definition.metrics_environment(stage)
    dimensions = [m.STAGE, environment[m.STAGE_VARIABLE]]
    for name, value in line.dimensions:
        dimensions += [name, value]
    return [
        environment[m.NAMESPACE_VARIABLE],
        line.metric.name,
        *dimensions,
        {"stat": line.stat, "label": line.label},
    ]


def _aws(namespace: str, name: str, stat: str, label: str, **dimensions: str) -> list[Any]:
    pairs = [part for dimension in dimensions.items() for part in dimension]
    return [namespace, name, *pairs, {"stat": stat, "label": label}]


def _metric_widget(title: str, metrics: list[list[Any]], unit: str | None = None) -> dict:
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "region": "${AWS::Region}",
        "period": PERIOD,
        "metrics": metrics,
    }
    if unit:
        properties["yAxis"] = {"left": {"label": unit, "min": 0}}
    return {"type": "metric", "properties": properties}


def _aws_widgets(stage: str, lambdas: list[str]) -> list[dict]:
    api = {"ApiName": definition.app_name(), "Stage": definition.api_stage(stage)}
    machine = {"StateMachineArn": "${Workflow}"}
    tables = ("OperationsTable", "UsersTable", "ReviewsTable")
    queues = ("StarterFailureQueue", "SweeperDeadLetterQueue")

    def per_function(name: str, stat: str) -> list[list[Any]]:
        return [
            _aws("AWS/Lambda", name, stat, function, FunctionName=f"${{{function}}}")
            for function in lambdas
        ]

    return [
        _metric_widget(
            "API requests and errors",
            [
                _aws("AWS/ApiGateway", "Count", "Sum", "requests", **api),
                _aws("AWS/ApiGateway", "4XXError", "Sum", "4xx", **api),
                _aws("AWS/ApiGateway", "5XXError", "Sum", "5xx", **api),
            ],
            "count",
        ),
        _metric_widget(
            "API latency",
            [
                _aws("AWS/ApiGateway", "Latency", "p50", "p50", **api),
                _aws("AWS/ApiGateway", "Latency", "p99", "p99", **api),
                _aws("AWS/ApiGateway", "IntegrationLatency", "p99", "integration p99", **api),
            ],
            "ms",
        ),
        _metric_widget(
            "Stream: iterator age",
            [
                _aws("AWS/Lambda", "IteratorAge", "Maximum", "starter", FunctionName="${Starter}"),
                _aws(
                    "AWS/Kinesis",
                    "GetRecords.IteratorAgeMilliseconds",
                    "Maximum",
                    "all readers",
                    StreamName="${EventStream}",
                ),
            ],
            "ms",
        ),
        _metric_widget(
            "Executions",
            [
                _aws("AWS/States", f"Executions{what}", "Sum", what.lower(), **machine)
                for what in ("Started", "Succeeded", "Failed", "TimedOut", "Aborted")
            ],
            "count",
        ),
        _metric_widget("Lambda errors, per function", per_function("Errors", "Sum"), "count"),
        _metric_widget("Lambda throttles, per function", per_function("Throttles", "Sum"), "count"),
        _metric_widget("Lambda duration p99, per function", per_function("Duration", "p99"), "ms"),
        _metric_widget(
            "DynamoDB throttled requests",
            [
                _aws(
                    "AWS/DynamoDB",
                    f"{kind}ThrottleEvents",
                    "Sum",
                    f"{table} {kind.lower()}s",
                    TableName=f"${{{table}}}",
                )
                for table in tables
                for kind in ("Read", "Write")
            ],
            "count",
        ),
        _metric_widget(
            "On-failure queues: messages waiting",
            [
                _aws(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "Maximum",
                    queue,
                    QueueName=f"${{{queue}.QueueName}}",
                )
                for queue in queues
            ],
            "count",
        ),
    ]


def body(stage: str, alarms: list[str]) -> str:
    """The dashboard's JSON, its ${…} filled in by CloudFormation (Fn::Sub)."""
    lambdas = sorted(functions.logical_ids(functions.load_app()).values())
    namespace = definition.metrics_environment(stage)[m.NAMESPACE_VARIABLE]
    intro = (
        f"## {definition.app_name()} ({stage})\n"
        f"First the app's own metrics (namespace `{namespace}`, dimension `{m.STAGE}`, "
        "written by the functions as embedded metric format), then AWS's. Each alarm below "
        "points here. See docs/metrics.md."
    )
    widgets: list[dict[str, Any]] = [
        {"type": "text", "width": COLUMNS, "height": 2, "properties": {"markdown": intro}},
        *(
            _metric_widget(
                chart.title, [_app_metric(line, stage) for line in chart.lines], chart.unit
            )
            for chart in APP_CHARTS
        ),
        *_aws_widgets(stage, lambdas),
        {
            "type": "alarm",
            "width": COLUMNS,
            "height": HEIGHT,
            "properties": {
                "title": "Alarms",
                "alarms": [f"${{{alarm}.Arn}}" for alarm in alarms],
            },
        },
    ]
    x = y = 0
    for widget in widgets:
        width, height = widget.setdefault("width", WIDTH), widget.setdefault("height", HEIGHT)
        if x + width > COLUMNS:
            x, y = 0, y + HEIGHT
        widget.update(x=x, y=y)
        x += width
        if x >= COLUMNS:
            x, y = 0, y + height
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def add_dashboard(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """Adds the dashboard to a merge template whose alarms are all there (after
    infra/archive.py), and has every alarm name it and link to it."""
    resources = template["Resources"]
    alarms = sorted(k for k, v in resources.items() if v.get("Type") == "AWS::CloudWatch::Alarm")
    for alarm in alarms:
        properties = resources[alarm]["Properties"]
        properties["AlarmDescription"] = {
            "Fn::Sub": f"{properties['AlarmDescription']} Dashboard {DASHBOARD_NAME}: "
            f"{DASHBOARD_URL}"
        }
    resources["Dashboard"] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": DASHBOARD_NAME},
            "DashboardBody": {"Fn::Sub": body(stage, alarms)},
        },
    }
    template["Outputs"]["DashboardUrl"] = {"Value": {"Fn::Sub": DASHBOARD_URL}}
    return template
