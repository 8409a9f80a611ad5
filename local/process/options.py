"""What `make run` is asked for (ports, stage, clock speed, state file) and what follows from
it: the ports to check and the environment the app and the emulator see."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

from infra.definition import stage_environment

# Settings `make run` takes from the environment over the stage's (.chalice/config.json).
ENVIRONMENT_OVERRIDES = ("REVIEW_EMAIL_DOMAINS", "REVIEW_TIMEOUT_SECONDS")


@dataclasses.dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    api_port: int = 8000
    aws_port: int = 4566
    xray_port: int = 2000  # the X-Ray daemon's UDP port (local/aws/xray_daemon.py)
    otlp_port: int = 4318  # OTLP/HTTP (local/aws/otlp.py)
    region: str = "us-east-1"
    stage: str = "local"
    keep_executions: int = 1000
    keep_traces: int = 1000
    trace_all: bool = False  # every request traced (else X-Ray's default sampling rule)
    verbose: bool = False
    state: Path | None = None  # the tables' file across restarts (local/state/persistence.py)
    speed: float = 1.0  # emulated seconds per real second (local/state/clock.py)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def xray_daemon(self) -> str:
        return f"{self.host}:{self.xray_port}"

    def environment(self) -> dict[str, str]:
        return {
            **stage_environment(self.stage),
            **{name: os.environ[name] for name in ENVIRONMENT_OVERRIDES if name in os.environ},
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            # moto's Step Functions tasks call back into the emulator on this port.
            "MOTO_PORT": str(self.aws_port),
            "MOTO_HOST": self.host,
            # The reviewer page signs in at the emulator's Cognito; the reviewers are told
            # of a review with the page's address.
            "COGNITO_ENDPOINT_URL": self.endpoint,
            "REVIEW_PAGE_URL": f"{self.api_url}/review/",
        }


class PortBusy(Exception):
    pass


def check_free(host: str, port: int, flag: str, kind: int = socket.SOCK_STREAM) -> None:
    with socket.socket(socket.AF_INET, kind) as probe:
        if kind == socket.SOCK_STREAM:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortBusy(
                f"port {port} on {host} is busy ({error.strerror}); use {flag}"
            ) from None
