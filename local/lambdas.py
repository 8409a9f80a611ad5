"""Run the Chalice app's Lambda functions in process, behind moto's Lambda service.

moto's Lambda runs code only in Docker. Every invocation path (the Invoke API, Step
Functions tasks, our Kinesis poller) goes through LambdaFunction._invoke_lambda, so replacing
that one method dispatches them all to the app's own handlers, with Lambda's error format.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from chalice import Chalice
from moto.awslambda.models import LambdaFunction

logger = logging.getLogger(__name__)
Handler = Callable[[Any, Any], Any]


@dataclasses.dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _deadline: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_handlers(app: Chalice) -> dict[str, Handler]:
    """The app's handlers that deploy as their own Lambda function, by Chalice name."""
    views = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    return {name: fn for name, fn in app.handler_map.items() if name not in views}


def deployed_name(app: Chalice, stage: str, name: str) -> str:
    """The function name Chalice deploys a handler under."""
    return f"{app.app_name}-{stage}-{name}"


def function_zip() -> bytes:
    """Code for moto's create_function: never run, the handlers run in process."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# dispatched in process by local/lambdas.py\n")
    return buffer.getvalue()


class InProcessLambdas:
    """Dispatches moto's Lambda invocations to handlers by function name."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = {}

    def register(self, function_name: str, handler: Handler) -> None:
        self._handlers[function_name] = handler

    def invoke(self, function: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        handler = self._handlers.get(function.function_name)
        if handler is None:
            message = f"no in-process handler for function {function.function_name}"
            return json.dumps({"errorType": "HandlerNotFound", "errorMessage": message}), True, ""
        with self._lock:
            self.invocations[function.function_name] = (
                self.invocations.get(function.function_name, 0) + 1
            )
        context = LambdaContext(
            function_name=function.function_name,
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=int(function.memory_size),
            timeout_seconds=float(function.timeout),
        )
        payload = json.loads(event) if isinstance(event, str | bytes) else event
        try:
            result = handler(payload, context)
        except Exception as error:
            # What the Lambda runtime reports for an unhandled exception; Step Functions
            # takes errorType as the error name that Retry and Catch match.
            logger.warning("function %s raised %s", function.function_name, type(error).__name__)
            body = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            return json.dumps(body), True, ""
        return json.dumps(result), False, ""

    @contextlib.contextmanager
    def installed(self) -> Iterator[InProcessLambdas]:
        original = LambdaFunction._invoke_lambda
        runtime = self

        def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            return runtime.invoke(self, event if event is not None else {})

        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
        try:
            yield self
        finally:
            LambdaFunction._invoke_lambda = original  # type: ignore[method-assign]
