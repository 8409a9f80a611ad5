"""What the commands share: the stage options, and one line instead of a traceback for what
an operator can fix."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import botocore.exceptions

from chalicelib.adapters.aws import error_code
from ops.target import OpsError, Target, for_stage


def parser(description: str | None) -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(description=description)
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
    return one_line(lambda: command(for_stage(args.stage, args.endpoint_url)))


def one_line(call: Callable[[], int]) -> int:
    """Runs a command; what goes wrong (an OpsError, credentials, the endpoint, AWS's refusal)
    is one line on stderr, and exit status 2."""
    try:
        return call()
    except OpsError as error:
        return fail(error)
    except botocore.exceptions.NoCredentialsError:
        print("error: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID", file=sys.stderr)
    except botocore.exceptions.EndpointConnectionError as error:
        print(f"error: cannot reach {error.kwargs.get('endpoint_url')}", file=sys.stderr)
    except botocore.exceptions.ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        print(f"error: {error_code(error)}: {message}", file=sys.stderr)
    return 2


def fail(error: OpsError) -> int:
    print(f"error: {error}", file=sys.stderr)
    return 2
