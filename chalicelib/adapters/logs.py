"""Structured JSON logs with the operation id as correlation id.

Hand-written rather than Powertools' Logger: it is ~40 lines and saves the ~80 ms that
importing Powertools adds to every cold start (see docs/contributors.md, "Dependencies").
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
# Messages and tracebacks can quote input; no email address reaches the logs.
_EMAIL = re.compile(r"[^\s@\"'<>()]+@[^\s@\"'<>()]+")
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# A record with this attribute set carries a whole JSON document of its own as its message (an
# embedded-metric-format line, chalicelib/adapters/metrics.py): it is written as it is.
VERBATIM = "_verbatim"
_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, VERBATIM, False):
            return record.getMessage()
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, object] = {
            "timestamp": f"{moment}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        correlation_id = _correlation_id.get()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def redact(text: str) -> str:
    return _EMAIL.sub("<email>", text) if "@" in text else text  # no "@", no address


def configure() -> None:
    """Send every log record through the JSON formatter, once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger()
    if not root.handlers:  # Lambda installs its own handler; elsewhere we add one.
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    # The SDK's INFO lines (credentials found, endpoint chosen) are noise in every log.
    logging.getLogger("botocore").setLevel(max(root.level, logging.WARNING))


@contextlib.contextmanager
def correlation(operation_id: str | None) -> Iterator[None]:
    token = _correlation_id.set(operation_id)
    try:
        yield
    finally:
        _correlation_id.reset(token)
