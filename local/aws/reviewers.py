"""The local stage's reviewer: the one user `make run` adds to the reviewers' user pool, so that
a person, a script or an outside check can sign in at once (docs/reviewers.md).

Its user name is `reviewer`; its password is LOCAL_REVIEWER_PASSWORD, or one generated (and
printed) when that is not set; it is permanent (no change at first sign-in, unlike a reviewer
`make reviewer` adds on AWS).
"""

from __future__ import annotations

import boto3
import botocore.exceptions

from chalicelib.domain.reviews import REVIEWERS_GROUP
from infra.definition import PASSWORD_POLICY
from local.aws.provision import ReviewerPool

USERNAME = "reviewer"
# Its email attribute (the pool requires one): a reserved domain, no one's mailbox.
EMAIL = "reviewer@example.org"


class WeakPassword(Exception):
    """LOCAL_REVIEWER_PASSWORD does not meet the pool's password policy."""


def add_local_reviewer(session: boto3.Session, pool: ReviewerPool, password: str) -> None:
    cognito = session.client("cognito-idp")
    cognito.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=USERNAME,
        MessageAction="SUPPRESS",  # no invitation: the password is set here, for good
        UserAttributes=[
            {"Name": "email", "Value": EMAIL},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    try:
        cognito.admin_set_user_password(
            UserPoolId=pool.pool_id, Username=USERNAME, Password=password, Permanent=True
        )
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidPasswordException":
            raise
        policy = PASSWORD_POLICY
        raise WeakPassword(
            f"LOCAL_REVIEWER_PASSWORD does not meet the reviewers' password policy: at least "
            f"{policy['MinimumLength']} characters, with lower and upper case letters, a digit "
            "and a symbol"
        ) from None
    cognito.admin_add_user_to_group(
        UserPoolId=pool.pool_id, Username=USERNAME, GroupName=REVIEWERS_GROUP
    )
