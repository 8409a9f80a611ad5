"""Shared fixtures: the whole system over moto, in process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from infra.definition import stage_environment

if TYPE_CHECKING:
    from local.system import System

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
        system = System(app, STAGE, boto3.Session(), Clock(skip_sleeps=True))
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
