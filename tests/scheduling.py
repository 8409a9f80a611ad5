"""The order pytest-xdist hands test files to its workers (`make test`: `--dist loadfile
--no-loadscope-reorder`, so collection order): the slow files first, the many short ones
last, so that the workers run out of work together.

By default xdist hands out the files with the most tests first, which sends a file of three
slow tests (a subprocess stack killed and restarted, 26 s) to the end of the run, where one
worker ran it alone for 20 s while the other had finished. Slow here means a tier that
starts processes: the local stack in a subprocess, the browser, the packaging and checkov
(markers `process`, `browser`, `infra`), then the whole system in process (`e2e`).

First of all come the modules that take the shared `local_stack` (tests/conftest.py), and in
`--dist loadfile` they are one unit of work, handed out whole to one worker: one stack serves
them all, one after the other, and stops after the last of them instead of idling through
the rest of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from xdist.scheduler import LoadFileScheduling

SLOW_FIRST = (("process", "browser", "infra", "deployed"), ("e2e",))
ONE_STACK = "the modules that take local_stack"  # their unit of work (scope) for xdist


def _takes_local_stack(module: Path) -> bool:
    from tests.conftest import takes_local_stack  # this plugin is loaded by that conftest

    return takes_local_stack(module)


def _rank(item: pytest.Item) -> int:
    if _takes_local_stack(item.path):
        return 0
    for rank, markers in enumerate(SLOW_FIRST, start=1):
        if any(item.get_closest_marker(marker) for marker in markers):
            return rank
    return len(SLOW_FIRST) + 1


@pytest.hookimpl(trylast=True)  # after tests/conftest.py has marked each test with its tier
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: a file's tests share a rank and stay together, in order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    """`--dist loadfile`, but the modules that take the shared local stack are one unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class OneStackScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return ONE_STACK if _takes_local_stack(config.rootpath / module) else module

    return OneStackScheduling(config, log)
