"""The app's log lines per operation, kept in memory for the console: what CloudWatch Logs
would show for one correlation id.

Every record that reaches the root logger is formatted as the app writes it (its JSON
formatter) and kept under its `correlation_id` (the operation id; or the record's
`operation_id` extra, as the API logs it before an operation has a correlation). Memory is
bounded however long the stack runs: at most `max_operations` operations and
`max_total_chars` characters of lines in all (the least recently written operations are
forgotten first), `max_lines` lines per operation (its oldest dropped), `max_line_chars` per
line (the rest cut, and marked).

Each line also names the Lambda function that wrote it (the local Lambda runtime's
`current_function()`): the console then shows a state only the lines
of the function it invoked (a line the starter writes meanwhile is not the state's).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import threading

from chalicelib.adapters.logs import JsonFormatter
from local.aws.lambda_runtime import current_function

TRUNCATED = " …[truncated]"


@dataclasses.dataclass(frozen=True)
class LogLine:
    created: float  # seconds since the epoch, as logging.LogRecord.created
    level: str
    logger: str
    line: str  # the JSON line as the app writes it
    function: str | None = None  # the Lambda function that wrote it, when known


class LogBook(logging.Handler):
    def __init__(
        self,
        max_operations: int = 1000,
        max_lines: int = 100,
        max_line_chars: int = 4000,
        max_total_chars: int = 8_000_000,
    ) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.max_operations = max_operations
        self.max_lines = max_lines
        self.max_line_chars = max_line_chars
        self.max_total_chars = max_total_chars
        self._chars = 0
        self._lines: collections.OrderedDict[str, collections.deque[LogLine]] = (
            collections.OrderedDict()
        )
        self._guard = threading.Lock()

    @classmethod
    def install(cls, **limits: int) -> LogBook:
        """Attach a new log book to the root logger (after logging is configured: a root
        logger with a handler already keeps it, and basicConfig would otherwise add none)."""
        book = cls(**limits)
        logging.getLogger().addHandler(book)
        return book

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            entry = json.loads(line)
        except Exception:
            self.handleError(record)
            return
        key = entry.get("correlation_id") or entry.get("operation_id")
        if not isinstance(key, str) or not key:
            return
        if len(line) > self.max_line_chars:
            line = line[: self.max_line_chars - len(TRUNCATED)] + TRUNCATED
        kept = LogLine(record.created, record.levelname, record.name, line, current_function())
        with self._guard:
            lines = self._lines.get(key)
            if lines is None:
                lines = self._lines[key] = collections.deque()
            else:
                self._lines.move_to_end(key)
            if len(lines) >= self.max_lines:
                self._chars -= len(lines.popleft().line)
            lines.append(kept)
            self._chars += len(line)
            while len(self._lines) > self.max_operations or (
                self._chars > self.max_total_chars and len(self._lines) > 1
            ):
                _, forgotten = self._lines.popitem(last=False)
                self._chars -= sum(len(kept.line) for kept in forgotten)

    def lines(self, operation_id: str) -> list[LogLine]:
        with self._guard:
            return list(self._lines.get(operation_id, ()))

    def size(self) -> tuple[int, int]:
        """(operations, characters) held."""
        with self._guard:
            return len(self._lines), self._chars
