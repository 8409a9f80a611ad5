"""A Parallel branch whose state fails, uncaught, records that state as aborted.

AWS's recorded executions (LocalStack's snapshots of April and November 2024, a Task failing
in a branch with and without a Catch or a Retry on the Parallel) show `TaskStateAborted`
right after the branch's `TaskFailed`, before the Parallel fails or its Catch takes over;
what comes next (ParallelStateFailed, a retry's ParallelStateStarted) follows the
`TaskFailed`. moto recorded nothing. Only the state kinds with such an event in the API
(Task, Map, Parallel, Wait) have one. Registered in local/patches/registry.py.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError

from local.patches.hooks import Hooks

_ABORTED = {kind.value for kind in HistoryEventType if kind.value.endswith("StateAborted")}


def failed_state_aborted(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces BranchWorker._thread_routine(self): the branch's program runs, a state it
    failed in is recorded as aborted, then the Parallel hears that the branch ended."""

    def _thread_routine(self: Any) -> None:
        env = self.env
        self._program.eval(env)
        if isinstance(env.program_state(), ProgramError):
            entered = _entered(env.event_manager, env.event_history_context.source_event_id)
            kind = HistoryEventType(entered["type"]).value if entered else ""
            aborted = kind.replace("Entered", "Aborted")
            if aborted in _ABORTED:
                env.event_manager.add_event(  # what follows the branch follows its failure
                    context=env.event_history_context,
                    event_type=HistoryEventType(aborted),
                    update_source_event_id=False,
                )
        self._branch_worker_comm.on_terminated(env=env)

    return _thread_routine


def _entered(events: Any, last: int) -> dict[str, Any] | None:
    """The StateEntered event of the state whose last event is `last`: back along
    previousEventId (moto leaves no name of the failed state on the branch)."""
    with events._mutex:  # sibling branches add their events meanwhile
        by_id = {event["id"]: event for event in events._history_event_list}
    event = by_id.get(last)
    while event is not None and not HistoryEventType(event["type"]).value.endswith("StateEntered"):
        event = by_id.get(event["previousEventId"])
    return event
