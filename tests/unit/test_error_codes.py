"""One catalogue of error codes: the domain's, stated again by the API description, the
clients' documentation and the state machine, which must not drift from it."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.errors import RECORDED_BY_THE_STATE_MACHINE, ErrorCode

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = {code.value for code in ErrorCode}


def _codes_in(node: Any) -> set[str]:
    """Every literal `code` the document writes, at any depth."""
    if isinstance(node, dict):
        found = {v for k, v in node.items() if k == "code" and isinstance(v, str)}
        return found.union(*(_codes_in(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_codes_in(v) for v in node))
    return set()


def test_the_api_description_lists_exactly_the_catalogue():
    spec = json.loads((ROOT / "openapi.json").read_text())
    error = spec["components"]["schemas"]["Operation"]["properties"]["error"]
    assert error["properties"]["code"]["enum"] == [code.value for code in ErrorCode]


@pytest.mark.parametrize("path", sorted((ROOT / "statemachine").glob("*.asl.json")))
def test_the_state_machine_writes_the_catalogues_codes_and_no_other(path):
    written = _codes_in(json.loads(path.read_text()))
    assert written <= CATALOGUE
    assert written == {code.value for code in RECORDED_BY_THE_STATE_MACHINE}


def test_the_clients_documentation_lists_every_code():
    clients = (ROOT / "docs" / "clients.md").read_text()
    section = clients.split("## HTTP contract", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"`([A-Z][A-Z_]+[A-Z])`", section)) >= CATALOGUE
