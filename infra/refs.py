"""CloudFormation references (Ref, Fn::GetAtt, Fn::Sub): find them, or resolve them.

The one reader of references for the packaging, the quick-loop policy, the local stack's
provisioning and the template tests. Values are keyed as a template names them: "LogicalId"
for Ref, "LogicalId.Attribute" for Fn::GetAtt and for ${LogicalId.Attribute} in Fn::Sub, and
the pseudo parameters by name ("AWS::Region").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

PSEUDO_PARAMETER_PREFIX = "AWS::"
# ${Name} or ${Name.Attribute}; ${!Literal} is Fn::Sub's escape for a literal "${Literal}".
_PLACEHOLDER = re.compile(r"\$\{(!?)([^}]+)\}")


def references(node: Any) -> set[str]:
    """The logical ids a template fragment refers to (pseudo parameters left out)."""
    return {
        name.split(".")[0] for name in _names(node) if not name.startswith(PSEUDO_PARAMETER_PREFIX)
    }


def resolve(node: Any, values: Mapping[str, Any]) -> Any:
    """The fragment with every Ref, Fn::GetAtt and Fn::Sub replaced by its value.

    Raises KeyError naming the first reference that `values` has no value for.
    """
    if isinstance(node, list):
        return [resolve(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref":
            return _value(argument, values)
        if function == "Fn::GetAtt":
            return _value(_get_att_name(argument), values)
        if function == "Fn::Sub":
            text, variables = _sub_arguments(argument)
            local = {name: resolve(value, values) for name, value in variables.items()}
            return _PLACEHOLDER.sub(
                lambda m: (
                    "${" + m.group(2) + "}"
                    if m.group(1)
                    else str(_value(m.group(2), {**values, **local}))
                ),
                text,
            )
    return {key: resolve(value, values) for key, value in node.items()}


def _names(node: Any) -> Iterator[str]:
    """Every name referenced: "Id" for Ref, "Id.Attribute" for GetAtt, as written in Sub."""
    if isinstance(node, list):
        for item in node:
            yield from _names(item)
        return
    if not isinstance(node, dict):
        return
    if len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref" and isinstance(argument, str):
            yield argument
            return
        if function == "Fn::GetAtt":
            yield _get_att_name(argument)
            return
        if function == "Fn::Sub":
            text, variables = _sub_arguments(argument)
            for match in _PLACEHOLDER.finditer(text):
                if not match.group(1) and match.group(2) not in variables:
                    yield match.group(2)
            yield from _names(list(variables.values()))
            return
    for value in node.values():
        yield from _names(value)


def _get_att_name(argument: Any) -> str:
    if isinstance(argument, str):
        return argument
    logical_id, attribute = argument
    return f"{logical_id}.{attribute}"


def _sub_arguments(argument: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(argument, str):
        return argument, {}
    text, variables = argument
    return text, dict(variables)


def _value(name: str, values: Mapping[str, Any]) -> Any:
    try:
        return values[name]
    except KeyError:
        raise KeyError(f"no value for the reference {name!r}") from None
