"""A state's data as AWS writes it: JSON text in UTF-8, measured in UTF-8 bytes (pure Python).

https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html: a task's, state's
or execution's input or output may hold "256 KiB of data as a UTF-8 encoded string"; the API
reference gives each history event's input and output a length "expressed as bytes in UTF-8
encoding" (API_StateExitedEventDetails). So the text keeps every character as it is (`é` is
two bytes, not the six of `\\u00e9`, Python's json.dumps default) and the quota counts its
UTF-8 bytes.

A lone surrogate (JSON `"\\ud83d"` without its pair) has no UTF-8 form: it stays escaped, as
JSON.stringify writes it, so every text can be encoded and measured. (The JSONata library
cannot hold one: an expression that reads one fails, in the library's words.)
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")  # a pair is one code point in Python


def lone_surrogates_escaped(text: str) -> str:
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def text(value: Any, separators: tuple[str, str] | None = (",", ":")) -> str:
    """The value's JSON text, its characters kept (compact unless told otherwise)."""
    return lone_surrogates_escaped(json.dumps(value, separators=separators, ensure_ascii=False))


def size(value: Any) -> int:
    """The value's size as AWS's quotas count it: the UTF-8 bytes of its compact JSON text."""
    return len(text(value).encode())
