"""docs/stepfunctions-local.md lists the Step Functions operations the local engine
implements, and those it does not: derived here from botocore's model and from what moto's
Step Functions and the local engine answer, so the page cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

from botocore import xform_name
from moto.core.utils import get_service_model
from moto.stepfunctions.responses import StepFunctionResponse

from local.patches import registry

PAGE = Path(__file__).resolve().parents[2] / "docs" / "stepfunctions-local.md"
# What the local engine answers beyond moto, and the patch that makes it answer.
LOCAL_ENGINE = {
    "TestState": "test-state",
    "ListStateMachineVersions": "list-state-machine-versions",
    "StartSyncExecution": "start-sync-execution",
}


def _listed(section: str) -> set[str]:
    return set(re.findall(r"^- `(\w+)`", section, re.MULTILINE))


def test_the_page_lists_what_is_implemented_and_what_is_not():
    operations = set(get_service_model("stepfunctions").operation_names)
    by_moto = {name for name in operations if hasattr(StepFunctionResponse, xform_name(name))}
    registered = {patch.name for patch in registry.PATCHES}
    by_local_engine = {name for name, patch in LOCAL_ENGINE.items() if patch in registered}
    implemented = by_moto | by_local_engine
    text = PAGE.read_text().split("## Operations")[1].split("\n## ")[0]
    listed_implemented, listed_missing = text.split("Not implemented")
    assert _listed(listed_implemented) == implemented
    assert _listed(listed_missing) == operations - implemented
