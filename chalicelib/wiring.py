"""The composition root: the adapters the entrypoints hand to the services, configured from the
stage's settings (chalicelib/config.py). An adapter with nothing to configure (the callbacks to
Step Functions, an added step's client of a new service) is built where app.py hands it over:
adding it edits no line here (docs/extending.md, "Add a step")."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import metrics as emf
from chalicelib.adapters.event_stream import EventStream
from chalicelib.adapters.notifications import ReviewTopic
from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.reviews_table import ReviewsTable
from chalicelib.adapters.users_table import UsersTable
from chalicelib.adapters.workflows import StepFunctionsWorkflows
from chalicelib.config import settings
from chalicelib.services.ports import Metrics
from chalicelib.services.steps import ReviewPolicy
from chalicelib.services.workflow import SweepPolicy


def operations() -> OperationsTable:
    return OperationsTable(settings().operations_table)


def users() -> UsersTable:
    return UsersTable(settings().users_table)


def reviews() -> ReviewsTable:
    return ReviewsTable(settings().reviews_table)


def review_notifications() -> ReviewTopic:
    config = settings()
    if config.review_page_url is None:
        raise RuntimeError("environment variable REVIEW_PAGE_URL is not set")
    return ReviewTopic(config.review_topic, config.review_page_url, config.review_topic_arn)


def review_policy() -> ReviewPolicy:
    config = settings()
    return ReviewPolicy(config.review_email_domains, config.review_timeout_seconds)


def events() -> EventStream:
    return EventStream(settings().event_stream)


def workflows() -> StepFunctionsWorkflows:
    config = settings()
    return StepFunctionsWorkflows(config.state_machine_name, config.state_machine_arn)


def sweep_policy() -> SweepPolicy:
    config = settings()
    return SweepPolicy(
        republish_after=timedelta(seconds=config.republish_after_seconds),
        give_up_after=timedelta(seconds=config.give_up_after_seconds),
    )


def metrics() -> Metrics:
    return emf.from_environment()
