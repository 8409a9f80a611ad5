"""The order pytest-xdist hands test files to its workers (`make test`: `--dist loadfile
--no-loadscope-reorder`, so collection order): the slow files first, the many short ones
last, so that the workers run out of work together.

By default xdist hands out the files with the most tests first, which sends a file of three
slow tests (a subprocess stack killed and restarted, 26 s) to the end of the run, where one
worker ran it alone for 20 s while the other had finished. Slow here means a tier that
starts processes: the local stack in a subprocess, the browser, the packaging and checkov
(markers `process`, `browser`, `infra`), then the whole system in process (`e2e`).

First of all come the modules that take the `local_stack` fixture: a worker shares one stack
among them and stops it once its next test does not take it (tests/conftest.py), so they
run back to back and the stack does not idle through the rest of the run.
"""

from __future__ import annotations

import pytest

SLOW_FIRST = (("process", "browser", "infra", "deployed"), ("e2e",))


LOCAL_STACK = "local_stack"  # the fixture of the shared subprocess stack (tests/conftest.py)


def may_take_local_stack(item: pytest.Item) -> bool:
    """Whether the test takes the shared local stack: as a fixture, or through the black-box
    suite's `target` (tests/deployed/conftest.py), which takes it unless pointed elsewhere."""
    return LOCAL_STACK in getattr(item, "fixturenames", ()) or bool(
        item.get_closest_marker("deployed")
    )


def _rank(item: pytest.Item) -> int:
    if may_take_local_stack(item):
        return 0
    for rank, markers in enumerate(SLOW_FIRST, start=1):
        if any(item.get_closest_marker(marker) for marker in markers):
            return rank
    return len(SLOW_FIRST) + 1


@pytest.hookimpl(trylast=True)  # after tests/conftest.py has marked each test with its tier
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: a file's tests share a rank and stay together, in order
