"""The Kinesis poller sleeps until a record is put, as Lambda's pollers are woken
(local/aws/kinesis_poller.py: RecordsArrived)."""

from __future__ import annotations

from typing import Any

from local.patches.hooks import Hooks


def woken(original: Any, hooks: Hooks, name: str) -> Any:
    assert hooks.records_arrived is not None
    return hooks.records_arrived.notifying(original)
