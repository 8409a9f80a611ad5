"""The commands that act on a deployed stage find the region and credentials as the AWS CLI
does, and say in one line what is missing (infra/aws_session.py).

AWS_REGION first, then AWS_DEFAULT_REGION, then the profile's region:
https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html and
https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from moto import mock_aws

from infra import aws_session, deploy
from infra.cli import CommandError
from infra.definition import ROOT, stack_name
from ops import redrive

CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
REGIONS = ("AWS_REGION", "AWS_DEFAULT_REGION")


@pytest.fixture
def bare(monkeypatch, tmp_path):
    """No AWS setting at all: no variables, empty config files, no instance metadata."""
    for name in (*CREDENTIALS, *REGIONS, "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


def _with_keys(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def test_aws_region_is_read_first(bare, monkeypatch):
    _with_keys(monkeypatch)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert aws_session.session().region_name == "eu-west-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")  # AWS_REGION overrides it
    assert aws_session.session().region_name == "eu-west-1"


def test_aws_default_region_and_then_the_profile(bare, monkeypatch):
    _with_keys(monkeypatch)
    bare.write_text("[profile team]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_PROFILE", "team")
    assert aws_session.session().region_name == "ap-south-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert aws_session.session().region_name == "us-west-2"


def test_credentials_from_the_profile(bare, monkeypatch, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text("[team]\naws_access_key_id = a\naws_secret_access_key = b\n")
    bare.write_text("[profile team]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_PROFILE", "team")
    found = aws_session.session()
    credentials_found = found.get_credentials()
    assert credentials_found is not None
    assert (found.region_name, credentials_found.access_key) == ("eu-central-1", "a")


@pytest.mark.parametrize(
    ("setting", "missing"),
    [
        ({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, aws_session.NO_REGION),
        ({"AWS_REGION": "eu-west-1"}, aws_session.NO_CREDENTIALS),
        ({"AWS_PROFILE": "nobody"}, "The config profile (nobody) could not be found"),
    ],
)
def test_what_is_missing_is_said(bare, monkeypatch, setting, missing):
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError) as err:
        aws_session.session()
    assert str(err.value).startswith(missing)
    assert "\n" not in str(err.value)


def test_redrive_of_a_stage_reads_aws_region(bare, monkeypatch, capsys):
    _with_keys(monkeypatch)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        assert redrive.main(["--stage", "dev"]) == 2
    assert capsys.readouterr().err == (
        f"error: no stack {stack_name('dev')} in eu-west-1: `make deploy STAGE=dev` first\n"
    )


def test_make_deploy_without_credentials_says_so_in_one_line(bare, monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setattr(sys, "argv", ["deploy", "--stage", "dev"])
    assert deploy.main() == 2
    assert capsys.readouterr() == ("", f"error: {aws_session.NO_CREDENTIALS}\n")


def test_make_deploy_of_an_unknown_stage_names_it(bare, monkeypatch, capsys):
    _with_keys(monkeypatch)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setattr(sys, "argv", ["deploy", "--stage", "qa"])
    assert deploy.main() == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: no stage 'qa' in ")


def test_tools_that_read_only_aws_default_region_are_given_it(bare, monkeypatch, capsys):
    _with_keys(monkeypatch)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    printed = "import os; print(os.environ['AWS_DEFAULT_REGION'])"
    finished = subprocess.run(
        [sys.executable, "-m", "infra.aws_session", sys.executable, "-c", printed],
        cwd=ROOT,
        env=dict(os.environ),  # as set here (another test may have left the process's own)
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (finished.returncode, finished.stdout) == (0, "eu-west-1\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert aws_session.main([sys.executable, "-c", printed]) == 2  # refused before exec
    assert capsys.readouterr().err == f"error: {aws_session.NO_CREDENTIALS}\n"


def test_make_bootstrap_ci_reads_aws_region_and_says_what_is_missing(bare, monkeypatch, capsys):
    from infra import bootstrap_ci

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setattr(sys, "argv", ["bootstrap-ci", "--stage", "dev", "--repository", "a/b"])
    assert bootstrap_ci.main() == 2
    assert capsys.readouterr() == ("", f"error: {aws_session.NO_CREDENTIALS}\n")
