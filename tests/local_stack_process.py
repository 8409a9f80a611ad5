"""The local stack (`python -m local run`) as a subprocess on free ports, for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalStackProcess:
    def __init__(self, api_port: int, aws_port: int) -> None:
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
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise AssertionError("the stack exited:\n" + "".join(self.output))
            self.output.append(line)
            if "Ctrl-C stops everything" in line:
                return
        raise AssertionError("the stack did not come up:\n" + "".join(self.output))

    def stop(self, signum: int = signal.SIGINT, timeout: float = 20) -> tuple[int, str]:
        self.process.send_signal(signum)
        rest, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, "".join(self.output) + rest

    def aws(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
