"""What AWS's request validation answers for a request that breaks its API's model: one
ValidationException listing every broken constraint, in AWS's words ("1 validation error
detected: Value 'BOGUS' at 'inspectionLevel' failed to satisfy constraint: Member must
satisfy enum value set: [INFO, DEBUG, TRACE]"). The value of a sensitive member is not
repeated ("Value at 'stateName' ..."). moto parses requests without checking them; botocore
checks types and required members on the client, not enum values.

A string's length is its characters', or its UTF-8 bytes where the model's documentation of
the member says so ("Length constraints apply to the payload size, and are expressed as bytes
in UTF-8 encoding": an execution's input, a task's output).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.model import Shape, StringShape, StructureShape

_IN_BYTES = "expressed as bytes in UTF-8 encoding"


def validation_message(request: Any, shape: Shape, enums: bool = True) -> str | None:
    """The message of AWS's ValidationException for `request` (a parsed JSON body) against
    the operation's input shape, or None when the request keeps every constraint (its enum
    values too, unless told not to: AWS's message lists them in an order of its own, which
    botocore's model does not keep)."""
    errors = _errors(request, shape, "", enums)
    if not errors:
        return None
    plural = "s" if len(errors) > 1 else ""
    return f"{len(errors)} validation error{plural} detected: {'; '.join(errors)}"


def _errors(value: Any, shape: Shape, path: str, enums: bool) -> list[str]:
    if isinstance(shape, StructureShape):
        return _structure_errors(value, shape, path, enums)
    broken = _broken(value, shape, enums)
    if broken is None:
        return []
    shown = "Value" if shape.metadata.get("sensitive") else f"Value '{_shown(value)}'"
    return [f"{shown} at '{path}' failed to satisfy constraint: Member must {broken}"]


def _structure_errors(value: Any, shape: StructureShape, path: str, enums: bool) -> list[str]:
    if not isinstance(value, dict):
        return [
            f"Value at '{path or '.'}' failed to satisfy constraint: Member must be a structure"
        ]
    errors = []
    for name, member in shape.members.items():
        inner = f"{path}.{name}" if path else name
        if value.get(name) is not None:
            errors.extend(_errors(value[name], member, inner, enums))
        elif name in shape.required_members:
            errors.append(
                f"Value null at '{inner}' failed to satisfy constraint: Member must not be null"
            )
    return errors


def _broken(value: Any, shape: Shape, enums: bool) -> str | None:
    """The constraint of a scalar member that `value` breaks, if any."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            return "be a string"
        if enums and isinstance(shape, StringShape) and shape.enum and value not in shape.enum:
            return f"satisfy enum value set: [{', '.join(shape.enum)}]"
        in_bytes = _IN_BYTES in (shape.documentation or "")
        length = len(value.encode(errors="surrogatepass")) if in_bytes else len(value)
        if low is not None and length < low:
            return f"have length greater than or equal to {low}"
        if high is not None and length > high:
            return f"have length less than or equal to {high}"
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return "be an integer"
        if low is not None and value < low:
            return f"have value greater than or equal to {low}"
        if high is not None and value > high:
            return f"have value less than or equal to {high}"
    elif kind == "boolean" and not isinstance(value, bool):
        return "be a boolean"
    return None


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
