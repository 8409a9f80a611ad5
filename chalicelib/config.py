"""Settings read from the environment at call time.

Chalice's test client patches environment variables per invocation, and Lambda sets them
before the handler runs, so nothing here is read at import.
"""

from __future__ import annotations

import dataclasses
import os


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
        max_request_bytes=int(os.environ.get("MAX_REQUEST_BYTES", "4096")),
        republish_after_seconds=int(os.environ.get("REPUBLISH_AFTER_SECONDS", "120")),
        give_up_after_seconds=int(os.environ.get("GIVE_UP_AFTER_SECONDS", "3600")),
    )
