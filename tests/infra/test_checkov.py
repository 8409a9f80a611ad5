"""checkov over the packaged stack of every deployed stage: nothing failed, nothing unexplained.

`make test` installs checkov into .venv-checkov first (`make checkov-venv`); without it this
test fails and says so. `make scan STAGE=dev` prints the same figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from infra import bootstrap_ci, scan
from infra.definition import app_name
from infra.security import skip

STAGES = ["dev", "prod"]


# The scan is not blind: a queue left unencrypted is reported as failed, and one accepted on
# the resource as skipped with its reason. Scanned in the same run as the stages.
UNENCRYPTED = {
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Skipped": {
            "Type": "AWS::SQS::Queue",
            "Properties": {},
            "Metadata": skip(("CKV_AWS_27", "a reason")),
        },
    }
}


@pytest.fixture(scope="module")
def every_report(packaged_stage, tmp_path_factory) -> dict[str, list[scan.Report]]:
    """What `make scan` reports for each stage (and for UNENCRYPTED), from one checkov process
    for all of them: its start-up is a few seconds."""
    out = tmp_path_factory.mktemp("scan")
    templates = {}
    for stage in STAGES:
        (out / stage).mkdir()
        sam_file = shutil.copy(packaged_stage(stage), out / stage / "sam.json")
        templates[stage] = scan.with_expansion(sam_file)
    (out / "bootstrap-ci").mkdir()
    bootstrap = out / "bootstrap-ci" / "bootstrap.json"
    bootstrap.write_text(json.dumps(bootstrap_ci.template("dev", f"acme/{app_name()}")))
    templates["bootstrap-ci"] = [bootstrap]
    (out / "unencrypted").mkdir()
    probe = out / "unencrypted" / "sam.json"
    probe.write_text(json.dumps(UNENCRYPTED))
    templates["unencrypted"] = [probe]
    reports = iter(scan.checkov([t for files in templates.values() for t in files]))
    return {name: [next(reports) for _ in files] for name, files in templates.items()}


@pytest.fixture(params=STAGES)
def reports(request, every_report) -> list[scan.Report]:
    return every_report[request.param]


def test_both_templates_are_scanned_and_parsed(reports):
    assert [r.template for r in reports] == ["sam.json", "expanded.json"]
    for report in reports:
        assert report.parsing_errors == []
        assert len(report.passed) > 50, report.summary()


def test_no_check_fails(reports):
    failed = [(r.template, f.check, f.resource) for r in reports for f in r.failed]
    assert failed == []


def test_every_skipped_check_carries_its_reason(reports):
    skipped = [f for r in reports for f in r.skipped]
    assert skipped
    for finding in skipped:
        assert len(finding.comment.split()) >= 10, finding


# What the archive brought (infra/archive.py), fixed: checkov itself sees it pass.
ARCHIVE_FIXED = {
    ("CKV_AWS_18", "AWS::S3::Bucket.ArchiveBucket"),  # access logging
    ("CKV_AWS_158", "AWS::Logs::LogGroup.ArchiveDeliveryLogs"),  # under a KMS key
    ("CKV_AWS_66", "AWS::Logs::LogGroup.ArchiveDeliveryLogs"),  # retention
    ("CKV_AWS_7", "AWS::KMS::Key.ArchiveKey"),  # rotation
    ("CKV_AWS_33", "AWS::KMS::Key.ArchiveKey"),  # no wildcard principal
    *(
        (check, f"AWS::S3::Bucket.{bucket}")
        for bucket in ("ArchiveBucket", "ArchiveAccessLogBucket")
        # encryption, versioning, no public ACL or policy
        for check in ("CKV_AWS_19", "CKV_AWS_21", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_56")
    ),
    ("CKV_AWS_43", "AWS::Kinesis::Stream.ReplayStream"),  # encrypted
}


def test_the_archive_passes_and_accepts_only_the_log_bucket_s_own_logging(reports):
    for report in reports:
        passed = {(f.check, f.resource) for f in report.passed}
        assert not ARCHIVE_FIXED - passed, report.template
        accepted = {(f.check, f.resource) for f in report.skipped if "Archive" in f.resource}
        assert accepted == {("CKV_AWS_18", "AWS::S3::Bucket.ArchiveAccessLogBucket")}


def test_the_ci_bootstrap_stack_passes_and_says_why_its_roles_may_write(every_report):
    (report,) = every_report["bootstrap-ci"]
    assert report.parsing_errors == [] and report.passed, report.summary()
    assert report.failed == []
    for finding in report.skipped:
        assert len(finding.comment.split()) >= 10, finding
        assert finding.resource in (
            "AWS::IAM::Role.DeployRole",
            "AWS::IAM::Role.CloudFormationRole",
        )


def test_a_finding_without_a_skip_fails_the_scan(every_report):
    (report,) = every_report["unencrypted"]
    assert [(f.check, f.resource) for f in report.failed] == [
        ("CKV_AWS_27", "AWS::SQS::Queue.Queue")
    ]
    assert [(f.check, f.comment) for f in report.skipped] == [("CKV_AWS_27", "a reason")]


# Run by .venv-checkov's Python: infra/checkov_run.py's shared parser tables parse as fresh
# ones do, in any thread; and its start-up check refuses a grammar action that reads the
# parser instance (sharing the tables would then be wrong).
RUNNER_PROBE = """
import sys, threading
sys.path.insert(0, sys.argv[1])
import checkov_run, ply.yacc
from bc_jsonpath_ng.ext import parse
from bc_jsonpath_ng.ext.parser import ExtentedJsonPathParser

paths = ["Resources.*.Properties", "$..Tags[?(@.Key == 'a')]", "a.b[0].c", "`this`", "a[*]"]
checkov_run.check()
fresh = [repr(parse(p)) for p in paths]
ply.yacc.yacc = checkov_run._yacc
shared = [repr(parse(p)) for p in paths]
in_a_thread = []
worker = threading.Thread(target=lambda: in_a_thread.extend(repr(parse(p)) for p in paths))
worker.start(); worker.join()
assert fresh == shared == in_a_thread, (fresh, shared, in_a_thread)
assert len(checkov_run._built.parsers) == 1  # this thread built the tables once

def p_reads_self(self, p):
    "jsonpath : '!' jsonpath"
    p[0] = self.debug
ExtentedJsonPathParser.p_reads_self = p_reads_self
try:
    checkov_run.check()
except checkov_run.DoesNotFit as refused:
    print(refused)
"""


def test_the_runner_parses_as_checkov_does_and_refuses_a_parser_it_does_not_fit(tmp_path):
    probe = tmp_path / "probe.py"  # a file: the check reads the actions' source
    probe.write_text(RUNNER_PROBE)
    run = subprocess.run(
        [str(scan.CHECKOV_PYTHON), str(probe), str(scan.CHECKOV_RUN.parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ExtentedJsonPathParser.p_reads_self reads the parser instance"
