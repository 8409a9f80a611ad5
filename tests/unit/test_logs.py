import json
import logging

import pytest

from chalicelib.adapters.logs import JsonFormatter, correlation, redact

pytestmark = pytest.mark.unit


def _format(logger_name: str, message: str, **extra: object) -> dict:
    record = logging.getLogger(logger_name).makeRecord(
        logger_name, logging.INFO, __file__, 1, message, (), None, extra=extra
    )
    return json.loads(JsonFormatter().format(record))


def test_records_are_json_with_the_correlation_id_and_extras():
    with correlation("op-123"):
        entry = _format("svc", "workflow started", user_id="u-1")
    assert entry["message"] == "workflow started"
    assert entry["level"] == "INFO"
    assert entry["correlation_id"] == "op-123"
    assert entry["user_id"] == "u-1"
    assert entry["timestamp"].endswith("Z")


def test_outside_an_operation_there_is_no_correlation_id():
    assert "correlation_id" not in _format("svc", "hello")


def test_emails_never_reach_the_log():
    entry = _format("svc", "rejected Ada.Lovelace+x@Example.org for now")
    assert "@" not in entry["message"]
    assert redact('{"email": "ada@example.org"}') == '{"email": "<email>"}'
