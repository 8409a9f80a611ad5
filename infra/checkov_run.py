"""checkov's command line as infra/scan.py runs it, from .venv-checkov's Python, with its
JSONPath parser's tables built once per thread instead of once per expression.

checkov renders a CloudFormation template's references through bc-jsonpath-ng, whose parser
builds its LALR tables anew (ply.yacc with write_tables=0) for every expression it parses:
~50 ms each, three quarters of a scan of this project's templates (cProfile, checkov 3.3.30).
Here the tables a parser class builds for a start symbol are kept and used again by that
thread (ply's parser keeps its stacks on itself, so threads do not share one). That changes
nothing a scan finds, as long as the parser's grammar actions read nothing from the parser
instance: checked at start, with the rest of what this relies on, so that an upgraded
bc-jsonpath-ng that no longer fits stops the scan with one line instead of scanning wrong.

Run by the checkov environment's Python only: it imports nothing of the project.
"""

from __future__ import annotations

import inspect
import re
import sys
import threading
import warnings
from typing import Any

import ply.yacc
from bc_jsonpath_ng.ext.parser import ExtentedJsonPathParser
from bc_jsonpath_ng.parser import JsonPathParser


class DoesNotFit(Exception):
    """The installed bc-jsonpath-ng is not the one this runner was written against."""


def check() -> None:
    """What sharing the tables relies on: the parser builds them in parse_token_stream through
    ply.yacc.yacc (looked up at the call), and no grammar action reads the parser instance."""
    if "ply.yacc.yacc(" not in inspect.getsource(JsonPathParser.parse_token_stream):
        raise DoesNotFit("JsonPathParser.parse_token_stream no longer calls ply.yacc.yacc")
    for parser in (JsonPathParser, ExtentedJsonPathParser):
        for name, action in inspect.getmembers(parser, inspect.isfunction):
            if name.startswith("p_") and re.search(r"\bself\b", _body(action)):
                raise DoesNotFit(f"{parser.__name__}.{name} reads the parser instance")


def _body(function: Any) -> str:
    """The source of a function after its signature line."""
    return inspect.getsource(function).split("\n", 1)[1]


_build = ply.yacc.yacc
_built = threading.local()


def _yacc(*args: Any, **kwargs: Any) -> Any:
    module = kwargs.get("module")
    if not isinstance(module, JsonPathParser):
        return _build(*args, **kwargs)
    parsers = _built.__dict__.setdefault("parsers", {})
    key = (type(module), kwargs.get("start"))
    if key not in parsers:
        parsers[key] = _build(*args, **kwargs)
    return parsers[key]


def main() -> int:
    try:
        check()
    except DoesNotFit as error:
        print(f"error: {__file__} does not fit bc-jsonpath-ng: {error}", file=sys.stderr)
        return 2
    ply.yacc.yacc = _yacc
    from checkov.main import Checkov

    # As checkov's own entry point does.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        return int(Checkov().run() or 0)


if __name__ == "__main__":
    sys.exit(main())
