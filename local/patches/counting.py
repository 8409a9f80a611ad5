"""Every AWS API call that reaches the emulator, counted by service and action, whoever made
it (the app, the Step Functions interpreter, the poller, a client on the endpoint)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.core.responses import BaseResponse

from local.patches.hooks import Hooks


def counting(original: Callable[[BaseResponse], Any], hooks: Hooks, name: str) -> Any:
    """Replaces BaseResponse.call_action: counts the call, then answers it."""
    counter = hooks.aws_calls

    @functools.wraps(original)
    def call_action(self: BaseResponse) -> Any:
        counter.add(f"{self.boto3_service_name}.{self._get_action()}")
        return original(self)

    return call_action
