"""What every operator command shares (deploy, replay, redrive, load, cost, capacity...): bad
input, or anything else the operator can fix, ends the command with one line on stderr and
exit status 2, as argparse's own errors do; never a traceback. (infra/aws_session.py adds
what AWS's errors mean.)"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

Number = TypeVar("Number", int, float)


class CommandError(Exception):
    """Why a command cannot go on, in words the operator can act on: printed as one line."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (`--help` gives the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


def run(command: Callable[[], int]) -> int:
    """Runs a command; a CommandError ends it with one line on stderr, status 2."""
    try:
        return command()
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def number(
    kind: Callable[[str], Number], *, zero: bool = False, suffix: str = "", example: str = ""
) -> Callable[[str], Number]:
    """An argparse type: a finite number above 0 (from 0 with `zero`), written with `suffix`
    or without it (a rate: `2000/s`)."""

    def parse(text: str) -> Number:
        try:
            value = kind(text.strip().removesuffix(suffix) if suffix else text)
        except ValueError:
            value = None
        if value is None or not (value >= 0 if zero else value > 0) or not math.isfinite(value):
            bound = "from 0" if zero else "above 0"
            hint = f", e.g. {example}" if example else ""
            raise argparse.ArgumentTypeError(f"{text!r} is not a number {bound}{hint}")
        return value

    return parse
