"""X-Ray tracing, on only inside Lambda with tracing active; the one place that knows X-Ray.

Off (and never imported) locally and in tests, so no "segment not found" noise. The X-Ray
SDK is in maintenance mode until 2027-02: replacing this module is the whole migration to
OpenTelemetry.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

_recorder: Any = None
_decided = False


def enabled() -> bool:
    global _recorder, _decided
    if not _decided:
        _decided = True
        if os.environ.get("AWS_XRAY_DAEMON_ADDRESS") and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            from aws_xray_sdk.core import patch, xray_recorder

            xray_recorder.configure(context_missing="IGNORE_ERROR")
            patch(["botocore"])
            _recorder = xray_recorder
    return _recorder is not None


@contextlib.contextmanager
def subsegment(name: str, operation_id: str | None = None) -> Iterator[None]:
    """A named subsegment annotated with the operation id, so traces can be searched by it."""
    if not enabled():
        yield
        return
    with _recorder.in_subsegment(name) as segment:
        if operation_id:
            segment.put_annotation("operation_id", operation_id)
        yield
