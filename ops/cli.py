"""What the commands share: the stage options, and one line instead of a traceback for what
an operator can fix."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from infra import aws_session, cli
from ops.target import OpsError, Target, for_stage


def parser(description: str | None) -> argparse.ArgumentParser:
    found = cli.Parser(description=description)
    found.add_argument(
        "--stage",
        default="local",
        help="local (default): the `make run` stack; dev, prod: the deployed stack",
    )
    found.add_argument("--endpoint-url", help="the local stack's AWS endpoint, if not the stage's")
    found.add_argument("--dry-run", action="store_true", help="read and report, change nothing")
    return found


def run(args: argparse.Namespace, command: Callable[[Target], int]) -> int:
    """Resolves the stage and runs the command; what goes wrong is one line on stderr."""
    return aws_session.run(lambda: command(for_stage(args.stage, args.endpoint_url)))


def fail(error: OpsError) -> int:
    print(f"error: {error}", file=sys.stderr)
    return 2
