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
    event_stream: str
    state_machine_name: str
    # Set by the packaged stack; without it (chalice deploy) the ARN is built from the name.
    state_machine_arn: str | None
    workflow_type: str  # STANDARD or EXPRESS
    denied_email_domains: tuple[str, ...]
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


def settings() -> Settings:
    return Settings(
        operations_table=_require("OPERATIONS_TABLE"),
        users_table=_require("USERS_TABLE"),
        event_stream=_require("EVENT_STREAM"),
        state_machine_name=_require("STATE_MACHINE_NAME"),
        state_machine_arn=os.environ.get("STATE_MACHINE_ARN") or None,
        workflow_type=os.environ.get("WORKFLOW_TYPE", "STANDARD"),
        denied_email_domains=tuple(
            d for d in os.environ.get("DENIED_EMAIL_DOMAINS", "").split(",") if d.strip()
        ),
        max_request_bytes=int(os.environ.get("MAX_REQUEST_BYTES", "4096")),
        republish_after_seconds=int(os.environ.get("REPUBLISH_AFTER_SECONDS", "120")),
        give_up_after_seconds=int(os.environ.get("GIVE_UP_AFTER_SECONDS", "3600")),
    )
