"""The tests docs/contributors.md shows a team ("Write a test") run as written, over the
emulator: their code is read from the page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "contributors.md"


def _examples() -> list[str]:
    section = re.split(r"\n##+ ", PAGE.read_text().split("### Write a test\n", 1)[1], maxsplit=1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


@pytest.mark.parametrize("code", _examples(), ids=lambda code: code.split("def ", 1)[1][:40])
def test_the_page_s_example_passes(stack, code):
    namespace: dict[str, Any] = {}
    exec(compile(code, str(PAGE), "exec"), namespace)
    (test,) = [f for name, f in namespace.items() if name.startswith("test_")]
    test(stack)
