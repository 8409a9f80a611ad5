"""--state: every table write is journalled before it returns (local/state/persistence.py)."""

from __future__ import annotations

from typing import Any

from local.patches.hooks import Hooks


def journalled(original: Any, hooks: Hooks, name: str) -> Any:
    assert hooks.journal is not None
    return hooks.journal.journalled(name, original)
