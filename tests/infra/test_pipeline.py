"""The GitHub Actions pipeline (.github/): actionlint finds nothing, every action is pinned by
commit, permissions are the least each job needs, prod waits for its environment's approval,
and Dependabot proposes updates of the requirements and the actions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.definition import ROOT

GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
RELEASE_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
ACTIONLINT = shutil.which("actionlint", path=str(Path(ROOT / ".venv" / "bin")))


def _load(path: Path) -> dict:
    # YAML 1.1 reads the key `on` as True.
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))
    return dict(document)


def _actionlint(*paths: Path) -> subprocess.CompletedProcess:
    assert ACTIONLINT, "actionlint is not installed: `make venv` (requirements-dev.txt)"
    return subprocess.run(
        [ACTIONLINT, "-no-color", *map(str, paths)], capture_output=True, text=True, check=False
    )


def test_actionlint_finds_nothing():
    assert WORKFLOWS
    run = _actionlint(*WORKFLOWS)
    assert run.returncode == 0, run.stdout + run.stderr


def test_actionlint_is_not_blind(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo ${{ github.event.no_such.thing }\n"
    )
    run = _actionlint(broken)
    assert run.returncode == 1 and "broken.yml" in run.stdout


def test_every_action_is_pinned_by_commit_with_its_release_named():
    uses = [
        line.strip()
        for path in WORKFLOWS
        for line in path.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert uses
    for line in uses:
        reference = line.split("uses:", 1)[1].split("#")[0].strip()
        if reference.startswith("./"):
            continue  # this repository's own reusable workflow
        assert PINNED.match(reference), line
        assert RELEASE_COMMENT.search(line), line


def test_permissions_are_read_only_but_where_a_job_takes_its_oidc_token():
    for path in WORKFLOWS:
        workflow = _load(path)
        assert workflow["permissions"] == {"contents": "read"}, path.name
        for name, job in workflow["jobs"].items():
            granted = job.get("permissions", {})
            assert set(granted.values()) <= {"read", "write"}, (path.name, name)
            writes = {scope for scope, level in granted.items() if level == "write"}
            assert writes <= {"id-token"}, (path.name, name)


def test_main_deploys_dev_then_prod_behind_its_environment():
    pipeline = _load(GITHUB / "workflows" / "pipeline.yml")
    assert set(pipeline["on"]) == {"pull_request", "push", "workflow_dispatch"}
    jobs = pipeline["jobs"]
    assert "make test" in jobs["test"]["steps"][-1]["run"]
    assert jobs["dev"]["needs"] == "test" and "refs/heads/main" in jobs["dev"]["if"]
    assert jobs["prod"]["needs"] == "dev"
    assert {jobs[stage]["with"]["stage"] for stage in ("dev", "prod")} == {"dev", "prod"}
    (deploy,) = _load(GITHUB / "workflows" / "deploy.yml")["jobs"].values()
    # The stage's GitHub environment: its role and settings, and for prod its reviewers.
    assert deploy["environment"] == "${{ inputs.stage }}"
    runs = [step.get("run", "") for step in deploy["steps"]]
    order = ["make package", "make scan", "make deploy", "make test-deployed"]
    found = [next(i for i, run in enumerate(runs) if run.startswith(step)) for step in order]
    assert found == sorted(found)


@pytest.mark.parametrize("ecosystem", ["pip", "github-actions"])
def test_dependabot_proposes_updates(ecosystem):
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text())
    assert ecosystem in {update["package-ecosystem"] for update in config["updates"]}
