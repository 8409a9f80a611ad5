"""TestState on the local engine: moto in process with the local engine's patches, once per
module (no stack: TestState needs none, and only test_real_functions.py invokes functions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local import patches
from local.clock import Clock
from local.system import EMULATOR_CONFIG


@pytest.fixture(scope="module")
def sfn() -> Iterator[Any]:
    from moto import mock_aws

    with (
        mock_aws(config=EMULATOR_CONFIG),
        patches.applied(patches.Engine(clock=Clock(skip_sleeps=True))),
    ):
        yield boto3.client("stepfunctions")
