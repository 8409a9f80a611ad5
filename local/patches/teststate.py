"""The changes to moto that TestState and the endpoint's unsupported calls need (registered
in local/patches/registry.py).

- test-state: moto's Step Functions answers TestState through
  local/aws/stepfunctions/test_state.py; in process, a request to TestState's host prefix
  (`sync-states.<region>.amazonaws.com`, botocore's `hostPrefix` for TestState and
  StartSyncExecution) reaches moto's Step Functions as it does over HTTP, where an endpoint
  URL replaces the host.
- unsupported-operations: a call the emulator does not implement gets what AWS answers a call
  it does not know (400 `UnknownOperationException`, in the service's protocol, naming the
  operation) instead of moto's NotImplementedError (an HTML 500 over HTTP) or its 404 "Not
  yet implemented": an operation of a service moto has (the one seam every protocol's
  dispatch goes through, BaseResponse.call_action), a route moto's REST services lack, a
  service moto lacks altogether (in process, moto's stubber; over HTTP, its dispatcher).
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import ParseResult

from botocore.awsrequest import AWSPreparedRequest
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import ServiceException
from moto.core.request import Request, normalize_request
from moto.core.responses import ActionResult, BaseResponse
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Response

from local.aws.stepfunctions import mocks, test_state
from local.patches import counting

if TYPE_CHECKING:
    from local.patches.hooks import Hooks

logger = logging.getLogger(__name__)
UNKNOWN_OPERATION = "UnknownOperationException"
# What moto's stubber answers, in process, a request no backend's URLs match.
NOT_YET_IMPLEMENTED: TYPE_RESPONSE = (404, {}, "Not yet implemented")
_MOTO_WARNS = rf".*code {UNKNOWN_OPERATION} does not match an error shape"


class AwsError(ServiceException):
    """An error AWS answers, serialised by moto in the service's protocol (an exception of
    moto's own modules would be looked up in a service model named after its package)."""


class UnknownOperation(AwsError):
    code = UNKNOWN_OPERATION


def _unknown(service: str, operation: str | None) -> UnknownOperation:
    # AWS answers UnknownOperationException whatever the service; moto warns on each answer
    # that the service's model does not list it (set here, not at import: a test runner
    # restores the filters it found around each test).
    warnings.filterwarnings("ignore", message=_MOTO_WARNS, category=UserWarning)
    name = f"{service} {operation}" if operation else f"this {service} operation"
    message = f"The local engine does not implement {name} (moto does not)"
    if service == "stepfunctions":
        message += "; docs/stepfunctions-local.md lists the Step Functions operations it does"
    return UnknownOperation(message)


# test-state


def sync_host_prefix() -> str:
    """The host prefix botocore puts before Step Functions' host for TestState ("sync-")."""
    model = mocks.operation("stepfunctions", "TestState")
    assert model is not None and isinstance(model.endpoint, dict)
    return str(model.endpoint["hostPrefix"])


def test_state_api(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.call_action(self) (TestState), and
    botocore_stubber.get_equivalent_url_in_aws_domain(url) (the host prefix)."""
    if name == "get_equivalent_url_in_aws_domain":
        return _without_sync_prefix(original)
    answer = counting.counting(
        functools.partial(_answer_test_state, now=hooks.clock.now), hooks, name
    )

    @functools.wraps(original)
    def call_action(self: BaseResponse) -> TYPE_RESPONSE:
        if self._get_action() == "TestState":
            return answer(self)
        return original(self)

    return call_action


def _answer_test_state(self: BaseResponse, now: Callable[[], Any]) -> TYPE_RESPONSE:
    try:
        request = json.loads(self.body or "{}")
    except json.JSONDecodeError:
        return self.serialized(
            ActionResult(AwsError("SerializationException", "Request body is not valid JSON"))
        )
    if not isinstance(request, dict):
        return self.serialized(
            ActionResult(AwsError("SerializationException", "Request body is not a JSON object"))
        )
    try:
        result = test_state.answer(request, self.current_account, self.region, now)
    except test_state.Refused as refused:
        return self.serialized(ActionResult(AwsError(refused.code, refused.message)))
    return self.serialized(ActionResult(result))


def _without_sync_prefix(original: Callable[[str], tuple[ParseResult, bool]]) -> Any:
    prefix = f"{sync_host_prefix()}states."

    def get_equivalent_url_in_aws_domain(url: str) -> tuple[ParseResult, bool]:
        parsed, changed = original(url)
        if parsed.netloc.startswith(prefix):
            return parsed._replace(netloc=parsed.netloc.removeprefix(sync_host_prefix())), True
        return parsed, changed

    return get_equivalent_url_in_aws_domain


# unsupported-operations


def unsupported_operations(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces BaseResponse.call_action(self), BotocoreStubber.process_request(self,
    request) and DomainDispatcherApplication.__call__(self, environ, start_response)."""
    if name == "call_action":
        return _answering_not_implemented(original)
    if name == "process_request":
        return _answering_unmatched(original)
    return _answering_unroutable(original)


def _answering_not_implemented(original: Callable[[BaseResponse], TYPE_RESPONSE]) -> Any:
    @functools.wraps(original)
    def call_action(self: BaseResponse) -> TYPE_RESPONSE:
        try:
            return original(self)
        except NotImplementedError as error:
            action = self._get_action()
            logger.info("not implemented: %s %s (%s)", self.boto3_service_name, action, error)
            return self.serialized(ActionResult(_unknown(self.boto3_service_name, action)))

    return call_action


def _answering_unmatched(original: Callable[[BotocoreStubber, AWSPreparedRequest], Any]) -> Any:
    @functools.wraps(original)
    def process_request(self: BotocoreStubber, request: AWSPreparedRequest) -> Any:
        response = original(self, request)
        if response != NOT_YET_IMPLEMENTED:
            return response
        return unknown_operation_answer(normalize_request(request))

    return process_request


def _answering_unroutable(original: Callable[..., Iterable[bytes]]) -> Any:
    @functools.wraps(original)
    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            app = self.get_application(environ)
            app.url_map.bind_to_environ(environ).match()
        except (NotFound, MethodNotAllowed):
            pass  # a route the service's backend lacks
        except Exception:
            logger.info(
                "no backend answers %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            )
        else:
            return original(self, environ, start_response)
        status, headers, body = unknown_operation_answer(Request(environ))
        response = Response(body, status=status, headers=headers)
        return response(environ, start_response)

    return __call__


def unknown_operation_answer(request: Request) -> TYPE_RESPONSE:
    """AWS's answer to a call it does not know, in the protocol of the service the request
    is signed for (or in JSON, when botocore does not know the service or moto cannot read
    the request)."""
    service = _signed_for(request.headers.get("Authorization", ""))
    try:
        responder = BaseResponse(service_name=service)
        responder.setup_class(request)
        operation = responder._get_action()
        return responder.serialized(ActionResult(_unknown(service, operation)))
    except Exception as error:  # the answer is the same, without the service's protocol
        logger.info("answering an unknown %s call in JSON: %r", service or "service", error)
    message = _unknown(service or "unknown service", None).message
    body = json.dumps({"__type": UNKNOWN_OPERATION, "message": message})
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": UNKNOWN_OPERATION}
    return 400, headers, body


def _signed_for(authorization: str) -> str:
    """The service a SigV4 request is signed for (Credential=key/date/region/service/...)."""
    try:
        return authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")[3]
    except IndexError:
        return ""
