"""Where the in-process tests wait in real time: `make sleeps`, or
`.venv/bin/python -m pytest -p benchmarks.sleeps [pytest arguments]` (without -n).

A pytest plugin: for the run it wraps time.sleep, in every thread, and at the end prints the
seconds slept per call site and per test (a sleep counts for the test running when it ends):
retry backoff in moto's Step Functions interpreter and in botocore, polling loops. Sleeps in
subprocesses (the local stack of the `process` tests) are not seen.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SHOWN = 15
_real_sleep = time.sleep
_lock = threading.Lock()
_seconds: collections.Counter[str] = collections.Counter()  # float seconds, counted
_calls: collections.Counter[str] = collections.Counter()
_per_test: collections.Counter[str] = collections.Counter()
_running = {"test": "(outside any test)"}


def _site(filename: str, line: int, function: str) -> str:
    path = Path(filename)
    for parent in path.parents:
        if parent.name in ("site-packages", "lib") or (parent / ".git").exists():
            path = path.relative_to(parent)
            break
    return f"{path}:{line} {function}"


def _sleep(seconds: float) -> None:
    caller = sys._getframe(1)
    site = _site(caller.f_code.co_filename, caller.f_lineno, caller.f_code.co_name)
    started = time.monotonic()
    try:
        _real_sleep(seconds)
    finally:
        slept = time.monotonic() - started
        with _lock:
            _seconds[site] += slept  # type: ignore[assignment]  # a Counter of seconds
            _calls[site] += 1
            _per_test[_running["test"]] += slept  # type: ignore[assignment]


def pytest_configure(config: pytest.Config) -> None:
    time.sleep = _sleep  # type: ignore[assignment]  # counted, then slept


def pytest_unconfigure(config: pytest.Config) -> None:
    time.sleep = _real_sleep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _running["test"] = item.nodeid
    try:
        return (yield)
    finally:
        _running["test"] = "(between tests)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    write = terminalreporter.write_line
    terminalreporter.section("real-time sleeps (benchmarks/sleeps.py)")
    write(f"{sum(_seconds.values()):.1f} s slept in {sum(_calls.values())} calls")
    write("by call site:")
    for site, seconds in _seconds.most_common(SHOWN):
        write(f"  {seconds:7.2f} s  {_calls[site]:6d} calls  {site}")
    write("by test:")
    for test, seconds in _per_test.most_common(SHOWN):
        write(f"  {seconds:7.2f} s  {test}")
