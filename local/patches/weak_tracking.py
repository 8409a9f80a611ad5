"""moto's models tracked weakly: what moto no longer uses is freed (local/state/retention.py
tells why this matters)."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from local.patches.hooks import Hooks


class LiveInstances:
    """Stands in for a moto model class's `instances_tracked` list: it lists the instances
    something else keeps alive, and keeps none alive itself."""

    def __init__(self, instances: Iterable[Any] = ()) -> None:
        self._instances: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        for instance in instances:
            self.append(instance)

    def append(self, instance: Any) -> None:
        self._instances[id(instance)] = instance

    def __iter__(self) -> Iterator[Any]:
        # A copy of the references first: other threads add instances while we iterate.
        return (
            instance
            for reference in self._instances.valuerefs()
            if (instance := reference()) is not None
        )

    def __len__(self) -> int:
        return len(self._instances)


def weakly_tracked(original: Any, hooks: Hooks, name: str) -> Any:
    """The registry's factory (weakly-tracked-models)."""
    return weakly_tracked_new


def weakly_tracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """Replaces `moto.core.common_models.BaseModel.__new__(cls, *args, **kwargs) -> BaseModel`.

    moto's appends every instance to `cls.instances_tracked` (a list per class, read only by
    moto's dashboard and by S3's reset to dispose of keys), so every model moto ever creates
    stays in memory: the table backups of each transaction, each execution's copy of its
    state machine, replaced items, records. This one tracks them in a LiveInstances instead,
    converting the class's list the first time (moto's reset puts plain lists back).
    """
    from moto.core.common_models import BaseModel

    instance = super(BaseModel, cls).__new__(cls)  # type: ignore[misc]
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, LiveInstances):
        tracked = LiveInstances(tracked or ())
        cls.instances_tracked = tracked  # type: ignore[attr-defined]
    tracked.append(instance)
    return instance
