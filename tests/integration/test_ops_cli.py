"""`make replay` and `make redrive` fail with one clear line, never a traceback: a bad window,
no local stack, no deployed stack."""

from __future__ import annotations

import subprocess
import sys

import pytest
from moto import mock_aws

from infra.definition import ROOT, stack_name
from local.process.child import free_port
from ops import redrive, replay

START_ONE = (
    'start one with `make run`, or name its AWS endpoint (ARGS="--endpoint-url '
    'http://127.0.0.1:<aws port>")'
)
WINDOW = ["--from", "2026-01-01T10:00:00Z", "--to", "2026-01-01T11:00:00Z"]


def _one_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (["--to", "2026-01-01T11:00:00Z"], "error: FROM is missing: give an ISO 8601 time"),
        (["--from", "noon", "--to", "2026-01-01T11:00:00Z"], "error: FROM=noon is not an ISO"),
        ([*WINDOW[:2], "--to", "2026-01-01T09:00:00Z"], "error: TO (2026-01-01T09:00:00Z) must"),
    ],
)
def test_a_bad_window_is_refused_before_anything_is_read(capsys, window, expected):
    # No stack answers on this port: the window is checked first.
    endpoint = f"http://127.0.0.1:{free_port()}"
    assert replay.main(["--endpoint-url", endpoint, *window]) == 2
    assert _one_line(capsys).startswith(expected)


@pytest.mark.parametrize("command", [replay.main, redrive.main])
def test_no_local_stack_says_to_start_one(capsys, command):
    endpoint = f"http://127.0.0.1:{free_port()}"
    arguments = ["--endpoint-url", endpoint] + (WINDOW if command is replay.main else [])
    assert command(arguments) == 2
    assert _one_line(capsys) == f"error: no local stack answers at {endpoint}: {START_ONE}"


@pytest.mark.parametrize("command", [replay.main, redrive.main])
def test_no_deployed_stack_says_to_deploy_it(capsys, command):
    with mock_aws():
        arguments = ["--stage", "dev"] + (WINDOW if command is replay.main else [])
        assert command(arguments) == 2
    assert _one_line(capsys) == (
        f"error: no stack {stack_name('dev')} in us-east-1: `make deploy STAGE=dev` first"
    )


def test_an_unknown_stage_is_named(capsys):
    assert redrive.main(["--stage", "qa"]) == 2
    assert "no stage 'qa'" in _one_line(capsys)


def test_the_module_runs_as_a_command():
    endpoint = f"http://127.0.0.1:{free_port()}"
    finished = subprocess.run(
        [sys.executable, "-m", "ops.redrive", "--endpoint-url", endpoint],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip() == (f"error: no local stack answers at {endpoint}: {START_ONE}")
