"""The local stack (`python -m local run`) as a child process on free ports: for the tests
that drive it over HTTP and for the soak benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from infra.definition import generated_password

ROOT = Path(__file__).resolve().parents[2]
UP = "Ctrl-C stops everything"  # the banner's last line: the stack is up


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ChildStack:
    def __init__(self, api_port: int, aws_port: int, *options: str, root: Path = ROOT) -> None:
        """`root`: the checkout it runs, with that checkout's own .venv (benchmarks compare
        one commit with another)."""
        self.api = f"http://127.0.0.1:{api_port}"
        self.endpoint = f"http://127.0.0.1:{aws_port}"
        self.xray_port = free_port(socket.SOCK_DGRAM)
        self.otlp_port = free_port()
        self.otlp = f"http://127.0.0.1:{self.otlp_port}/v1/traces"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        # The local reviewer's password, chosen here so that whoever drives the stack can sign
        # in (`make run` itself generates one when it is not given).
        self.reviewer_password = env["LOCAL_REVIEWER_PASSWORD"] = generated_password()
        python = sys.executable if root == ROOT else str(root / ".venv" / "bin" / "python")
        self.process = subprocess.Popen(
            [
                python,
                "-m",
                "local",
                "run",
                "--api-port",
                str(api_port),
                "--aws-port",
                str(aws_port),
                # The X-Ray daemon's and OTLP's ports too: other stacks may hold the defaults.
                "--xray-port",
                str(self.xray_port),
                "--otlp-port",
                str(self.otlp_port),
                *options,
            ],
            cwd=root,
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
            if UP in line:
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
