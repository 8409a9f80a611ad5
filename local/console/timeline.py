"""An operation's traces as the console's timeline: read through the X-Ray API of the running
stack (GetTraceSummaries with the filter `annotation.operation_id = "…"`, BatchGetTraces), and
laid out as rows, one per segment or subsegment, in tree order with their offsets from the
trace's start: the API request, the time the event spent on the stream, the starter, the
execution, each state and the attempts of its task, each function and the AWS calls inside.

The operation's own trace comes first (the one its execution runs in); then the others that
carry its id: the starter's invocation (linked to the operation's trace), a reviewer's
decision, a republication by the sweeper.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from typing import Any

WINDOW_SECONDS = 24 * 3600  # the traces looked for: started within the last day
STREAM = "Kinesis"  # the row for the time an event waits on the stream


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Timelines:
    def __init__(self, session: Any) -> None:
        self._session = session

    @functools.cached_property
    def _xray(self) -> Any:
        return self._session.client("xray")

    def of(self, operation_id: str, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        escaped = operation_id.replace("\\", "\\\\").replace('"', '\\"')
        ids = [
            summary["Id"]
            for page in self._xray.get_paginator("get_trace_summaries").paginate(
                StartTime=now - WINDOW_SECONDS,
                EndTime=now + 60,
                FilterExpression=f'annotation.operation_id = "{escaped}"',
            )
            for summary in page["TraceSummaries"]
        ]
        traces = []
        for start in range(0, len(ids), 5):  # BatchGetTraces takes 5 ids a call
            answer = self._xray.batch_get_traces(TraceIds=ids[start : start + 5])
            traces += [
                [json.loads(segment["Document"]) for segment in trace["Segments"]]
                for trace in answer["Traces"]
            ]
        return timeline(operation_id, traces)


def timeline(operation_id: str, traces: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """The console's model of an operation's traces (each a list of segment documents)."""
    laid = [_trace(documents) for documents in traces if documents]
    laid.sort(key=lambda t: (not t["operation"], t["start"]))
    return {"operationId": operation_id, "traces": laid}


def _walk(
    entity: dict[str, Any], parent: str | None
) -> Iterator[tuple[dict[str, Any], str | None]]:
    yield entity, parent
    for child in entity.get("subsegments") or ():
        yield from _walk(child, str(entity["id"]))


def _trace(documents: list[dict[str, Any]]) -> dict[str, Any]:
    entities: dict[str, dict[str, Any]] = {}
    parents: dict[str, str | None] = {}
    for document in documents:
        for entity, parent in _walk(document, None):
            key = str(entity["id"])
            entities[key] = entity
            parents[key] = parent if parent is not None else document.get("parent_id")
    children: dict[str | None, list[str]] = {}
    for key, parent in parents.items():
        children.setdefault(parent if parent in entities else None, []).append(key)
    for keys in children.values():
        keys.sort(key=lambda k: float(entities[k]["start_time"]))
    start = min(float(e["start_time"]) for e in entities.values())
    end = max(float(e.get("end_time") or e["start_time"]) for e in entities.values())
    rows: list[dict[str, Any]] = []

    def lay(parent: str | None, depth: int) -> None:
        for key in children.get(parent, []):
            rows.append(_row(entities[key], depth, parent, start))
            lay(key, depth + 1)

    lay(None, 0)
    _stream_wait(rows)
    origins = {row["origin"] for row in rows}
    entry = rows[0] if rows else {}
    return {
        "id": str(documents[0]["trace_id"]),
        "entry": entry.get("name"),
        "request": entry.get("request"),
        "operation": "AWS::StepFunctions::StateMachine" in origins,
        "start": start,
        "durationMs": _ms(end - start),
        "inProgress": any(row["inProgress"] for row in rows),
        "rows": rows,
    }


def _row(entity: dict[str, Any], depth: int, parent: str | None, start: float) -> dict[str, Any]:
    began = float(entity["start_time"])
    ended = entity.get("end_time")
    aws = entity.get("aws") or {}
    http = entity.get("http") or {}
    cause = entity.get("cause") or {}
    exceptions = cause.get("exceptions") if isinstance(cause, dict) else None
    links = (entity.get("metadata") or {}).get("links") or {}
    row: dict[str, Any] = {
        "id": str(entity["id"]),
        "parentId": parent,
        "depth": depth,
        "name": str(entity["name"]),
        "kind": _kind(entity),
        "origin": entity.get("origin"),
        "startMs": _ms(began - start),
        "durationMs": _ms(float(ended) - began) if ended is not None else None,
        "inProgress": bool(entity.get("in_progress")),
        "error": bool(entity.get("error")),
        "fault": bool(entity.get("fault")),
        "throttle": bool(entity.get("throttle")),
        "operation": aws.get("operation"),
        "retries": aws.get("retries"),
        "status": (http.get("response") or {}).get("status"),
        "annotations": entity.get("annotations") or {},
    }
    request = http.get("request") or {}
    if request:
        row["request"] = f"{request.get('method', '')} {request.get('url', '')}".strip()
    if exceptions:
        first = exceptions[0]
        row["cause"] = f"{first.get('type', 'Error')}: {first.get('message', '')}".strip(": ")
    if links:
        row["links"] = links
    return row


def _kind(entity: dict[str, Any]) -> str:
    origin = entity.get("origin")
    if (entity.get("aws") or {}).get("state_type"):
        return "state"
    return {
        "AWS::ApiGateway::Stage": "api",
        "AWS::Lambda": "lambda",
        "AWS::Lambda::Function": "function",
        "AWS::StepFunctions::StateMachine": "workflow",
    }.get(str(origin), "aws" if entity.get("namespace") == "aws" else "local")


def _stream_wait(rows: list[dict[str, Any]]) -> None:
    """A row for the time the event waited on the stream: from the end of the PutRecord that
    published it to the start of the starter's segment that took it (a child of the unit of
    work that published it)."""
    by_id = {row["id"]: row for row in rows}
    waits = []
    for row in rows:
        parent = by_id.get(row["parentId"] or "")
        if row["kind"] != "function" or parent is None or parent["kind"] != "local":
            continue
        puts = [
            r
            for r in rows
            if r["parentId"] == parent["id"] and r["name"] == "kinesis" and r["durationMs"]
        ]
        if puts:
            left = puts[-1]["startMs"] + puts[-1]["durationMs"]
            waits.append((row, left))
    for row, left in waits:
        rows.insert(
            rows.index(row),
            {
                "id": f"{row['id']}-stream",
                "parentId": row["parentId"],
                "depth": row["depth"],
                "name": STREAM,
                "kind": "stream",
                "origin": "AWS::Kinesis::Stream",
                "startMs": round(left, 1),
                "durationMs": round(max(0.0, row["startMs"] - left), 1),
                "inProgress": False,
                "error": False,
                "fault": False,
                "throttle": False,
                "operation": None,
                "retries": None,
                "status": None,
                "annotations": {},
            },
        )
