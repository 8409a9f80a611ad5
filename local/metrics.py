"""Counts of what the system does, for measuring per-operation costs on a local run.

Every AWS API call that reaches the emulator is counted by service and action, whoever made
it (the app, the Step Functions interpreter, the poller), plus API requests and Lambda
invocations. /_local/metrics serves a snapshot.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from moto.core.responses import BaseResponse


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

    @contextlib.contextmanager
    def counting_aws_calls(self) -> Iterator[None]:
        original = BaseResponse.call_action
        counter = self

        def call_action(self: BaseResponse) -> Any:
            counter.add(f"{self.boto3_service_name}.{self._get_action()}")
            return original(self)

        BaseResponse.call_action = call_action  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseResponse.call_action = original  # type: ignore[method-assign]
