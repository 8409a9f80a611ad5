"""The local stack (`python -m local run`) as a subprocess on free ports, for tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None], timeout: float = 10, what: str = "condition"
) -> T:
    """Polls `condition` until it returns something truthy, and returns that: a wait for a
    state, not for a time. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(0.02)
    return value


@contextlib.contextmanager
def running(*options: str) -> Iterator[LocalStackProcess]:
    """The local stack on free ports for the block, stopped after it (Ctrl-C), cleanly."""
    stack = LocalStackProcess(free_port(), free_port(), *options)
    stack.wait_until_up()
    yield stack
    code, output = stack.stop()
    assert code == 0, output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalStackProcess:
    def __init__(self, api_port: int, aws_port: int, *options: str) -> None:
        self.api = f"http://127.0.0.1:{api_port}"
        self.endpoint = f"http://127.0.0.1:{aws_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local",
                "run",
                "--api-port",
                str(api_port),
                "--aws-port",
                str(aws_port),
                *options,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self._up = threading.Event()
        # Drained all the time: a full pipe would block the stack's next log line and so
        # stall the request that logs it.
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "Ctrl-C stops everything" in line:
                self._up.set()

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self._up.wait(0.1):
            if self.process.poll() is not None:
                self._reader.join(5)
                raise AssertionError("the stack exited:\n" + "".join(self.output))
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError("the stack did not come up:\n" + "".join(self.output))

    def wait(self, timeout: float = 60) -> tuple[int, str]:
        """Waits for the stack to exit; its exit code and everything it printed."""
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code, "".join(self.output)

    def stop(self, signum: int = signal.SIGINT, timeout: float = 20) -> tuple[int, str]:
        self.process.send_signal(signum)
        return self.wait(timeout)

    def create_user(self, email: str, key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return requests.post(
            f"{self.api}/users", json={"email": email, "name": "Ada"}, headers=headers, timeout=5
        )

    def wait_done(self, operation_id: str, timeout: float = 10) -> dict:
        def done() -> dict | None:
            response = requests.get(f"{self.api}/operations/{operation_id}", timeout=5)
            assert response.status_code == 200, (operation_id, response.status_code)
            operation = response.json()
            return operation if operation.get("done") else None

        return wait_until(done, timeout, f"operation {operation_id} done")

    def aws(self, service: str) -> Any:
        """A client of the stack's AWS endpoint for any service."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
