"""Which errors a retrier or a catcher takes: none takes States.Runtime, as AWS's
error-handling page says ("A States.Runtime error isn't retriable, and will always cause the
execution to fail", "A retry or catch on States.ALL won't catch States.Runtime errors") and
AWS's recorded execution shows (LocalStack's test_catch_states_runtime: a Catch naming
States.Runtime, the execution failed all the same). moto's retriers and catchers took it, so
a path that found nothing went to a Catch where AWS fails the execution.

The page says the same of States.DataLimitExceeded and States.ALL; AWS's recorded executions
(March 2024, a Lambda's oversized result) show States.ALL taking it, so the engine leaves
that as moto has it. Registered in local/patches/registry.py."""

from __future__ import annotations

import functools
from typing import Any, Final

from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.patches.hooks import Hooks

_RUNTIME: Final = "States.Runtime"


def terminal_errors(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps ErrorEqualsDecl._eval_body(self, env): no retrier or catcher takes
    States.Runtime (the error is on the stack; whether it matches, a bool, replaces it)."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        if getattr(env.stack[-1], "error_name", None) == _RUNTIME:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    return eval_body
