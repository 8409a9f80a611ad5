"""The order pytest-xdist hands test files to its workers (`make test`: `--dist loadfile
--no-loadscope-reorder`, so collection order): the slow files first, the many short ones
last, so that the workers run out of work together.

By default xdist hands out the files with the most tests first, which sends a file of three
slow tests (a subprocess stack killed and restarted, 26 s) to the end of the run, where one
worker ran it alone for 20 s while the other had finished. Slow here means a tier that
starts processes: the local stack in a subprocess, the browser, the packaging and checkov
(markers `process`, `browser`, `infra`), then the whole system in process (`e2e`).
"""

from __future__ import annotations

import pytest

SLOW_FIRST = (("process", "browser", "infra", "deployed"), ("e2e",))


def _rank(item: pytest.Item) -> int:
    for rank, markers in enumerate(SLOW_FIRST):
        if any(item.get_closest_marker(marker) for marker in markers):
            return rank
    return len(SLOW_FIRST)


@pytest.hookimpl(trylast=True)  # after tests/conftest.py has marked each test with its tier
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: a file's tests share a rank and stay together, in order
