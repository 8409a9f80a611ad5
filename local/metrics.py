"""Counts of what the system does, for measuring per-operation costs on a local run.

Every AWS API call that reaches the emulator is counted by service and action, whoever made
it (the app, the Step Functions interpreter, the poller), plus API requests and Lambda
invocations. /_local/metrics serves a snapshot.
"""

from __future__ import annotations

import collections
import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.core.responses import BaseResponse

if TYPE_CHECKING:
    from local.patches import Engine


class CallCounter:
    def __init__(self) -> None:
        self._counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def counting(original: Callable[[BaseResponse], Any], engine: Engine, name: str) -> Any:
    """Replaces BaseResponse.call_action: counts the call, then answers it."""
    counter = engine.aws_calls

    @functools.wraps(original)
    def call_action(self: BaseResponse) -> Any:
        counter.add(f"{self.boto3_service_name}.{self._get_action()}")
        return original(self)

    return call_action
