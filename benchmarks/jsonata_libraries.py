"""The JSONata libraries for Python, measured: conformance to the jsonata-js test suite and
the cost of an evaluation (docs/jsonata.md records the figures and the choice).

    .venv/bin/python benchmarks/jsonata_libraries.py SUITE [--python NAME=INTERPRETER ...]

SUITE: jsonata-js's `test/test-suite` folder (its `groups/` and `datasets/`), from a checkout
of github.com/jsonata-js/jsonata at the tag AWS runs (v2.0.6); it is not part of this
repository. Each candidate is measured in a fresh interpreter of its own (`--python
jsonata-python=/path/to/python`; the default is this one), since jsonata-python and jsonata-rs
both install a module named `jsonata`. A candidate the interpreter cannot import is reported
as not installed.

Per candidate: the suite's cases passed (a case passes when its expected result, `undefined`
or error code comes out, as jsonata-js's run-test-suite.js checks it), the import time, the
compile time of a typical Step Functions expression, and the median time of one evaluation of
it (compiled once, evaluated many times, with `$states` bound as the engine binds it), and
whether the candidate accepts what AWS refuses (`$eval`, 2.1's `?:` and `??`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CANDIDATES = ("jsonata-python", "jsonatapy", "jsonata-rs")
# A Step Functions Output of the usual size: fields of the input, a sum over a list, a string.
TYPICAL = (
    '{"id": $states.input.id, "total": $sum($states.input.items.price), '
    '"names": $states.input.items[price > 1].name, "greeting": "Hello " & $name}'
)
TYPICAL_STATES = {
    "input": {"id": "op-1", "items": [{"name": f"item{i}", "price": i} for i in range(5)]},
    "context": {"Execution": {"Id": "arn:aws:states:us-east-1:1:execution:m:e"}},
}
EVALUATIONS = 2000
UNDEFINED = object()


class Failed(Exception):
    """An error the candidate raised, with the JSONata code it carries (None if none)."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code


Compiled = Callable[[Any, dict[str, Any] | None], Any]  # (input, bindings) -> result
Compiler = Callable[[str, "Limits"], Compiled]


@dataclasses.dataclass(frozen=True)
class Limits:
    """An evaluation's bounds: the case's own (`timelimit`, `depth`), or a time limit for
    every case so that a runaway evaluation in a candidate ends the case, not the run."""

    timeout_ms: int = 2000
    depth: int | None = None


NO_LIMITS = Limits()


@contextlib.contextmanager
def _as_failed(code_of: Callable[[Exception], str | None]) -> Iterator[None]:
    """A candidate's exception, as Failed with the JSONata code it carries."""
    try:
        yield
    except Exception as error:
        raise Failed(code_of(error), str(error)) from error


def _adapter(name: str) -> Compiler:
    """compile(text, limits) -> evaluate(input, bindings), for the named candidate; results
    use UNDEFINED for JSONata's undefined and None for null, errors are Failed."""
    if name == "jsonata-python":
        # jsonata-python and jsonata-rs both install a module named jsonata.
        python_port = importlib.import_module("jsonata")
        utils = python_port.utils
        python_code = _code_attribute("error")

        def compile_python(text: str, limits: Limits) -> Compiled:
            with _as_failed(python_code):
                expression = python_port.Jsonata(
                    text, timeout=limits.timeout_ms, stack=limits.depth
                )
            expression.set_output_convert_nulls(False)

            def evaluate(data: Any, bindings: dict[str, Any] | None) -> Any:
                with _as_failed(python_code):
                    result = expression.evaluate(None if data is UNDEFINED else data, bindings)
                return UNDEFINED if result is None else utils.Utils.convert_nulls(result)

            return evaluate

        return compile_python
    if name == "jsonatapy":
        jsonatapy = importlib.import_module("jsonatapy")
        rust_code = _leading_code

        def compile_rust(text: str, limits: Limits) -> Compiled:
            with _as_failed(rust_code):
                expression = jsonatapy.compile(text)

            def evaluate(data: Any, bindings: dict[str, Any] | None) -> Any:
                with _as_failed(rust_code):
                    result = expression.evaluate_json_or_none(
                        None if data is UNDEFINED else json.dumps(data),
                        bindings,
                        timeout=limits.timeout_ms,
                        max_stack_depth=limits.depth,
                    )
                return UNDEFINED if result is None else json.loads(result)

            return evaluate

        return compile_rust
    if name == "jsonata-rs":
        jsonata = importlib.import_module("jsonata")
        rs_code = _code_attribute("code")

        def compile_rs(text: str, limits: Limits) -> Compiled:
            with _as_failed(rs_code):
                expression = jsonata.Jsonata(text)
            expression.set_runtime_bounds(limits.timeout_ms, limits.depth or 1000)
            expression.set_output_convert_nulls(False)

            def evaluate(data: Any, bindings: dict[str, Any] | None) -> Any:
                with _as_failed(rs_code):
                    result = expression.evaluate(None if data is UNDEFINED else data, bindings)
                return UNDEFINED if result is jsonata.UNDEFINED else result

            return evaluate

        return compile_rs
    raise SystemExit(f"unknown candidate {name!r}: one of {', '.join(CANDIDATES)}")


def _code_attribute(attribute: str) -> Callable[[Exception], str | None]:
    return lambda error: getattr(error, attribute, None)


def _leading_code(error: Exception) -> str | None:
    """jsonatapy's messages carry the code as text: 'T1006: ...' or 'Parse error: S0207: ...'."""
    for part in str(error).replace("Parse error: ", "").split(":")[:1]:
        if len(part) == 5 and part[0].isalpha() and part[1:].isdigit():
            return part
    return None


def _cases(suite: Path) -> list[dict[str, Any]]:
    datasets = {path.stem: json.loads(path.read_text()) for path in suite.glob("datasets/*.json")}
    cases = []
    for group in sorted(path for path in (suite / "groups").iterdir() if path.is_dir()):
        for file in sorted(group.glob("*.json")):
            spec = json.loads(file.read_text())
            for case in spec if isinstance(spec, list) else [spec]:
                if "expr-file" in case:
                    case["expr"] = (group / case["expr-file"]).read_text()
                if "data" in case:
                    case["input"] = case["data"]
                elif case.get("dataset") is not None:
                    case["input"] = datasets[case["dataset"]]
                else:
                    case["input"] = UNDEFINED
                case["name"] = f"{group.name}/{file.name}"
                cases.append(case)
    return cases


def _same(found: Any, expected: Any) -> bool:
    """chai's deep equality over JSON values (1 and 1.0 alike, key order irrelevant)."""
    if isinstance(expected, bool) or isinstance(found, bool):
        return type(found) is type(expected) and found == expected
    if isinstance(expected, int | float) and isinstance(found, int | float):
        return math.isclose(found, expected, rel_tol=1e-15) or found == expected
    if isinstance(expected, list) and isinstance(found, list):
        return len(found) == len(expected) and all(map(_same, found, expected))
    if isinstance(expected, dict) and isinstance(found, dict):
        return found.keys() == expected.keys() and all(_same(found[k], expected[k]) for k in found)
    return type(found) is type(expected) and found == expected


def _passes(compile_: Compiler, case: dict[str, Any]) -> bool:
    expected_code = case.get("code") or case.get("error", {}).get("code")
    limits = Limits(case.get("timelimit", NO_LIMITS.timeout_ms), case.get("depth"))
    try:
        evaluate = compile_(case["expr"], limits)
        result = evaluate(case["input"], case.get("bindings"))
    except Failed as error:
        return expected_code is not None and error.code == expected_code
    except RecursionError:
        return expected_code in {"D1011", "U1001"}
    except Exception:  # a crash of the candidate (not a JSONata error): the case fails
        return False
    if "undefinedResult" in case:
        return result is UNDEFINED
    if "result" in case:
        return result is not UNDEFINED and _same(result, case["result"])
    return False  # an error was expected and none came


def _median_seconds(action: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(name: str, suite: Path) -> dict[str, Any]:
    """Run in the candidate's own interpreter: prints one JSON line."""
    start = time.perf_counter()
    try:
        compile_ = _adapter(name)
    except ImportError as error:
        return {"name": name, "installed": False, "why": str(error)}
    imported = time.perf_counter() - start
    cases = _cases(suite)
    failed = [case["name"] for case in cases if not _passes(compile_, case)]
    compiled = _median_seconds(lambda: compile_(TYPICAL, NO_LIMITS), 200)
    evaluate = compile_(TYPICAL, NO_LIMITS)
    bindings = {"states": TYPICAL_STATES, "name": "World"}
    for _ in range(50):  # warm
        evaluate(None, bindings)
    evaluation = _median_seconds(lambda: evaluate(None, bindings), EVALUATIONS)

    def accepts(text: str) -> bool:
        try:
            compile_(text, NO_LIMITS)(None, None)
        except Failed:
            return False
        return True

    return {
        "name": name,
        "installed": True,
        "cases": len(cases),
        "passed": len(cases) - len(failed),
        "failed": failed,
        "import_ms": imported * 1000,
        "compile_us": compiled * 1e6,
        "evaluate_us": evaluation * 1e6,
        "accepts_eval": accepts("$eval('1+1')"),
        "accepts_elvis": accepts("0 ?: 2"),
        "accepts_coalesce": accepts("$x ?? 3"),
    }


def dialect_cost() -> float | None:
    """Microseconds per evaluation of TYPICAL through the engine's dialect (this interpreter:
    the project's), which hands each evaluation to the thread its compiled expressions live
    on; None if the project's engine cannot be imported here."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    try:
        from local.aws.stepfunctions import jsonata as dialect
    except ImportError:
        return None
    expression = dialect.analyse(TYPICAL)
    variables = {"name": "World"}
    for _ in range(50):
        dialect.evaluate(expression, TYPICAL_STATES, variables)
    seconds = _median_seconds(
        lambda: dialect.evaluate(expression, TYPICAL_STATES, variables), EVALUATIONS
    )
    return seconds * 1e6


def _run(name: str, interpreter: str, suite: Path) -> dict[str, Any]:
    # A fresh interpreter per candidate: its import time is a cold import's.
    done = subprocess.run(
        [interpreter, __file__, "--measure", name, str(suite)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"name": name, "installed": False, "why": done.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", type=Path, help="jsonata-js's test/test-suite folder")
    parser.add_argument("--python", action="append", default=[], metavar="NAME=INTERPRETER")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--failures", action="store_true", help="list each candidate's failures")
    arguments = parser.parse_args()
    if not (arguments.suite / "groups").is_dir():
        raise SystemExit(f"{arguments.suite}: not a jsonata-js test-suite folder (no groups/)")
    if arguments.measure:
        print(json.dumps(measure(arguments.measure, arguments.suite)))
        return
    interpreters = dict(item.split("=", 1) for item in arguments.python)
    results = [
        _run(name, interpreters.get(name, sys.executable), arguments.suite) for name in CANDIDATES
    ]
    print(
        f"{'library':<16}{'suite passed':>16}{'import ms':>11}{'compile µs':>12}"
        f"{'evaluate µs':>13}  accepts $eval / ?: / ??"
    )
    for result in results:
        if not result["installed"]:
            print(f"{result['name']:<16}not installed ({result['why']})")
            continue
        passed = f"{result['passed']}/{result['cases']}"
        accepted = " / ".join(
            "yes" if result[key] else "no"
            for key in ("accepts_eval", "accepts_elvis", "accepts_coalesce")
        )
        print(
            f"{result['name']:<16}{passed:>16}{result['import_ms']:>11.1f}"
            f"{result['compile_us']:>12.1f}{result['evaluate_us']:>13.1f}  {accepted}"
        )
        if arguments.failures:
            for case in result["failed"]:
                print(f"    failed: {case}")
    cost = dialect_cost()
    if cost is not None:
        print(
            f"the engine's dialect (jsonatapy, local/aws/stepfunctions/jsonata.py): {cost:.1f} µs"
        )


if __name__ == "__main__":
    main()
