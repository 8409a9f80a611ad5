"""Shared fixtures: the whole system over moto, in process."""

from __future__ import annotations

import collections
import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from hypothesis import settings

from infra.definition import stage_environment

if TYPE_CHECKING:
    from local.system import System

TESTS = Path(__file__).parent
pytest_plugins = ("tests.scheduling",)  # the order xdist hands out files: the slow first
SUBPROCESS_STACK = "tests.local_stack_process"
STAGE = "test"  # like the local stage, but for moto in process (no endpoint URL)
# app.py reads the stream name at import, as Chalice does at package time; set it first.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        **stage_environment(STAGE),
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


# Hypothesis times each example against a deadline by default: a wall-clock assertion, which
# a loaded machine (parallel workers, CI) fails now and then. Performance is measured in
# benchmarks/, not here.
settings.register_profile("project", deadline=None)
settings.load_profile("project")


@functools.cache
def _session() -> boto3.Session:
    """One session for the test process: it parses each service's model once (a third of a
    stack's start-up), where a session per stack parsed them again for every test. It holds
    no state of a test: the stack's clients are made anew and moto's mock is per stack."""
    return boto3.Session()


@contextlib.contextmanager
def _running_stack() -> Iterator[System]:
    # Imported here, after the environment above: app.py reads the stage's stream name.
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from local.clock import Clock
    from local.system import EMULATOR_CONFIG, System

    with mock_aws(config=EMULATOR_CONFIG):
        # Test time: a retry's backoff moves the clock instead of waiting, and a timeout
        # fires when a test advances the clock.
        system = System(app, STAGE, _session(), Clock(skip_sleeps=True))
        with system.running(), Client(app, stage_name=STAGE) as client:
            system.client = client  # type: ignore[attr-defined]
            yield system


@pytest.fixture
def stack() -> Iterator[System]:
    """A fresh system per test."""
    with _running_stack() as system:
        yield system


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[System]:
    """One system for a module whose tests do not depend on each other's data."""
    with _running_stack() as system:
        yield system


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with its tier, the directory it lives in (tests/<tier>/...), and with
    `process` when its module drives the local stack in a subprocess: derived, not written,
    so a new file cannot forget them (and --strict-markers refuses an unregistered tier)."""
    seen = collections.Counter(item.nodeid for item in items)
    if twice := [nodeid for nodeid, count in seen.items() if count > 1]:
        # pytest-xdist keys its work by node id: all but one of these would never run.
        raise pytest.UsageError(f"tests with the same node id: {twice}")
    for item in items:
        parts = item.path.relative_to(TESTS).parts
        if len(parts) < 2:
            raise pytest.UsageError(f"{item.nodeid}: tests live in a tier, tests/<tier>/")
        item.add_marker(parts[0])
        module = getattr(item, "module", None)
        names = vars(module).values() if module else ()
        if any(getattr(value, "__module__", "") == SUBPROCESS_STACK for value in names):
            item.add_marker("process")
