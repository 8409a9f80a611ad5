"""Add a reviewer to a stage: `make reviewer STAGE=prod EMAIL=ada@example.org [ARGS=...]`.

The stage's reviewers' user pool (REVIEW_AUTH=cognito) gets a user, in the reviewers' group:
Cognito emails the address its user name and a temporary password (good for 7 days); at the
first sign-in on the reviewer page, the reviewer chooses their own. The user name is the
address's local part unless --username gives one (the name the reviewer's decisions record).

The temporary password is never printed unless asked: --print-password makes it here and
prints it (Cognito still emails it). The local stack (`make run`) sends no email: there,
--print-password is the way to learn it.

AWS credentials and region: as the AWS CLI finds them (infra/aws_session.py); a local stage:
the running `make run`. What goes wrong is one line, exit status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from chalicelib.domain.reviews import REVIEWERS_GROUP
from infra import aws_session, definition
from ops.target import OpsError, stage_session

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,128}")


def username_for(email: str, given: str | None) -> str:
    name = given if given is not None else email.partition("@")[0]
    if not _USERNAME.fullmatch(name):
        raise OpsError(
            f"the user name {name!r} is not letters, digits, '.', '_' or '-': give one with "
            "ARGS=--username=<name>"
        )
    return name


def reviewer_pool(cognito: Any, stage: str) -> str:
    """The id of the stage's reviewers' pool, found by its name."""
    name = definition.reviewer_pool_name(stage)
    found = [
        pool["Id"]
        for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
        for pool in page["UserPools"]
        if pool["Name"] == name
    ]
    if not found:
        raise OpsError(
            f"no user pool {name}: the stage's reviewers sign in with Cognito once it is "
            "deployed with REVIEW_AUTH=cognito (make deploy), or running (make run)"
        )
    if len(found) > 1:
        raise OpsError(f"{len(found)} user pools are named {name}: remove the stale ones")
    return str(found[0])


def add_reviewer(
    cognito: Any, pool_id: str, username: str, email: str, password: str | None
) -> None:
    temporary = {"TemporaryPassword": password} if password is not None else {}
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": email},
            # The invitation goes to this address: it is the one the administrator means.
            {"Name": "email_verified", "Value": "true"},
        ],
        DesiredDeliveryMediums=["EMAIL"],
        **temporary,
    )
    cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username=username, GroupName=REVIEWERS_GROUP
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="local", help="local (default), dev, prod")
    parser.add_argument("--endpoint-url", help="the local stack's AWS endpoint, if not the stage's")
    parser.add_argument("--email", default="", help="where Cognito sends the invitation")
    parser.add_argument(
        "--username", help="the reviewer's user name (default: the email's local part)"
    )
    parser.add_argument(
        "--print-password",
        action="store_true",
        help="make the temporary password here and print it (Cognito emails it too)",
    )
    args = parser.parse_args(argv)

    def command() -> int:
        if not _EMAIL.fullmatch(args.email):
            raise OpsError(f"EMAIL={args.email} is not an email address: give EMAIL=<address>")
        username = username_for(args.email, args.username)
        session, endpoint = stage_session(args.stage, args.endpoint_url)
        if endpoint is not None and not args.print_password:
            raise OpsError(
                "the local stack sends no email: add ARGS=--print-password to learn the "
                "temporary password"
            )
        make: Any = session.client  # any service: the stubs type each by its literal name
        cognito = make("cognito-idp", endpoint_url=endpoint)
        pool_id = reviewer_pool(cognito, args.stage)
        password = definition.generated_password() if args.print_password else None
        add_reviewer(cognito, pool_id, username, args.email, password)
        print(f"reviewer {username} added to {definition.reviewer_pool_name(args.stage)}")
        print(
            f"  Cognito emails {args.email} the user name and a temporary password, good for "
            f"{definition.TEMPORARY_PASSWORD_DAYS} days; the first sign-in chooses their own"
        )
        if password is not None:
            print(f"  temporary password: {password}")
        return 0

    return aws_session.run(command)


if __name__ == "__main__":
    sys.exit(main())
