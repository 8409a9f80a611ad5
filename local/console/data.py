"""What the console shows, read through the AWS APIs of the running stack (moto, in process).

Executions: ListExecutions (kept as an index, see Executions), DescribeExecution,
DescribeStateMachineForExecution (the definition the execution ran, substitutions applied),
GetExecutionHistory. The stream, read by the console's own iterators (StreamReader), which
also gives each operation's email to the listing. The starter's checkpoint per shard (the
poller's). The on-failure queue peeked at (ReceiveMessage with a zero visibility timeout, as
the SQS console's "poll for messages" does: the messages stay visible, their receive count
goes up) and the records its messages point to. The tables' item counts (DescribeTable).
"""

from __future__ import annotations

import bisect
import collections
import functools
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from chalicelib.adapters.event_stream import MalformedEvent, decode
from chalicelib.adapters.workflows import execution_arn
from local.console import model
from local.console.history import millis, steps_from
from local.console.logbook import LogBook

if TYPE_CHECKING:
    from chalicelib.domain.operations import Operation
    from chalicelib.domain.reviews import Review

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
_INPUTS_KEPT = 5000  # executions whose email (and done outcome) the listing remembers (LRU)
_EMAILS_KEPT = 20_000  # operations whose email the stream reader remembers (LRU)
FULL_SYNC_SECONDS = 60.0
NEWEST_PAGE = 10
QUIET_SECONDS = 10.0
_RECENT_RECORDS = 10_000  # per shard: sequence numbers and arrival times, for the lag
_PEEKED_MESSAGES = 10  # ReceiveMessage's maximum
_RECORD_PREVIEW_CHARS = 600
# How a callback task's parameters name the task token: JSONPath's `"taskToken.$":
# "$$.Task.Token"`, JSONata's `"taskToken": "{% $states.context.Task.Token %}"`, or a field
# of an object a JSONata expression builds (`{'taskToken': $states.context.Task.Token}`).
_TASK_TOKEN = "$$.Task.Token"
_JSONATA_TOKEN = re.compile(r"^\{%\s*\$states\.context\.Task\.Token\s*%\}$")
_JSONATA_TOKEN_FIELD = re.compile(r"""["'](\w+)["']\s*:\s*\$states\.context\.Task\.Token\b""")
TOKEN_HIDDEN = "(task token hidden)"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _json_or_none(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def find_key(document: Any, key: str) -> Any:
    """The first value under `key`, depth first, in a JSON document."""
    if isinstance(document, dict):
        if key in document:
            return document[key]
        children: Iterator[Any] = iter(document.values())
    elif isinstance(document, list):
        children = iter(document)
    else:
        return None
    for child in children:
        found = find_key(child, key)
        if found is not None:
            return found
    return None


class StreamReader:
    """The stream, read as a second consumer reads it (its own iterators, from the trim
    horizon, one GetRecords pass over what is new): per shard how many records, the tip and
    the recent records (for how far a consumer lags); and the email of each operation
    requested on it, which the starter hands to its execution (the listing's search)."""

    def __init__(self, session: Any, stream_name: str) -> None:
        self._session = session
        self.stream_name = stream_name
        self._shards: dict[str, _ShardWatch] = {}
        self._emails: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._guard = threading.Lock()
        self.last_record_at = -math.inf  # time.monotonic() when a new record was last read

    @functools.cached_property
    def kinesis(self) -> Any:
        return self._session.client("kinesis")

    def catch_up(self) -> list[_ShardWatch]:
        with self._guard:  # one reader at a time moves the iterators
            for shard in self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]:
                shard_id = shard["ShardId"]
                if shard_id not in self._shards:
                    self._shards[shard_id] = _ShardWatch(self.kinesis, self.stream_name, shard_id)
            for watch in self._shards.values():
                for record in watch.catch_up():
                    self.last_record_at = time.monotonic()
                    self._remember(record["Data"])
            return list(self._shards.values())

    def _remember(self, data: bytes) -> None:
        try:
            requested = decode(data)
        except MalformedEvent:
            return
        self._emails[requested.operation_id] = requested.request.email
        while len(self._emails) > _EMAILS_KEPT:
            self._emails.popitem(last=False)

    def email(self, operation_id: str) -> str | None:
        with self._guard:
            return self._emails.get(operation_id)


_NO_SUCH_EXECUTION: Final = ("ExecutionDoesNotExist", "InvalidArn", "ValidationException")


class Executions:
    """The state machine's executions, kept as an index that each read brings up to date
    cheaply: the newest page (until a known execution), the running ones, a DescribeExecution
    for each that stopped (nothing at all while the stream has been quiet and nothing runs);
    and every FULL_SYNC_SECONDS a full listing (which also drops the executions the local
    stack forgot). Measured in process with 1,000 executions: a full
    ListExecutions costs ~240 ms (moto serialises every item), a page of 10 ~13 ms, the
    running ones ~2 ms."""

    def __init__(
        self,
        session: Any,
        state_machine_arn: str,
        logbook: LogBook,
        stream: StreamReader | None = None,
        operations: Callable[[str], Operation | None] | None = None,
        *,
        reviews: Callable[[str], Review | None] | None = None,
    ) -> None:
        self._session = session
        self._state_machine_arn = state_machine_arn
        self._logbook = logbook
        self._stream = stream
        self._operations = operations
        self._reviews = reviews
        # The outcomes of done operations (they no longer change), least recently used last.
        self._outcomes: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._index: dict[str, dict[str, Any]] = {}  # by name (the operation id)
        self._synced_at = -math.inf
        self._inputs: collections.OrderedDict[str, str | None] = collections.OrderedDict()
        self._guard = threading.Lock()

    @functools.cached_property
    def _sfn(self) -> Any:
        return self._session.client("stepfunctions")

    def _execution_arn(self, operation_id: str) -> str:
        return execution_arn(self._state_machine_arn, operation_id)

    def _list(self, page_size: int, **filters: str) -> Iterator[dict[str, Any]]:
        pages = self._sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self._state_machine_arn,
            PaginationConfig={"PageSize": page_size},
            **filters,
        )
        for page in pages:
            yield from page["executions"]

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._synced_at > FULL_SYNC_SECONDS:
            self._index = {e["name"]: e for e in self._list(1000)}
            self._synced_at = now
            return
        # Executions start from stream records: with none lately and none running, nothing
        # can have changed (one started otherwise shows at the next full listing).
        quiet = self._stream is not None and now - self._stream.last_record_at > QUIET_SECONDS
        if quiet and all(e["status"] != "RUNNING" for e in self._index.values()):
            return
        # Newest first, a short page (the emulator's cost grows with the page), until a known one.
        for execution in self._list(NEWEST_PAGE):
            if execution["name"] in self._index:
                break
            self._index[execution["name"]] = execution
        running = {e["name"] for e in self._list(1000, statusFilter="RUNNING")}
        for name, known in list(self._index.items()):
            if known["status"] == "RUNNING" and name not in running:
                try:
                    self._index[name] = self._sfn.describe_execution(
                        executionArn=known["executionArn"]
                    )
                except self._sfn.exceptions.ExecutionDoesNotExist:
                    del self._index[name]

    def _email(self, execution: dict[str, Any]) -> str | None:
        """From the stream's record of the operation, else (an execution started otherwise)
        from the execution's input, described once."""
        email = self._stream.email(execution["name"]) if self._stream else None
        if email:
            return email
        arn = execution["executionArn"]
        if arn not in self._inputs:
            described = self._sfn.describe_execution(executionArn=arn)
            given = _json_or_none(described.get("input"))
            found = given.get("email") if isinstance(given, dict) else None
            self._inputs[arn] = found if isinstance(found, str) else None
            while len(self._inputs) > _INPUTS_KEPT:
                self._inputs.popitem(last=False)
        return self._inputs[arn]

    def outcome(self, operation_id: str) -> dict[str, Any] | None:
        """The operation's own status and, when it failed, its error code: what the execution's
        status does not say (a refused user's execution SUCCEEDED, recording FAILED)."""
        if self._operations is None:
            return None
        known = self._outcomes.get(operation_id)
        if known is not None:
            self._outcomes.move_to_end(operation_id)
            return known
        operation = self._operations(operation_id)
        if operation is None:
            return None
        outcome = {
            "status": str(operation.status),
            "code": operation.error.code if operation.error else None,
            "step": str(operation.step) if operation.step else None,
        }
        if operation.done:
            self._outcomes[operation_id] = outcome
            while len(self._outcomes) > _INPUTS_KEPT:
                self._outcomes.popitem(last=False)
        return outcome

    def review(self, operation_id: str) -> dict[str, Any] | None:
        """The operation's review, if it had one: its state, and what was decided by whom (never
        its task token: the review as the app reads it has none)."""
        found = self._reviews(operation_id) if self._reviews is not None else None
        if found is None:
            return None
        decision = found.decision
        return {
            "status": str(found.status),
            "requestedAt": found.requested_at,
            "expiresAt": found.expires_at,
            "decision": str(decision.decision) if decision else None,
            "reason": decision.reason if decision else None,
            "decidedBy": found.decided_by,
            "decidedAt": found.decided_at,
        }

    def listing(self, status: str | None, search: str | None, limit: int) -> dict[str, Any]:
        """Newest first; `search` matches part of the operation id or the email."""
        if self._stream:
            self._stream.catch_up()
        with self._guard:
            self._refresh()
            executions = sorted(self._index.values(), key=lambda e: e["startDate"], reverse=True)
            counts = collections.Counter(e["status"] for e in executions)
            needle = (search or "").strip().lower()
            matched = []
            for execution in executions:
                if status and execution["status"] != status:
                    continue
                if needle and needle not in execution["name"].lower():
                    email = self._stream.email(execution["name"]) if self._stream else None
                    if not email or needle not in email.lower():
                        continue
                matched.append(execution)
            shown = [
                {
                    "operationId": e["name"],
                    "status": e["status"],
                    "email": self._email(e),
                    "startDate": _iso(e["startDate"]),
                    "stopDate": _iso(e.get("stopDate")),
                    "durationMs": millis(e["startDate"], e.get("stopDate")),
                    "outcome": self.outcome(e["name"]),
                }
                for e in matched[:limit]
            ]
        return {
            "executions": shown,
            "matched": len(matched),
            "total": len(executions),
            "counts": {name: counts[name] for name in EXECUTION_STATUSES if counts[name]},
        }

    def detail(self, operation_id: str) -> dict[str, Any] | None:
        arn = self._execution_arn(operation_id)
        try:
            execution = self._sfn.describe_execution(executionArn=arn)
        except ClientError as error:
            # no such execution, or an id no execution ARN can hold (too long for the API's model)
            if error.response["Error"]["Code"] in _NO_SUCH_EXECUTION:
                return None
            raise
        machine = self._sfn.describe_state_machine_for_execution(executionArn=arn)
        definition = json.loads(machine["definition"])
        events: list[dict[str, Any]] = []
        for page in self._sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            events += page["events"]
        steps = steps_from(events)
        graph = model.graph(definition, steps, execution["status"])
        outside = model.attribute_logs(definition, steps, self._logbook.lines(operation_id))
        given = _json_or_none(execution.get("input")) or {}
        user_id = next(
            (
                found
                for step in steps
                if isinstance(found := find_key(_json_or_none(step.get("output")), "userId"), str)
            ),
            None,
        )
        started = execution["startDate"]
        detail = {
            "operationId": operation_id,
            "executionArn": arn,
            "stateMachineArn": machine["stateMachineArn"],
            "status": execution["status"],
            "email": given.get("email") if isinstance(given, dict) else None,
            "startDate": _iso(started),
            "stopDate": _iso(execution.get("stopDate")),
            "durationMs": millis(started, execution.get("stopDate")),
            "input": execution.get("input"),
            "output": execution.get("output"),
            "error": execution.get("error"),
            "cause": execution.get("cause"),
            "outcome": self.outcome(operation_id),
            "review": self.review(operation_id),
            "links": {
                "operation": f"/operations/{operation_id}",
                "user": f"/users/{user_id}" if user_id else None,
            },
            "definition": machine["definition"],
            "graph": graph,
            "steps": steps,
            "logs": outside,
            "events": [_event(event, started) for event in events],
        }
        return _without_tokens(detail, task_tokens(definition, events))


def _token_fields(definition: Any) -> set[str]:
    """The parameters a definition fills with a task token (`taskToken` for `taskToken.$`)."""
    if isinstance(definition, list):
        return set().union(*map(_token_fields, definition))
    if not isinstance(definition, dict):
        return set()
    fields = {
        key.removesuffix(".$")
        for key, value in definition.items()
        if value == _TASK_TOKEN or (isinstance(value, str) and _JSONATA_TOKEN.match(value))
    }
    for value in definition.values():
        if isinstance(value, str):
            fields.update(_JSONATA_TOKEN_FIELD.findall(value))
    return fields.union(*map(_token_fields, definition.values()))


def task_tokens(definition: dict[str, Any], events: list[dict[str, Any]]) -> set[str]:
    """The task tokens an execution handed to its callback tasks: what resumes them, which
    the console never shows (a reviewer decides through the API, which keeps the token)."""
    fields = _token_fields(definition.get("States", {}))
    tokens: set[str] = set()
    for event in events:
        scheduled = event.get("taskScheduledEventDetails")
        if not fields or not scheduled:
            continue
        parameters = _json_or_none(scheduled.get("parameters"))
        for field in fields:
            found = find_key(parameters, field)
            if isinstance(found, str) and found:
                tokens.add(found)
    return tokens


def _without_tokens(document: dict[str, Any], tokens: set[str]) -> dict[str, Any]:
    """The document with each of the tokens, wherever it appears (also inside the JSON
    strings the history holds), replaced by TOKEN_HIDDEN."""
    if not tokens:
        return document
    text = json.dumps(document)
    for token in tokens:
        text = text.replace(json.dumps(token)[1:-1], TOKEN_HIDDEN)
    hidden: dict[str, Any] = json.loads(text)
    return hidden


def _event(event: dict[str, Any], started: datetime) -> dict[str, Any]:
    details = {
        key: value
        for key, value in event.items()
        if key.endswith("EventDetails") and isinstance(value, dict)
    }
    detail = next(iter(details.values()), {})
    return {
        "id": event["id"],
        "previousEventId": event.get("previousEventId"),
        "type": event["type"],
        "timestamp": _iso(event["timestamp"]),
        "sinceStartMs": millis(started, event["timestamp"]),
        "state": detail.get("name"),
        "details": detail,
    }


class _ShardWatch:
    """What the console has read of one shard: how many records, the tip, and the recent
    records' sequence numbers and arrival times (to say how far a consumer lags)."""

    def __init__(self, kinesis: Any, stream_name: str, shard_id: str) -> None:
        self.shard_id = shard_id
        self.records = 0
        self.tip: str | None = None
        self._recent: collections.deque[tuple[int, float]] = collections.deque(
            maxlen=_RECENT_RECORDS
        )
        self._kinesis = kinesis
        self._iterator: str | None = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def catch_up(self, max_reads: int = 20) -> list[dict[str, Any]]:
        """Reads what is new; returns it."""
        records: list[dict[str, Any]] = []
        for _ in range(max_reads):
            if self._iterator is None:
                break
            read = self._kinesis.get_records(ShardIterator=self._iterator, Limit=10_000)
            self._iterator = read.get("NextShardIterator")
            records += read["Records"]
            if not read["Records"] or not read.get("MillisBehindLatest"):
                break
        for record in records:
            self.records += 1
            self.tip = record["SequenceNumber"]
            arrived = record["ApproximateArrivalTimestamp"].timestamp()
            self._recent.append((int(record["SequenceNumber"]), arrived))
        return records

    def behind(self, checkpoint: str | None, now: float) -> dict[str, Any]:
        """Records after `checkpoint` up to the tip, and how long the oldest has waited."""
        recent = list(self._recent)
        first_after = (
            0 if checkpoint is None else bisect.bisect_right(recent, (int(checkpoint), now + 1))
        )
        waiting = recent[first_after:]
        # A checkpoint older than what is remembered: at least that many are behind.
        exact = checkpoint is None or not recent or first_after > 0 or self.records == len(recent)
        count = self.records if checkpoint is None else len(waiting)
        return {
            "records": count,
            "exact": exact,
            "oldestWaitingMs": round((now - waiting[0][1]) * 1000) if waiting else 0,
        }


class SystemPanel:
    """The console's system panel: the stream and the starter's place on it, the on-failure
    queue and the tables."""

    def __init__(
        self,
        session: Any,
        stream: StreamReader,
        failure_queue_url: str,
        starter: Callable[[], dict[str, dict[str, Any]]],
    ) -> None:
        self._session = session
        self._stream = stream
        self._stream_name = stream.stream_name
        self._queue_url = failure_queue_url
        self._starter = starter  # per shard id: {"checkpoint": ..., "stats": {...}}

    @property
    def _kinesis(self) -> Any:
        return self._stream.kinesis

    @functools.cached_property
    def _sqs(self) -> Any:
        return self._session.client("sqs")

    @functools.cached_property
    def _dynamodb(self) -> Any:
        return self._session.client("dynamodb")

    def snapshot(self) -> dict[str, Any]:
        return {"stream": self.stream(), "queue": self.queue(), "tables": self.tables()}

    def stream(self) -> dict[str, Any]:
        description = self._kinesis.describe_stream_summary(StreamName=self._stream_name)[
            "StreamDescriptionSummary"
        ]
        starter = self._starter()  # before reading: the checkpoint cannot pass the tip read
        listed = []
        for watch in self._stream.catch_up():
            position = starter.get(watch.shard_id, {})
            checkpoint = position.get("checkpoint")
            listed.append(
                {
                    "shardId": watch.shard_id,
                    "records": watch.records,
                    "tip": watch.tip,
                    "starter": {
                        "checkpoint": checkpoint,
                        "behind": watch.behind(checkpoint, time.time()),
                        "stats": position.get("stats"),
                    },
                }
            )
        return {
            "name": self._stream_name,
            "arn": description["StreamARN"],
            "status": description["StreamStatus"],
            "mode": description.get("StreamModeDetails", {}).get("StreamMode"),
            "retentionHours": description.get("RetentionPeriodHours"),
            "shards": listed,
        }

    def queue(self) -> dict[str, Any]:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url,
            AttributeNames=[
                "QueueArn",
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        peeked = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=_PEEKED_MESSAGES,
            VisibilityTimeout=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        return {
            "url": self._queue_url,
            "arn": attributes["QueueArn"],
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "inFlight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            "messages": [self._message(message) for message in peeked],
        }

    def _message(self, message: dict[str, Any]) -> dict[str, Any]:
        body = _json_or_none(message["Body"])
        batch = body.get("KinesisBatchInfo") if isinstance(body, dict) else None
        attributes = message.get("Attributes", {})
        sent = attributes.get("SentTimestamp")
        return {
            "messageId": message["MessageId"],
            "sentAt": _iso(datetime.fromtimestamp(int(sent) / 1000, UTC)) if sent else None,
            "receiveCount": int(attributes.get("ApproximateReceiveCount", 0)),
            "body": body if body is not None else message["Body"],
            "records": self._records(batch) if isinstance(batch, dict) else [],
        }

    def _records(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """The stream records a failed batch's coordinates point to."""
        iterator = self._kinesis.get_shard_iterator(
            StreamName=self._stream_name,
            ShardId=batch["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=batch["startSequenceNumber"],
        )["ShardIterator"]
        limit = int(batch.get("batchSize", 1))
        records = self._kinesis.get_records(ShardIterator=iterator, Limit=limit)["Records"]
        end = int(batch["endSequenceNumber"])
        return [_record(r) for r in records if int(r["SequenceNumber"]) <= end]

    def tables(self) -> list[dict[str, Any]]:
        tables = []
        for page in self._dynamodb.get_paginator("list_tables").paginate():
            for name in page["TableNames"]:
                table = self._dynamodb.describe_table(TableName=name)["Table"]
                tables.append(
                    {"name": name, "status": table["TableStatus"], "items": table["ItemCount"]}
                )
        return tables


def _record(record: dict[str, Any]) -> dict[str, Any]:
    data: bytes = record["Data"]
    text = data.decode("utf-8", errors="replace")
    document = _json_or_none(text)
    operation_id = document.get("operationId") if isinstance(document, dict) else None
    return {
        "sequenceNumber": record["SequenceNumber"],
        "partitionKey": record["PartitionKey"],
        "arrivedAt": _iso(record["ApproximateArrivalTimestamp"]),
        "operationId": operation_id if isinstance(operation_id, str) else None,
        "data": text[:_RECORD_PREVIEW_CHARS],  # bytes that are not UTF-8 shown as U+FFFD
        "bytes": len(data),
    }
