"""`make reviewer STAGE=... EMAIL=...`: a user of the stage's reviewers' pool, in the reviewers'
group, with a temporary password Cognito emails (printed only when asked); every refusal one
line, exit status 2. Against moto's Cognito in process, as a deployed stage (boto3's own
credentials and region)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from chalicelib.domain.reviews import REVIEWERS_GROUP
from infra.definition import reviewer_pool_name
from local.aws.provision import ReviewerPool, provision_reviewers
from local.process.child import free_port
from ops import reviewer
from tests.conftest import emulated_aws

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pool() -> Iterator[ReviewerPool]:
    """The dev stage's pool, for the module (each test adds users of its own)."""
    with emulated_aws() as session:
        yield provision_reviewers(session, "dev")


def _one_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_a_reviewer_is_added_to_the_group_and_sent_a_temporary_password(pool, capsys):
    assert reviewer.main(["--stage", "dev", "--email", "ada.l@example.org"]) == 0
    cognito = boto3.client("cognito-idp")
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username="ada.l")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # changed at the first sign-in
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == "ada.l@example.org"
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username="ada.l")
    assert [g["GroupName"] for g in groups["Groups"]] == [REVIEWERS_GROUP]
    printed = capsys.readouterr().out
    assert f"reviewer ada.l added to {reviewer_pool_name('dev')}" in printed
    assert "password:" not in printed  # not asked: Cognito's email carries it


def test_asked_the_temporary_password_is_printed_and_signs_in_to_a_new_password(pool, capsys):
    arguments = ["--stage", "dev", "--email", "grace@example.org", "--username", "ghopper"]
    assert reviewer.main([*arguments, "--print-password"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "password:" in line]
    temporary = line.rsplit(" ", 1)[1]
    challenge = boto3.client("cognito-idp").initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ghopper", "PASSWORD": temporary},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([], "error: EMAIL= is not an email address: give EMAIL=<address>"),
        (["--email", "ada"], "error: EMAIL=ada is not an email address"),
        (["--email", "a+b@example.org"], "error: the user name 'a+b' is not letters, digits"),
        (
            ["--email", "ada@example.org", "--username", "ada lovelace"],
            "error: the user name 'ada lovelace' is not",
        ),
    ],
)
def test_bad_input_is_one_line_before_anything_is_asked_of_aws(capsys, arguments, expected):
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing answers there
    assert reviewer.main(["--endpoint-url", endpoint, "--print-password", *arguments]) == 2
    assert _one_line(capsys).startswith(expected)


def test_a_reviewer_added_twice_is_one_line(pool, capsys):
    assert reviewer.main(["--stage", "dev", "--email", "twice@example.org"]) == 0
    capsys.readouterr()
    assert reviewer.main(["--stage", "dev", "--email", "twice@example.org"]) == 2
    assert _one_line(capsys).startswith("error: UsernameExistsException")


def test_a_stage_without_a_reviewers_pool_is_one_line(pool, capsys):
    assert reviewer.main(["--stage", "prod", "--email", "ada@example.org"]) == 2
    assert _one_line(capsys).startswith(f"error: no user pool {reviewer_pool_name('prod')}")


def test_the_local_stack_needs_the_password_printed_and_an_absent_one_is_named(capsys):
    endpoint = f"http://127.0.0.1:{free_port()}"
    arguments = ["--email", "ada@example.org", "--endpoint-url", endpoint]
    assert reviewer.main(arguments) == 2
    assert _one_line(capsys).startswith("error: the local stack sends no email")
    assert reviewer.main([*arguments, "--print-password"]) == 2
    assert _one_line(capsys) == f"error: cannot reach {endpoint}/"
    assert reviewer.main(["--stage", "qa", "--email", "ada@example.org"]) == 2
    assert "no stage 'qa'" in _one_line(capsys)
