"""Settings read from the environment at call time.

Chalice's test client patches environment variables per invocation, and Lambda sets them
before the handler runs, so nothing here is read at import.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

# The project's Chalice config, beside app.py (not shipped to Lambda).
CHALICE_CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


def configured_app_name() -> str:
    """`app_name` in .chalice/config.json: the one place the service is named."""
    return str(json.loads(CHALICE_CONFIG.read_text())["app_name"])


def app_name() -> str:
    """The service's name. Wherever the stage's environment is set (on Lambda, in the local
    stack, in the tests, while Chalice packages the app) it is APP_NAME, derived from
    .chalice/config.json like every resource name (infra/definition.py); elsewhere (a script
    beside the project) it is read from that file."""
    return os.environ.get("APP_NAME") or configured_app_name()


@dataclasses.dataclass(frozen=True)
class Settings:
    operations_table: str
    users_table: str
    reviews_table: str
    event_stream: str
    state_machine_name: str
    # Set by the packaged stack; without it (chalice deploy) the ARN is built from the name.
    state_machine_arn: str | None
    denied_email_domains: tuple[str, ...]
    # Addresses at these domains (or their subdomains) wait for a person's review...
    review_email_domains: tuple[str, ...]
    # ...for at most this long; then the operation fails with REVIEW_TIMED_OUT.
    review_timeout_seconds: int
    # Where a requested review is announced (SNS); the packaged stack gives the ARN.
    review_topic: str
    review_topic_arn: str | None
    # The reviewer page's address, which the announcement gives (set by the stack, or by
    # `make run`): only the function that announces reviews has it.
    review_page_url: str | None
    max_request_bytes: int
    # An operation still PENDING after this long is published again by the sweeper...
    republish_after_seconds: int
    # ...and given up (FAILED) after this long, so none stays PENDING for ever.
    give_up_after_seconds: int


def _require(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def _domains(name: str) -> tuple[str, ...]:
    return tuple(d for d in os.environ.get(name, "").split(",") if d.strip())


def _positive(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    if not value.isdigit() or int(value) < 1:
        raise RuntimeError(f"environment variable {name} must be a positive integer, not {value!r}")
    return int(value)


def settings() -> Settings:
    return Settings(
        operations_table=_require("OPERATIONS_TABLE"),
        users_table=_require("USERS_TABLE"),
        reviews_table=_require("REVIEWS_TABLE"),
        event_stream=_require("EVENT_STREAM"),
        state_machine_name=_require("STATE_MACHINE_NAME"),
        state_machine_arn=os.environ.get("STATE_MACHINE_ARN") or None,
        denied_email_domains=_domains("DENIED_EMAIL_DOMAINS"),
        review_email_domains=_domains("REVIEW_EMAIL_DOMAINS"),
        review_timeout_seconds=_positive("REVIEW_TIMEOUT_SECONDS", "86400"),
        review_topic=_require("REVIEW_TOPIC"),
        review_topic_arn=os.environ.get("REVIEW_TOPIC_ARN") or None,
        review_page_url=os.environ.get("REVIEW_PAGE_URL") or None,
        max_request_bytes=int(os.environ.get("MAX_REQUEST_BYTES", "4096")),
        republish_after_seconds=int(os.environ.get("REPUBLISH_AFTER_SECONDS", "120")),
        give_up_after_seconds=int(os.environ.get("GIVE_UP_AFTER_SECONDS", "3600")),
    )


@dataclasses.dataclass(frozen=True)
class ReviewerSignIn:
    """What the reviewer page needs to sign a reviewer in (GET /review/settings.json)."""

    auth: str  # REVIEW_AUTH: cognito (sign in), none (nobody signs in), iam (not from a page)
    region: str
    # The user pool and its app client for the page (set by the stack, or by `make run`).
    pool_id: str | None
    client_id: str | None
    # Cognito's public endpoint, which the browser calls: AWS's for the region, or the
    # emulator's (COGNITO_ENDPOINT_URL, set by `make run`).
    endpoint: str


def reviewer_sign_in() -> ReviewerSignIn:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    auth = os.environ.get("REVIEW_AUTH", "none")
    pool_id = os.environ.get("REVIEWER_POOL_ID") or None
    client_id = os.environ.get("REVIEWER_CLIENT_ID") or None
    if auth == "cognito" and (pool_id is None or client_id is None or not region):
        raise RuntimeError(
            "REVIEW_AUTH is cognito but REVIEWER_POOL_ID, REVIEWER_CLIENT_ID or the region is "
            "not set"
        )
    endpoint = (
        os.environ.get("COGNITO_ENDPOINT_URL") or f"https://cognito-idp.{region}.amazonaws.com"
    )
    return ReviewerSignIn(auth, region, pool_id, client_id, endpoint.rstrip("/"))
