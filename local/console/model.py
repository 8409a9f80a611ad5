"""What one execution did, read against its state machine: pure functions, no AWS.

From the ASL definition (as Step Functions returns it, substitutions applied), the steps
of the execution's history (local/console/history.py: steps_from) and the app's log lines:
- a graph: every state, and every transition the definition allows (Next, Choice rules and
  Default, Catch, the end), each marked with what this execution did;
- each step with the log lines written while it ran.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from local.console.logbook import LogLine

START, END = "__start__", "__end__"

# What a state did, as the graph and the steps say it (and the CSS classes name it).
SUCCEEDED = "succeeded"
RETRIED = "retried"  # succeeded after failed attempts
CAUGHT = "caught"  # every attempt failed and a Catch took the execution elsewhere
FAILED = "failed"  # the execution failed here
RUNNING = "running"
WAITING = "waiting"  # for a task token (a callback) or a Wait state
NOT_REACHED = "not-reached"
STATUSES = (SUCCEEDED, RETRIED, CAUGHT, FAILED, RUNNING, WAITING, NOT_REACHED)

# Comparison operators of Choice rules, longest suffix first.
_OPERATORS = (
    ("LessThanEquals", "<="),
    ("GreaterThanEquals", ">="),
    ("LessThan", "<"),
    ("GreaterThan", ">"),
    ("Equals", "=="),
    ("Matches", "matches"),
)
_TERMINAL_TYPES = ("Succeed", "Fail")


def _epoch_ms(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp() * 1000


def waits(state: dict[str, Any]) -> bool:
    """Whether a state, while it runs, waits on the outside world rather than works."""
    resource = str(state.get("Resource", ""))
    return state.get("Type") == "Wait" or resource.endswith(".waitForTaskToken")


def step_status(step: dict[str, Any], state: dict[str, Any], execution_status: str) -> str:
    """What one visit of a state did. `step` is an entry of steps_from."""
    exited = "durationMs" in step
    if exited:
        if step["errors"] and len(step["errors"]) >= max(step["attempts"], 1):
            return CAUGHT
        return RETRIED if step["attempts"] > 1 else SUCCEEDED
    if step["type"] == "Fail" or execution_status != "RUNNING":
        return FAILED
    return WAITING if waits(state) else RUNNING


def integration(state: dict[str, Any]) -> tuple[str | None, str | None]:
    """A Task's service integration and the Lambda function it invokes, if any:
    (`lambda:invoke`, `my-function`)."""
    resource = state.get("Resource")
    if not isinstance(resource, str):
        return None, None
    if ":function:" in resource:  # a Lambda ARN as the Resource itself
        return "lambda", resource.split(":function:")[1].split(":")[0]
    arguments = state.get("Parameters") or state.get("Arguments")  # JSONPath's, JSONata's
    function = arguments.get("FunctionName") if isinstance(arguments, dict) else None
    name = function.split(":function:")[-1].split(":")[0] if isinstance(function, str) else None
    return resource.removeprefix("arn:aws:states:::"), name


def choice_label(rule: dict[str, Any]) -> str:
    """A Choice rule as one line: JSONPath's `$.approval.outcome.ok == false`, or a JSONata
    Condition's expression without its `{% %}`: `$exists($states.input.review)`."""
    if "Condition" in rule:
        return _expression(rule["Condition"])
    if "And" in rule or "Or" in rule:
        joiner = " and " if "And" in rule else " or "
        return joiner.join(f"({choice_label(r)})" for r in rule.get("And") or rule["Or"])
    if "Not" in rule:
        return f"not ({choice_label(rule['Not'])})"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment"):
            continue
        if key.startswith("Is"):
            kind = key[2:].lower()
            return f"{variable} is {'' if value else 'not '}{kind}"
        operand = value if key.endswith("Path") else json.dumps(value)
        operator = key.removesuffix("Path")
        for suffix, symbol in _OPERATORS:
            if operator.endswith(suffix):
                return f"{variable} {symbol} {operand}"
        return f"{variable} {operator} {operand}"
    return variable


def _expression(value: Any) -> str:
    """A JSONata field as its expression (`{% $x > 1 %}` -> `$x > 1`); a literal as JSON."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{%") and text.endswith("%}"):
            return text[2:-2].strip()
        return value
    return json.dumps(value)


def _transitions(name: str, state: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for rule in state.get("Choices", []):
        yield {"to": rule["Next"], "kind": "choice", "label": choice_label(rule)}
    if "Default" in state:
        yield {"to": state["Default"], "kind": "default", "label": "default"}
    if "Next" in state:
        yield {"to": state["Next"], "kind": "next", "label": None}
    for catcher in state.get("Catch", []):
        errors = ", ".join(catcher.get("ErrorEquals", []))
        yield {"to": catcher["Next"], "kind": "catch", "label": f"catch {errors}"}
    if state.get("End") or state.get("Type") in _TERMINAL_TYPES:
        yield {"to": END, "kind": "end", "label": None}


def graph(
    definition: dict[str, Any], steps: list[dict[str, Any]], execution_status: str
) -> dict[str, Any]:
    """Nodes and edges of the state machine, marked by what this execution did.

    Each step gets its `status` too (steps are changed in place).
    """
    states: dict[str, dict[str, Any]] = definition["States"]
    visits: dict[str, list[dict[str, Any]]] = {name: [] for name in states}
    for step in steps:
        step["status"] = step_status(step, states.get(step["state"], {}), execution_status)
        visits.setdefault(step["state"], []).append(step)

    nodes: list[dict[str, Any]] = [
        {"id": START, "type": "Start", "status": SUCCEEDED if steps else NOT_REACHED}
    ]
    for name, state in states.items():
        seen = visits[name]
        last = seen[-1] if seen else None
        resource, function = integration(state)
        nodes.append(
            {
                "id": name,
                "type": state.get("Type"),
                "resource": resource,
                "function": function,
                "comment": state.get("Comment"),
                "status": last["status"] if last else NOT_REACHED,
                "visits": len(seen),
                "attempts": last["attempts"] if last else 0,
                "errors": [e["error"] for e in last["errors"]] if last else [],
                "retry": bool(state.get("Retry")),
            }
        )
    ended = execution_status != "RUNNING" and bool(steps)
    nodes.append({"id": END, "type": "End", "status": SUCCEEDED if ended else NOT_REACHED})

    edges = [{"from": START, "to": definition["StartAt"], "kind": "start", "label": None}]
    for name, state in states.items():
        edges += [{"from": name, **transition} for transition in _transitions(name, state)]
    for index, edge in enumerate(edges):
        edge["id"] = f"e{index}"
        edge["taken"] = False

    path = [START, *(step["state"] for step in steps)]
    if ended and steps and END in {e["to"] for e in edges if e["from"] == steps[-1]["state"]}:
        path.append(END)
    # Whether each hop leaves a state by its Catch.
    caught = [False, *(step["status"] == CAUGHT for step in steps)]
    for position, (source, target) in enumerate(itertools.pairwise(path)):
        _mark_taken(edges, source, target, caught[position])
    return {"nodes": nodes, "edges": edges}


def _mark_taken(edges: list[dict[str, Any]], source: str, target: str, caught: bool) -> None:
    candidates = [e for e in edges if e["from"] == source and e["to"] == target]
    preferred = [e for e in candidates if (e["kind"] == "catch") == caught] or candidates
    if preferred:
        preferred[0]["taken"] = True


def attribute_logs(
    definition: dict[str, Any], steps: list[dict[str, Any]], lines: list[LogLine]
) -> dict[str, list[dict[str, Any]]]:
    """Each log line to the step that ran when it was written (steps' `logs`, set in place).

    By time: a step runs from its entry to its exit as the history records them, cut to
    the millisecond (so a line up to 1 ms after the recorded exit is still inside). Of the
    steps running then (states that take no time share a millisecond), a line goes to the
    one that invoked the function that wrote it when it names one, else to a Lambda task
    (the app logs from Lambda functions); of those, to one entered before the line's
    millisecond if any, the latest. The others are `before` the last state's exit (the API,
    the starter) or `after` it.
    """
    functions = {name: integration(state)[1] for name, state in definition["States"].items()}
    for step in steps:
        step["logs"] = []
    outside: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    windows = []
    for step in steps:
        entered = _epoch_ms(step["entered"])
        duration = step.get("durationMs")
        exited = entered + duration + 1 if duration is not None else float("inf")
        windows.append((entered, exited, step))
    finished = windows[-1][1] if windows else None
    for line in lines:
        at = line.created * 1000
        entry = {
            "level": line.level,
            "logger": line.logger,
            "function": line.function,
            "line": line.line,
        }
        running = [(entered, step) for entered, exited, step in windows if entered <= at <= exited]
        if line.function is not None:
            running = [r for r in running if functions.get(r[1]["state"]) == line.function]
        else:
            running = [r for r in running if functions.get(r[1]["state"])] or running
        # In the millisecond a state is entered, a line is still the previous state's: the
        # new state's function cannot have started yet.
        running = [r for r in running if r[0] < math.floor(at)] or running
        if running:
            running[-1][1]["logs"].append(entry)
        else:
            outside["after" if finished is not None and at > finished else "before"].append(entry)
    return outside
