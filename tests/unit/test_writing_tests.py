"""What a team meets writing its own test (docs/contributors.md, "Write a test"): a test
outside the emulator, or in a folder that is no tier, is told in one line what to do."""

from __future__ import annotations

import types
import uuid

import pytest
from chalice.test import Client

from app import app
from tests import conftest


def test_chalice_s_test_client_alone_is_told_to_take_the_stack_fixture():
    """Without the `stack` fixture there is no AWS to call: the app's first call fails the test
    with what to use instead, rather than answering 503 after reaching for AWS itself."""
    with Client(app) as client, pytest.raises(pytest.fail.Exception) as failed:
        client.http.get(f"/users/{uuid.uuid4()}")
    assert str(failed.value) == conftest.NO_EMULATOR
    assert "\n" not in conftest.NO_EMULATOR


def test_a_test_outside_a_tier_folder_is_named_before_anything_runs(tmp_path, monkeypatch):
    (tmp_path / "unit").mkdir()
    (tmp_path / "unit" / "test_fine.py").write_text("def test_x(): pass\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "test_x.py").write_text("def test_x(): pass\n")
    monkeypatch.setattr(conftest, "TESTS", tmp_path)
    with pytest.raises(pytest.UsageError) as refused:
        conftest.pytest_configure(types.SimpleNamespace(args=[str(tmp_path)]))  # type: ignore[arg-type]
    message = str(refused.value)
    assert message.startswith(f"{tmp_path.name}/mine/test_x.py: a test module lives in a tier")
    assert "\n" not in message
    conftest.pytest_configure(types.SimpleNamespace(args=[str(tmp_path / "unit")]))  # type: ignore[arg-type]
