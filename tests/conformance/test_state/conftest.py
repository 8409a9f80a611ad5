"""TestState on the local engine: moto in process with the local engine's patches, once per
module (no stack: TestState needs none, and only test_real_functions.py invokes functions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.emulator import EMULATOR_CONFIG
from local.patches import registry
from local.patches.hooks import Hooks
from local.state.clock import Clock
from tests.conftest import emulated_aws


@pytest.fixture(scope="module")
def sfn() -> Iterator[Any]:
    with (
        emulated_aws(EMULATOR_CONFIG),
        registry.applied(Hooks(clock=Clock(skip_sleeps=True))),
    ):
        yield boto3.client("stepfunctions")
