"""Thread-safe counts of what the system does (AWS calls by service and action, API requests
by method, Lambda invocations), for the console's figures and per-operation costs."""

from __future__ import annotations

import collections
import threading


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
