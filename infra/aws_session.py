"""The AWS session of every command that acts on a deployed stage (`make deploy`, `destroy`,
`chalice-deploy`, and `replay`/`redrive` with a STAGE), and the one line it prints for what
an operator can fix.

Region and credentials are found as the AWS CLI (v2) finds them: `AWS_REGION`, then what
botocore resolves itself (`AWS_DEFAULT_REGION`, then the profile's `region`, with
`AWS_PROFILE` and `AWS_CONFIG_FILE`), and botocore's credential chain (the variables, the
profile, SSO, the container or the instance). botocore itself does not read `AWS_REGION`
(only the SDK-wide setting does): https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html
and https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html, "AWS_REGION:
overrides AWS_DEFAULT_REGION and the profile setting region".

    python -m infra.aws_session COMMAND...   runs COMMAND with the region found (for tools,
                                             like the chalice CLI, that read only
                                             AWS_DEFAULT_REGION), or says what is missing
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable

import boto3
import botocore.exceptions

from infra import cli
from infra.cli import CommandError

NO_REGION = "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or `region` in your AWS profile)"
NO_CREDENTIALS = (
    "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(`aws configure` writes a profile)"
)


def region() -> str | None:
    """The region the AWS CLI would use, if any (no credentials needed)."""
    return _session().region_name


def session() -> boto3.Session:
    """A session with a region and credentials, or a CommandError saying which is missing."""
    found = _session()
    if not found.region_name:
        raise CommandError(NO_REGION)
    try:
        credentials = found.get_credentials()
    except botocore.exceptions.BotoCoreError as error:  # SSO expired, a broken profile...
        raise CommandError(one_line(error)) from None
    if credentials is None:
        raise CommandError(NO_CREDENTIALS)
    return found


def _session() -> boto3.Session:
    try:
        return boto3.Session(region_name=os.environ.get("AWS_REGION") or None)
    except botocore.exceptions.ProfileNotFound as error:
        raise CommandError(f"{error}: check AWS_PROFILE") from None


def one_line(error: Exception) -> str:
    """What an AWS call's failure means to an operator, in one line."""
    match error:
        case botocore.exceptions.NoCredentialsError():
            return NO_CREDENTIALS
        case botocore.exceptions.NoRegionError():
            return NO_REGION
        case botocore.exceptions.EndpointConnectionError():
            return f"cannot reach {error.kwargs.get('endpoint_url')}"
        case botocore.exceptions.ClientError():
            details = error.response.get("Error", {})
            return f"{details.get('Code', '')}: {details.get('Message', '')}"
    return " ".join(str(error).split())


def run(command: Callable[[], int]) -> int:
    """Runs a command; what an operator can fix, AWS's refusals included, ends it with one
    line on stderr, status 2 (infra/cli.py)."""

    def translated() -> int:
        try:
            return command()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise CommandError(one_line(error)) from None

    return cli.run(translated)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m infra.aws_session COMMAND [ARG...]", file=sys.stderr)
        return 2

    def execute() -> int:
        region = session().region_name
        program = shutil.which(argv[0]) or argv[0]
        os.execve(program, argv, {**os.environ, "AWS_DEFAULT_REGION": region})

    return run(execute)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
