"""JSONPath as AWS reads it, where jsonpath-ng (the library moto's interpreter parses paths
with) reads it otherwise. Registered in local/patches/registry.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.patches.hooks import Hooks


def as_written(path: str) -> str:
    """The path jsonpath-ng reads as AWS reads `path`: in a quoted name (`$['...']`), a
    backslash escapes the name's own quote or a backslash; before anything else it is part
    of the name, where jsonpath-ng would drop it (so it is doubled)."""
    written: list[str] = []
    quote: str | None = None
    position = 0
    while position < len(path):
        character = path[position]
        if quote is not None and character == "\\" and position + 1 < len(path):
            following = path[position + 1]
            written.append(character if following in (quote, "\\") else "\\\\")
            written.append(following)
            position += 2
            continue
        if quote is None and character in "'\"":
            quote = character
        elif character == quote:
            quote = None
        written.append(character)
        position += 1
    return "".join(written)


def quoted_names(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces json_path's parse (moto's JSONPath fields: InputPath, `.$` fields, Choice
    variables ...): a backslash in a quoted name stays part of the name unless it escapes
    the name's quote or a backslash, as in AWS's recorded executions (`$['Test\\""Name"']`
    finds the key `Test\\""Name"`); jsonpath-ng dropped it and found nothing."""

    def parse(path: str, debug: bool | None = None) -> Any:
        return original(as_written(path) if "\\" in path else path, debug)

    return parse
