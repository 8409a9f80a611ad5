"""local/patches/registry.py: one registry for every change to moto, checked against the
installed moto."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import moto
import pytest
from moto.core.models import botocore_stubber

from local.aws.kinesis_poller import RecordsArrived
from local.aws.trace_segments import ServiceSegments
from local.aws.xray_daemon import TraceStore
from local.patches import batch_import, registry
from local.patches.hooks import Hooks
from local.process.child import free_port
from local.process.options import Options

ROOT = Path(__file__).resolve().parents[2]
CONTRIBUTORS = ROOT / "docs" / "contributors.md"


def test_every_patch_fits_the_installed_moto():
    registry.check()


def test_a_patch_that_no_longer_fits_is_named_in_one_line():
    moved = registry.Patch(
        "example",
        {"moto.dynamodb.models:DynamoDBBackend.put_item": "(self, table_name, item)"},
        "why",
        lambda original, engine, name: original,
    )
    gone = registry.Patch(
        "gone", {"moto.dynamodb.models:DynamoDBBackend.no_such_thing": "(self)"}, "why", print
    )
    with pytest.raises(registry.PatchMismatch) as moved_error:
        registry.check([moved])
    message = str(moved_error.value)
    assert "\n" not in message
    assert "'example'" in message and f"moto {moto.__version__}" in message
    assert "item_attrs" in message  # what moto has now
    with pytest.raises(registry.PatchMismatch, match=r"'gone'.*missing"):
        registry.check([gone])


def test_a_moved_module_of_the_batch_preload_stops_the_check(monkeypatch):
    """local/patches/batch_import.py changes how moto is loaded: where moto no longer has the
    modules it loads ahead, the preload would silently do nothing, so check() says so."""
    monkeypatch.setattr(batch_import, "AHEAD", ("moto.batch.exceptions", "moto.batch.gone"))
    with pytest.raises(registry.PatchMismatch, match=r"moto\.batch .*moto\.batch\.gone not found"):
        registry.check([])


def test_applied_restores_every_original():
    targets = [target for patch in registry.PATCHES for target in patch.targets]
    before = {target: _raw(target) for target in targets}
    traces = TraceStore()
    engine = Hooks(
        records_arrived=RecordsArrived(),
        journal=None,
        trace_store=traces,
        segments=ServiceSegments(traces.put, float, "123456789012"),
    )
    with registry.applied(engine):
        changed = {target for target in targets if _raw(target) is not before[target]}
    assert all(_raw(target) is before[target] for target in targets)
    applying = [p for p in registry.PATCHES if not p.needs or getattr(engine, p.needs)]
    assert len(applying) == len(registry.PATCHES) - 1  # all but the journal: no --state
    assert changed == {target for patch in applying for target in patch.targets}


def _raw(target: str) -> object:
    owner, attribute = registry._resolve(target)
    return vars(owner).get(attribute)  # None: inherited, the patch sets it on the class


def test_the_stack_refuses_to_start_on_a_moto_that_does_not_fit(monkeypatch, capsys):
    from local import __main__ as cli

    broken = registry.Patch(
        "example", {"moto.dynamodb.models:DynamoDBBackend.put_item": "(self)"}, "why", print
    )
    monkeypatch.setattr(registry, "PATCHES", (*registry.PATCHES, broken))
    monkeypatch.setattr(cli.os, "environ", dict(cli.os.environ))
    argv = ["local", "run", "--api-port", str(free_port()), "--aws-port", str(free_port())]
    monkeypatch.setattr(sys, "argv", argv)
    assert cli.main() == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: patch 'example' does not fit moto")
    assert not botocore_stubber.enabled  # refused before the emulator started
    assert Options().speed == 1.0  # the default stack runs on real time


def test_the_contributors_page_lists_the_registry():
    section = CONTRIBUTORS.read_text().split("### Changes to moto")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `([\w-]+)` \| (.+?) \|", section, re.MULTILINE)
    listed = {name: set(re.findall(r"`([^`]+)`", targets)) for name, targets in rows}
    expected = {patch.name: set(patch.targets) for patch in registry.PATCHES}
    assert listed == expected


def test_the_step_functions_parser_comes_without_ec2_and_batch_whole_after_it():
    """local/patches/batch_import.py: the registry (and so moto's Step Functions parser) is
    imported without moto.batch's package, so without EC2's models; importing moto.batch
    afterwards gives the whole package, on the very modules the parser took."""
    script = (
        "import sys; import local.patches.registry; "
        "from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import "
        "state_task_service_batch as task; "
        "before = sorted(m for m in ('moto.batch', 'moto.ec2') if m in sys.modules); "
        "from moto.batch import batch_backends; from moto.batch.models import JobStatus; "
        "print(before, task.JobStatus is JobStatus, type(batch_backends).__name__)"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert ran.stdout.split() == ["[]", "True", "BackendDict"], ran.stderr
