"""X-Ray's part in the local stack: the daemon the functions send their segments to, and the
trace store behind the X-Ray API that moto serves (PutTraceSegments, GetTraceSummaries with
filter expressions, BatchGetTraces: local/patches/xray.py hands those calls to TraceStore).

- The daemon listens as the X-Ray daemon does: UDP, 127.0.0.1:2000 by default
  (`--xray-port`), one segment document per datagram after the header
  `{"format":"json","version":1}\\n`. What it cannot read is logged once and dropped.
- In process (the tests' stack, and the emulator's own segments: API Gateway's, Lambda's,
  Step Functions', local/aws/trace_segments.py) documents go to the store directly.
- The store keeps each trace's documents as sent; a document sent again under the same id
  replaces the first (an in-progress segment completed, as X-Ray does). It keeps the newest
  `keep` traces (X-Ray keeps 30 days; the emulator bounds its memory instead). A trace's
  summary (what GetTraceSummaries answers and filter expressions read) is worked out when it
  is read after a change. BatchGetTraces answers each segment with the subsegments sent on
  their own put back in place, as X-Ray compiles them.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from local.aws.xray_filters import Predicate, compile_filter

logger = logging.getLogger(__name__)
DAEMON_HEADER = b'{"format":"json","version":1}'
_HEADER = json.loads(DAEMON_HEADER)
DEFAULT_PORT = 2000
MAX_DATAGRAM = 64 * 1024


class BadSegment(ValueError):
    """A document X-Ray would refuse (PutTraceSegments' UnprocessedTraceSegments)."""

    def __init__(self, code: str, message: str, segment_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.segment_id = segment_id


@dataclasses.dataclass
class StoredTrace:
    trace_id: str
    documents: dict[str, str] = dataclasses.field(default_factory=dict)  # by entity id
    version: int = 0  # documents put so far
    summary: TraceSummary | None = None  # as of summary_version
    summary_version: int = -1


class TraceStore:
    def __init__(self, keep: int = 1000, account_id: str = "123456789012") -> None:
        self.keep = keep
        self.account_id = account_id
        self._traces: collections.OrderedDict[str, StoredTrace] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.received = 0
        self.refused = 0

    def put(self, document: str) -> str:
        """Stores one segment document (a segment, or a subsegment sent on its own); its trace
        id. BadSegment for what X-Ray would refuse."""
        try:
            parsed = json.loads(document)
        except ValueError:
            raise BadSegment("JSONFormatError", "Bad JSON data") from None
        if not isinstance(parsed, dict):
            raise BadSegment("JSONFormatError", "a segment document is a JSON object")
        segment_id = parsed.get("id")
        for field in ("id", "name", "trace_id", "start_time"):
            if not parsed.get(field):
                raise BadSegment("MissingParam", f"Missing {field}", segment_id)
        if "end_time" not in parsed and not parsed.get("in_progress"):
            raise BadSegment("MissingParam", "Missing end_time or in_progress", segment_id)
        if parsed.get("type") == "subsegment" and not parsed.get("parent_id"):
            raise BadSegment("MissingParam", "Missing parent_id of a subsegment", segment_id)
        trace_id = str(parsed["trace_id"])
        with self._lock:
            trace = self._traces.get(trace_id)
            if trace is None:
                trace = self._traces[trace_id] = StoredTrace(trace_id)
                while len(self._traces) > self.keep:
                    self._traces.popitem(last=False)
            trace.documents[str(segment_id)] = document
            trace.version += 1
            self.received += 1
        return trace_id

    def put_all(self, documents: Iterable[str]) -> list[dict[str, Any]]:
        """PutTraceSegments: the documents refused, as UnprocessedTraceSegments."""
        refused: list[dict[str, Any]] = []
        for document in documents:
            try:
                self.put(document)
            except BadSegment as bad:
                self.refused += 1
                entry = {"ErrorCode": bad.code, "Message": str(bad)}
                if bad.segment_id:
                    entry["Id"] = bad.segment_id
                refused.append(entry)
        return refused

    def _summary(self, trace: StoredTrace) -> TraceSummary:
        with self._lock:
            if trace.summary is not None and trace.summary_version == trace.version:
                return trace.summary
            version, documents = trace.version, list(trace.documents.values())
        summary = TraceSummary.of(trace.trace_id, documents, self.account_id)
        with self._lock:
            if version >= trace.summary_version:
                trace.summary, trace.summary_version = summary, version
        return summary

    def _summaries(self) -> list[TraceSummary]:
        with self._lock:
            traces = list(self._traces.values())
        return [self._summary(trace) for trace in traces]

    def summaries(
        self,
        start: float,
        end: float,
        filter_expression: str | None = None,
        time_range: str = "TraceId",
    ) -> list[dict[str, Any]]:
        """GetTraceSummaries: the traces in [start, end] (by the trace id's time, or with
        time_range "Event" by their segments'), newest first, that the filter selects.
        UnsupportedFilter for an expression it cannot evaluate."""
        predicate: Predicate | None = (
            compile_filter(filter_expression) if filter_expression else None
        )
        found = []
        for summary in self._summaries():
            moment = summary.id_time if time_range == "TraceId" else summary.start
            if not start <= moment <= end:
                continue
            if predicate is None or predicate(summary):
                found.append(summary)
        found.sort(key=lambda s: s.start, reverse=True)
        return [summary.answer() for summary in found]

    def traces(self, trace_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
        """BatchGetTraces: (the traces found, the ids not found)."""
        found, missing = [], []
        for trace_id in trace_ids:
            with self._lock:
                trace = self._traces.get(trace_id)
                documents = list(trace.documents.values()) if trace else None
            if trace is None or documents is None:
                missing.append(trace_id)
                continue
            segments = compile_segments(documents)
            found.append(
                {
                    "Id": trace_id,
                    "Duration": round(self._summary(trace).duration, 3),
                    "LimitExceeded": False,
                    "Segments": [
                        {"Id": segment["id"], "Document": json.dumps(segment)}
                        for segment in segments
                    ],
                }
            )
        return found, missing

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)

    def __bool__(self) -> bool:
        return True  # a store, even an empty one (len() counts its traces)


def compile_segments(documents: Iterable[str]) -> list[dict[str, Any]]:
    """The trace's segments with the subsegments that were sent on their own put under their
    parents (a segment or a subsegment of any document); those whose parent is not there are
    left as documents of their own, as received."""
    parsed = [json.loads(document) for document in documents]
    entities: dict[str, dict[str, Any]] = {}
    for document in parsed:
        for entity in _walk(document):
            entities.setdefault(str(entity.get("id")), entity)
    tops = []
    for document in parsed:
        if document.get("type") != "subsegment":
            tops.append(document)
            continue
        parent = entities.get(str(document.get("parent_id")))
        if parent is None or parent is document:
            tops.append(document)
            continue
        children = parent.setdefault("subsegments", [])
        if all(child.get("id") != document.get("id") for child in children):
            children.append(document)
    return tops


def _walk(entity: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield entity
    for child in entity.get("subsegments") or ():
        if isinstance(child, dict):
            yield from _walk(child)


@dataclasses.dataclass
class TraceSummary:
    """What GetTraceSummaries says of a trace, and what a filter expression reads."""

    trace_id: str
    id_time: float
    start: float
    end: float
    response_time: float | None
    partial: bool
    flags: dict[str, bool]
    service_flags: dict[str, dict[str, bool]]
    services: dict[str, str]  # name -> type (origin)
    annotations: dict[str, list[tuple[Any, str | None]]]  # key -> [(value, service)]
    http: dict[str, Any]
    entry: dict[str, str] | None
    users: list[str]
    account_id: str

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    @classmethod
    def of(cls, trace_id: str, texts: list[str], account_id: str) -> TraceSummary:
        documents = [json.loads(document) for document in texts]
        segments = [d for d in documents if d.get("type") != "subsegment"]
        ids = {str(d.get("id")) for d in segments}
        roots = [d for d in segments if not d.get("parent_id") or d.get("parent_id") not in ids]
        root = min(roots, key=lambda d: float(d["start_time"]), default=None)
        starts = [float(d["start_time"]) for d in documents]
        ends = [float(d["end_time"]) for d in documents if d.get("end_time") is not None]
        flags = {"error": False, "fault": False, "throttle": False}
        service_flags: dict[str, dict[str, bool]] = {}
        services: dict[str, str] = {}
        annotations: dict[str, list[tuple[Any, str | None]]] = {}
        users: list[str] = []
        for document in documents:
            service = None if document.get("type") == "subsegment" else str(document["name"])
            if service is not None:
                services[service] = str(document.get("origin") or "")
                if document.get("user"):
                    users.append(str(document["user"]))
            for entity in _walk(document):
                for flag in flags:
                    if entity.get(flag):
                        flags[flag] = True
                        if service is not None:
                            service_flags.setdefault(service, {})[flag] = True
                for key, value in (entity.get("annotations") or {}).items():
                    annotations.setdefault(key, []).append((value, service))
        http = (root or {}).get("http") or {}
        try:
            id_time = float(int(trace_id.split("-")[1], 16))
        except (IndexError, ValueError):
            id_time = min(starts, default=0.0)
        return cls(
            trace_id=trace_id,
            id_time=id_time,
            start=min(starts, default=id_time),
            end=max(ends, default=min(starts, default=id_time)),
            response_time=(
                float(root["end_time"]) - float(root["start_time"])
                if root is not None and root.get("end_time") is not None
                else None
            ),
            partial=any(d.get("in_progress") for d in documents),
            flags=flags,
            service_flags=service_flags,
            services=services,
            annotations=annotations,
            http={
                "url": (http.get("request") or {}).get("url"),
                "method": (http.get("request") or {}).get("method"),
                "useragent": (http.get("request") or {}).get("user_agent"),
                "clientip": (http.get("request") or {}).get("client_ip"),
                "status": (http.get("response") or {}).get("status"),
            },
            entry={"name": str(root["name"]), "type": str(root.get("origin") or "")}
            if root is not None
            else None,
            users=users,
            account_id=account_id,
        )

    # What xray_filters reads.
    def annotation_values(self, key: str) -> list[Any]:
        return [value for value, _ in self.annotations.get(key, [])]

    def flag(self, keyword: str, service: str | None = None) -> bool:
        flags = self.flags if service is None else self.service_flags.get(service, {})
        if keyword == "ok":
            return not any(flags.get(flag) for flag in ("error", "fault", "throttle"))
        return bool(flags.get(keyword))

    def number(self, keyword: str) -> float | None:
        if keyword == "duration":
            return self.duration
        if keyword == "responsetime":
            return self.response_time
        status = self.http.get("status")
        return float(status) if isinstance(status, int | float) else None

    def text(self, keyword: str) -> str | None:
        if keyword == "user":
            return self.users[0] if self.users else None
        value = self.http.get(keyword.removeprefix("http."))
        return value if isinstance(value, str) else None

    def has_service(self, name: str) -> bool:
        return name in self.services

    def _service_id(self, name: str | None) -> dict[str, Any]:
        if name is None:
            return {}
        return {
            "Name": name,
            "Names": [name],
            "AccountId": self.account_id,
            "Type": self.services.get(name, ""),
        }

    def answer(self) -> dict[str, Any]:
        annotations: dict[str, list[dict[str, Any]]] = {}
        for key, values in self.annotations.items():
            merged: dict[str, dict[str, Any]] = {}
            for value, service in values:
                typed = (
                    {"BooleanValue": value}
                    if isinstance(value, bool)
                    else {"NumberValue": value}
                    if isinstance(value, int | float)
                    else {"StringValue": str(value)}
                )
                entry = merged.setdefault(
                    json.dumps(typed, sort_keys=True), {"AnnotationValue": typed, "ServiceIds": []}
                )
                service_id = self._service_id(service)
                if service_id and service_id not in entry["ServiceIds"]:
                    entry["ServiceIds"].append(service_id)
            annotations[key] = list(merged.values())
        http = {
            name: value
            for name, value in (
                ("HttpURL", self.http.get("url")),
                ("HttpStatus", self.http.get("status")),
                ("HttpMethod", self.http.get("method")),
                ("UserAgent", self.http.get("useragent")),
                ("ClientIp", self.http.get("clientip")),
            )
            if value is not None
        }
        answer: dict[str, Any] = {
            "Id": self.trace_id,
            "StartTime": self.start,
            "Duration": round(self.duration, 3),
            "HasFault": self.flags["fault"],
            "HasError": self.flags["error"],
            "HasThrottle": self.flags["throttle"],
            "IsPartial": self.partial,
            "Http": http,
            "Annotations": annotations,
            "Users": [{"UserName": user} for user in self.users],
            "ServiceIds": [self._service_id(name) for name in self.services],
        }
        if self.response_time is not None:
            answer["ResponseTime"] = round(self.response_time, 3)
        if self.entry is not None:
            answer["EntryPoint"] = {**self._service_id(self.entry["name"])}
        return answer


class Daemon:
    """The X-Ray daemon's UDP side: reads segment documents and stores them."""

    def __init__(
        self, store: TraceStore, host: str = "127.0.0.1", port: int = DEFAULT_PORT
    ) -> None:
        self.store = store
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Room for bursts: the functions' sends never block (the SDK drops what does not fit).
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self._socket.bind((host, port))
        self.address = f"{host}:{self._socket.getsockname()[1]}"
        self._stopped = threading.Event()
        self._reported: set[str] = set()

    def serve_forever(self) -> None:
        while not self._stopped.is_set():
            try:
                datagram = self._socket.recv(MAX_DATAGRAM)
            except OSError:
                if self._stopped.is_set():
                    return
                continue
            if self._stopped.is_set():
                return  # the wake-up of stop(), not a segment
            self.receive(datagram)

    def receive(self, datagram: bytes) -> None:
        header, newline, body = datagram.partition(b"\n")
        try:
            # The SDKs send the header byte for byte; another spelling of it is read as JSON.
            if not newline or (header != DAEMON_HEADER and json.loads(header) != _HEADER):
                raise BadSegment("HeaderError", "no X-Ray daemon header")
            self.store.put(body.decode("utf-8"))
        except (BadSegment, ValueError) as error:
            self._drop(error)

    def _drop(self, error: Exception) -> None:
        kind = type(error).__name__ + getattr(error, "code", "")
        if kind not in self._reported:
            self._reported.add(kind)
            logger.warning(
                "X-Ray daemon: dropped a datagram (%s); later ones like it are dropped silently",
                error,
            )

    def stop(self) -> None:
        self._stopped.set()
        # Wake the blocked recv, then close.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
            host, port = self.address.rsplit(":", 1)
            waker.sendto(b"", (host, int(port)))
        self._socket.close()
