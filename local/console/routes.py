"""The console's HTTP side: its page and static files, and its JSON API under /_local/api/
(executions, the system, metrics and the app's metric charts, the review topic's
notifications, about), which the terminal client reads too.

Plain routing over the local API server's request handler (no framework: a handful of GET routes).
Every error is RFC 9457 problem+json, in the app's own shape (chalicelib/http/problems.py):
an unknown path under /_local/ → 404, another method than GET or HEAD → 405 with Allow, a bad
query parameter → 400. JSON answers carry an ETag, so the page's polling costs a 304 and no
body while nothing changes.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.exceptions import ClientError

from chalicelib.http import edges
from chalicelib.http.problems import Problem, bad_request, not_found
from local.console.charts import MetricCharts
from local.console.data import EXECUTION_STATUSES, Executions, StreamReader, SystemPanel
from local.console.logbook import LogBook
from local.console.notifications import Inbox
from local.console.timeline import Timelines
from local.http import replies
from local.http.replies import Reply

if TYPE_CHECKING:
    from chalicelib.domain.operations import Operation
    from chalicelib.domain.reviews import Review
    from local.emulator import Emulator

STATIC = Path(__file__).resolve().parent / "static"
ALLOWED_METHODS = ("GET", "HEAD")
MAX_LISTED = 1000
MAX_SEARCH_CHARS = 200
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
# Nothing from elsewhere: scripts, styles, images and requests all stay on this origin.
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
}
logger = logging.getLogger(__name__)


class Console:
    """Answers every request under /_local/ (`handle`, the HTTP front's LocalPages)."""

    def __init__(
        self,
        executions: Executions,
        system: SystemPanel,
        about: dict[str, Any],
        metrics: Callable[[], dict[str, Any]],
        *,
        inbox: Inbox | None = None,
        timelines: Timelines | None = None,
        charts: MetricCharts | None = None,
    ) -> None:
        self.executions = executions
        self.timelines = timelines
        self.system = system
        self.about = about
        self._metrics = metrics
        self.inbox = inbox
        self.charts = charts
        self._routes: list[tuple[re.Pattern[str], Callable[..., Reply]]] = [
            (re.compile(r"/_local/?"), self._index),
            (re.compile(r"/_local/static/(?P<name>[\w.-]+(?:/[\w.-]+)*)"), self._static),
            (re.compile(r"/_local/api/executions"), self._listing),
            (re.compile(r"/_local/api/executions/(?P<operation_id>[^/]+)"), self._detail),
            (re.compile(r"/_local/api/executions/(?P<operation_id>[^/]+)/trace"), self._trace),
            (re.compile(r"/_local/api/system"), self._system),
            (re.compile(r"/_local/api/metrics"), self._metrics_page),
            (re.compile(r"/_local/api/metrics/charts"), self._charts),
            (re.compile(r"/_local/api/notifications"), self._notifications),
            (re.compile(r"/_local/api/about"), self._about),
        ]

    @classmethod
    def for_emulator(
        cls,
        emulator: Emulator,
        logbook: LogBook,
        operations: Callable[[str], Operation | None],
        reviews: Callable[[str], Review | None],
        metrics: Callable[[], dict[str, Any]],
    ) -> Console:
        """Over a running Emulator: its session (in-process AWS), its resources, its Kinesis
        poller (the starter's checkpoint per shard) and its app's routes; `operations` and
        `reviews` read an operation and its review as the app stores them (the listing shows
        the operation's outcome, an execution who decided its review)."""
        resources = emulator.resources
        assert resources is not None
        about = {
            "stage": emulator.stage,
            "service": emulator.app.app_name,
            "stateMachineArn": resources.state_machine_arn,
            # The reviews panel appears once the API serves human review (GET /reviews); it
            # leads to the reviewer page, and shows what the review topic sent.
            "reviews": "GET" in emulator.app.routes.get("/reviews", {}),
            "reviewerPage": "/review/" if "/review" in emulator.app.routes else None,
        }

        def starter() -> dict[str, dict[str, Any]]:
            shards = emulator.poller.shards if emulator.poller else []
            return {
                shard.shard_id: {
                    "checkpoint": shard.checkpoint,
                    "stats": dataclasses.asdict(shard.stats),
                }
                for shard in shards
            }

        stream = StreamReader(emulator.session, resources.stream_name)
        return cls(
            Executions(
                emulator.session,
                resources.state_machine_arn,
                logbook,
                stream,
                operations,
                reviews=reviews,
            ),
            SystemPanel(emulator.session, stream, resources.failure_queue_url, starter),
            about,
            metrics,
            inbox=Inbox(
                emulator.session, resources.notifications_queue_url, resources.review_topic_arn
            ),
            timelines=Timelines(emulator.session),
            charts=MetricCharts(emulator.metric_series, emulator.stage, emulator.clock.time),
        )

    def handle(self, request: Any) -> None:
        """Answer one request of an http.server.BaseHTTPRequestHandler."""
        unreadable = replies.read_body(request)
        reply = unreadable or self.answer(request.command, request.path, request.headers)
        replies.send(request, reply, _HEADERS)

    def answer(self, method: str, target: str, headers: Mapping[str, str]) -> Reply:
        parts = urlsplit(target)
        path = unquote(parts.path)
        for pattern, route in self._routes:
            matched = pattern.fullmatch(path)
            if matched is None:
                continue
            if method not in ALLOWED_METHODS:
                return replies.problem(edges.method_not_allowed(list(ALLOWED_METHODS)), path)
            try:
                reply = route(query=parse_qs(parts.query), **matched.groupdict())
            except Problem as problem:
                return replies.problem(problem, path)
            except Exception:
                logger.exception("local console: %s %s failed", method, path)
                failed = Problem(
                    500, "internal-error", "Internal error", "the console failed; see the log"
                )
                return replies.problem(failed, path)
            etag = reply.headers.get("ETag")
            if etag and reply.status == 200 and headers.get("If-None-Match") == etag:
                return Reply(304, {"ETag": etag})
            return reply
        return replies.unknown_path(path, self.about["stage"])

    def _index(self, query: dict[str, list[str]]) -> Reply:
        """The page, titled with the app's name (.chalice/config.json: app_name)."""
        page = (STATIC / "index.html").read_text()
        service = html.escape(str(self.about["service"]))
        body = page.replace("{{service}}", service).encode()
        return replies.content(body, _CONTENT_TYPES[".html"])

    def _static(self, query: dict[str, list[str]], name: str) -> Reply:
        file = (STATIC / name).resolve()
        content_type = _CONTENT_TYPES.get(file.suffix)
        if content_type is None or not file.is_relative_to(STATIC) or not file.is_file():
            return replies.unknown_path(f"/_local/static/{name}", self.about["stage"])
        return replies.content(file.read_bytes(), content_type)

    def _listing(self, query: dict[str, list[str]]) -> Reply:
        status = _parameter(query, "status")
        if status and status not in EXECUTION_STATUSES:
            raise bad_request(f"status must be one of {', '.join(EXECUTION_STATUSES)}")
        search = _parameter(query, "q")
        if search and len(search) > MAX_SEARCH_CHARS:
            raise bad_request(f"q is longer than {MAX_SEARCH_CHARS} characters")
        limit = _parameter(query, "limit") or "100"
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LISTED:
            raise bad_request(f"limit must be a whole number from 1 to {MAX_LISTED}")
        return replies.json_content(self.executions.listing(status, search, int(limit)))

    def _detail(self, query: dict[str, list[str]], operation_id: str) -> Reply:
        found = self.executions.detail(operation_id)
        if found is None:
            raise not_found("execution for an operation")
        return replies.json_content(found)

    def _trace(self, query: dict[str, list[str]], operation_id: str) -> Reply:
        """The operation's traces as a timeline (local/console/timeline.py)."""
        if self.timelines is None:
            raise not_found("trace")
        try:
            return replies.json_content(self.timelines.of(operation_id))
        except ClientError as error:  # X-Ray refused (the stack stopping): said, not a trace
            code = error.response.get("Error", {}).get("Code", "")
            raise Problem(
                503, "unavailable", "Traces unavailable", f"X-Ray answered {code}"
            ) from None

    def _system(self, query: dict[str, list[str]]) -> Reply:
        return replies.json_content(self.system.snapshot())

    def _metrics_page(self, query: dict[str, list[str]]) -> Reply:
        return replies.json_content(self._metrics())

    def _charts(self, query: dict[str, list[str]]) -> Reply:
        """The app's metrics as the dashboard charts them, over the last minutes
        (local/console/charts.py): ?minutes=1-15 (15), ?period=10|30|60 seconds (10)."""
        if self.charts is None:
            raise not_found("metric charts")
        minutes, period = _parameter(query, "minutes") or "15", _parameter(query, "period") or "10"
        if not minutes.isdigit() or not period.isdigit():
            raise bad_request("minutes and period are whole numbers")
        return replies.json_content(self.charts.snapshot(int(minutes), int(period)))

    def _notifications(self, query: dict[str, list[str]]) -> Reply:
        if self.inbox is None:
            raise not_found("review topic in this stack")
        return replies.json_content(self.inbox.messages())

    def _about(self, query: dict[str, list[str]]) -> Reply:
        return replies.json_content(self.about)


def _parameter(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if values and len(values) > 1:
        raise bad_request(f"{name} is given more than once")
    return values[0] if values else None
