"""Build a stage's deployable template without touching AWS: `make package STAGE=dev`.

Writes build/<stage>/: merge-template.json, and Chalice's sam.json and deployment.zip
(`chalice package --merge-template`), from a staging copy of the app whose runtime
dependencies are vendored without boto3/botocore (the Lambda runtime has them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra import cli
from infra.archive import add_archive, add_replay_mapping
from infra.chalice_policy import policy
from infra.cli import CommandError
from infra.dashboard import add_dashboard
from infra.definition import LAMBDA_RUNTIME, ROOT, stage_environment
from infra.template import merge_template

APP_FILES = ("app.py", "chalicelib", ".chalice/config.json")
LAMBDA_PLATFORM = ("--platform", "manylinux2014_x86_64", "--implementation", "cp")


class BuildError(CommandError):
    """The stage cannot be built as stated (said in one line)."""


def download_wheels(wheels: Path) -> None:
    """Download the runtime requirements' wheels for LAMBDA_RUNTIME, not for this Python
    (the same for every stage)."""
    python_version = LAMBDA_RUNTIME.removeprefix("python")
    download = subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", *LAMBDA_PLATFORM,
            "--python-version", python_version,
            "-r", str(ROOT / "requirements.txt"), "-d", str(wheels),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if download.returncode != 0:
        missing = [line.strip() for line in download.stderr.splitlines() if "ERROR:" in line] or [
            download.stderr.strip()[-300:]
        ]
        raise BuildError(f"cannot build for {LAMBDA_RUNTIME} ({LAMBDA_PLATFORM[1]}): {missing[-1]}")


def _stage_app(source: Path, stage: str, wheels: Path | None) -> None:
    if source.exists():
        shutil.rmtree(source)
    for name in APP_FILES:
        origin, target = ROOT / name, source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, target)
    # The stage names a policy file for `chalice deploy`; the stack replaces that role.
    (source / ".chalice" / f"policy-{stage}.json").write_text(json.dumps(policy(stage)))
    # Chalice installs requirements.txt with their dependencies (botocore included);
    # vendoring the pinned ones without dependencies keeps the bundle small.
    (source / "requirements.txt").write_text("")
    if wheels is None:
        wheels = source.parent / "wheels"
        shutil.rmtree(wheels, ignore_errors=True)
        download_wheels(wheels)
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(source / "vendor")


def package(stage: str, out: Path, wheels: Path | None = None) -> Path:
    """`wheels`: a folder download_wheels() filled, for a build of several stages; by
    default, the wheels are downloaded into `out`."""
    try:
        stage_environment(stage)
    except ValueError as error:
        raise BuildError(str(error)) from None
    out.mkdir(parents=True, exist_ok=True)
    merge_file = out / "merge-template.json"
    merged = add_dashboard(add_archive(merge_template(stage), stage), stage)
    merge_file.write_text(json.dumps(merged, indent=2))
    source = out / "src"
    _stage_app(source, stage, wheels)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    # Chalice's own command line, told the names the stage derives (infra/chalice_cli.py).
    subprocess.run(
        [sys.executable, "-m", "infra.chalice_cli", "--project-dir", str(source), "package",
         "--stage", stage, "--merge-template", str(merge_file), str(out)],
        check=True,
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    template_file = out / "sam.json"
    template = json.loads(template_file.read_text())
    _drop_chalice_roles(template, merged)
    add_replay_mapping(template)
    template_file.write_text(json.dumps(template, indent=2))
    return template_file


def _drop_chalice_roles(template: dict, merged: dict) -> None:
    """Every function has its own role from the merge template; Chalice's must not linger."""
    resources = template["Resources"]
    for logical_id in [k for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"]:
        if logical_id not in merged["Resources"]:
            del resources[logical_id]
            if f'"{logical_id}"' in json.dumps(template):
                raise RuntimeError(f"{logical_id} is still referenced; give its user a role")


def main() -> int:
    parser = cli.Parser(description=__doc__)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    try:
        template = package(args.stage, args.out or ROOT / "build" / args.stage)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    bundle = template.with_name("deployment.zip")
    print(f"{template}\n{bundle} ({bundle.stat().st_size / 1024:.0f} KiB, {LAMBDA_RUNTIME})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
