"""checkov over a stage's packaged stack, offline: `make scan STAGE=dev` (and `make test`).

Two templates, since each shows what the other hides: build/<stage>/sam.json (what the
merge template and Chalice make) and its CloudFormation expansion, expanded.json (what
CloudFormation creates: the API stage, the Lambda functions, their permissions). Findings a
production team accepts are skipped on the resource with the reason (infra/security.py);
anything else fails. checkov runs from its own environment (.venv-checkov, pinned in
requirements-checkov.txt): it pins a boto3 older than the project's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra import aws_session, cli
from infra.cli import CommandError
from infra.definition import ROOT
from infra.deploy import expand_with
from infra.package import BuildError, package

CHECKOV_PYTHON = ROOT / ".venv-checkov" / "bin" / "python"
# checkov's command line, with its JSONPath parser's tables built once (the file says why).
CHECKOV_RUN = Path(__file__).with_name("checkov_run.py")
# The scan needs no bundle in S3: CloudFormation never sees this template.
SCAN_CODE_URI = "s3://not-uploaded/deployment.zip"
SCAN_REGION = "us-east-1"


@dataclasses.dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    comment: str = ""


@dataclasses.dataclass(frozen=True)
class Report:
    template: str
    passed: list[Finding]
    failed: list[Finding]
    skipped: list[Finding]
    parsing_errors: list[str]

    def summary(self) -> str:
        return (
            f"{self.template}: {len(self.passed)} passed, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped (accepted on the resource, with the reason)"
        )


class _NoManagedPolicyNames:
    """The stack names managed policies by ARN only; a name would need IAM to resolve."""

    def load(self) -> dict[str, str]:
        raise BuildError("a managed policy is named, not given by ARN: the scan stays offline")


def stage_templates(stage: str, out: Path) -> list[Path]:
    """Package the stage into `out` and expand it there: [sam.json, expanded.json]."""
    return with_expansion(package(stage, out))


def with_expansion(sam_file: Path) -> list[Path]:
    """A packaged template and its expansion, written beside it: [sam.json, expanded.json]."""
    template = json.loads(sam_file.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = SCAN_CODE_URI
    # The transform reads its region from the environment.
    region = aws_session.region() or SCAN_REGION
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        expanded = expand_with(template, _NoManagedPolicyNames())
    finally:
        if previous is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    expanded_file = sam_file.with_name("expanded.json")
    expanded_file.write_text(json.dumps(expanded, indent=2))
    return [sam_file, expanded_file]


def checkov(templates: list[Path]) -> list[Report]:
    """Every check of checkov's CloudFormation framework, none skipped from outside: one
    process for all the templates (its start-up is a few seconds), a report for each."""
    if not CHECKOV_PYTHON.exists():
        raise BuildError(
            f"checkov is not installed in {CHECKOV_PYTHON.parent.parent}: run `make scan`"
        )
    directory = Path(os.path.commonpath([template.parent for template in templates]))
    names = [template.relative_to(directory).as_posix() for template in templates]
    run = subprocess.run(
        [
            str(CHECKOV_PYTHON), str(CHECKOV_RUN), "--framework", "cloudformation",
            "--output", "json", "--skip-download", "--compact",
            *[arg for name in names for arg in ("--file", name)],
        ],
        cwd=directory,  # no stray .checkov.yaml can add skips
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(directory),
            "BC_SKIP_MAPPING": "TRUE",
            # The templates parsed in this process, not in forked workers that pickle their
            # definitions back (and each build the JSONPath tables again): the same findings
            # for less CPU (checkov 3.3.30: 10.4 -> 9.6 s for both stages' four templates).
            "CHECKOV_PARALLELIZATION_TYPE": "none",
        },
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if run.returncode not in (0, 1):
        raise BuildError(f"checkov exited {run.returncode}: {run.stderr.strip()[-500:]}")
    return _reports(json.loads(run.stdout), names)


def _reports(output: Any, names: list[str]) -> list[Report]:
    """One report per template, named relative to the directory checkov ran in (checkov
    writes "/<name>")."""
    results = output["results"] if isinstance(output, dict) and "results" in output else {}

    def findings(kind: str, name: str) -> list[dict[str, Any]]:
        return [r for r in results.get(kind, []) if r["file_path"].lstrip("/") == name]

    # Nothing goes unreported for want of a name that matches.
    named = {
        (r["file_path"] if isinstance(r, dict) else r).lstrip("/")
        for kind in ("passed_checks", "failed_checks", "skipped_checks", "parsing_errors")
        for r in results.get(kind, [])
    }
    if unknown := named - set(names):
        raise BuildError(f"checkov reported on files it was not given: {sorted(unknown)}")

    def finding(result: dict[str, Any]) -> Finding:
        comment = (result.get("check_result") or {}).get("suppress_comment") or ""
        return Finding(result["check_id"], result["resource"], comment)

    return [
        Report(
            template=Path(name).name,
            passed=[finding(r) for r in findings("passed_checks", name)],
            failed=[finding(r) for r in findings("failed_checks", name)],
            skipped=[finding(r) for r in findings("skipped_checks", name)],
            parsing_errors=[e for e in results.get("parsing_errors", []) if e.lstrip("/") == name],
        )
        for name in names
    ]


def scan(stage: str, out: Path) -> list[Report]:
    return checkov(stage_templates(stage, out))


def main() -> int:
    parser = cli.Parser(description=__doc__)
    parser.add_argument("--stage", required=True)
    args = parser.parse_args()
    try:
        reports = scan(args.stage, ROOT / "build" / args.stage)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for report in reports:
        print(report.summary())
        for found in report.failed:
            print(f"  FAILED  {found.check}  {found.resource}")
        for unparsed in report.parsing_errors:
            print(f"  PARSING ERROR  {unparsed}")
    clean = all(not r.failed and not r.parsing_errors and r.passed for r in reports)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
