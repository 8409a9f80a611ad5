"""A Map's iterations and a Parallel's branches when one of them fails, as AWS records them.

AWS's recorded executions (LocalStack's snapshots: timeouts/test_timeouts
`test_service_lambda_map_timeout`, March 2024; callback/test_callback's Parallel, April 2024;
states_variables/test_error_output's Parallel cases, November 2024) show:

- the first iteration to fail records MapIterationFailed, and ends the Map: every iteration
  still running is aborted, in the order of the items, its state's abort first
  (`TaskStateAborted`), then `MapIterationAborted`; the failed iteration's own state's abort
  (TaskStateAborted after its TaskTimedOut) comes last, then MapStateFailed. Each of these
  events follows the failure's last event (its previousEventId), as MapStateFailed does. No
  item starts after the failure, and nothing an aborted iteration did later is recorded.
- a Parallel's branch whose state fails: that state's abort (TaskStateAborted right after
  its TaskFailed), then ParallelStateFailed, both following the TaskFailed.

moto let the other iterations and branches run on (their MapIterationSucceeded after the
ExecutionFailed), recorded no abort, and had ParallelStateFailed follow whichever branch's
event came last. Here each child's events reach the history through a `Gate`: the first
failure closes every other gate at once; the Map or Parallel then stops the aborted children
(a Wait in one wakes at once) and records their aborts. A Parallel's branches are aborted as a
Map's iterations are (the recordings have one branch: which of its two orders AWS keeps with
several is ours). Only the state kinds with an abort event in the API (Task, Map, Parallel,
Wait) record one. Registered in local/patches/registry.py.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from moto.stepfunctions.parser.api import (
    ExecutionFailedEventDetails,
    HistoryEventType,
    MapIterationEventDetails,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import (
    BranchWorker,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError
from moto.utilities.collections import select_from_typed_dict

from local.patches.hooks import Hooks
from local.state.clock import Clock

_ABORTED = {kind.value for kind in HistoryEventType if kind.value.endswith("StateAborted")}


class Children:
    """The iterations of one Map run, or the branches of one Parallel."""

    def __init__(self, events: Any) -> None:
        self.lock = threading.RLock()  # one for every gate: a failure closes them at once
        self.events = events  # the parent's (a Gate itself, in a child of another Map)
        self.gates: dict[int, Gate] = {}
        self.failed: Gate | None = None

    def gate(self, index: int, env: Environment) -> Gate:
        """The child `index`'s gate, its events' way to the history from now on."""
        with self.lock:
            gate = Gate(self, index, env)
            self.gates[index] = gate
        env.event_manager = gate  # type: ignore[assignment]  # the child's frames inherit it
        return gate

    def fail(self, gate: Gate, last: int) -> None:
        """`gate`'s child failed, its last event `last` (under the lock): the first failure
        aborts every child still running; a child failing after it is aborted itself."""
        if self.failed is not None:
            gate.aborted = True
            return
        self.failed, gate.last, gate.ended = gate, last, True
        for other in self.gates.values():
            other.aborted = other.aborted or not other.ended

    def close(self, env: Environment, clock: Clock, iteration: str | None) -> None:
        """After the failure: the aborted children stopped, their aborts recorded in order
        (a Map's `iteration` events too), the failed child's state's abort; what follows in
        the parent follows the failure's last event."""
        failed = self.failed
        assert failed is not None
        with self.lock:  # a worker may still be opening a gate
            gates = sorted(self.gates.items())
        aborted = [gate for _, gate in gates if gate.aborted and gate.started]
        for gate in aborted:
            _stop(gate.env, clock)
        context = EventHistoryContext(previous_event_id=failed.last)
        for gate in aborted:
            self._state_aborted(context, gate.entered)
            if iteration is not None:
                details = MapIterationEventDetails(name=iteration, index=gate.index)
                self.events.add_event(
                    context,
                    HistoryEventType.MapIterationAborted,
                    event_details=cast(EventDetails, {"mapIterationAbortedEventDetails": details}),
                    update_source_event_id=False,
                )
        self._state_aborted(context, failed.entered)
        with env._state_mutex:  # a child's frame closing later moves previousEventId no more
            for frame in list(env._frames):
                env.delete_frame(frame)
        env.event_history_context.source_event_id = failed.last

    def _state_aborted(self, context: EventHistoryContext, entered: str | None) -> None:
        aborted = None if entered is None else entered.replace("Entered", "Aborted")
        if aborted in _ABORTED:
            self.events.add_event(context, HistoryEventType(aborted), update_source_event_id=False)


def _stop(env: Environment, clock: Clock) -> None:
    """An aborted child stops: a Wait in it wakes at once, and so does a task waiting for its
    token (the token's wait is over, as its timeout would end it; stopping wakes no callback)."""
    env.set_stop(stop_date=clock.now(), cause=None, error=None)
    frames = [env]
    while frames:
        frame = frames.pop()
        task = frame.states.context_object.context_object_data.get("Task")
        endpoint = task and frame.callback_pool_manager.get(task["Token"])
        if endpoint is not None:
            endpoint.interrupt_all()
        with frame._state_mutex:
            frames.extend(frame._frames)


class Gate:
    """One child's way to the history: its events pass until it is aborted, none after."""

    def __init__(self, children: Children, index: int, env: Environment) -> None:
        self.children = children
        self.index = index
        self.env = env
        self.context = env.event_history_context  # the child's own states' events
        self.started = children.failed is None  # after a failure, a child does not start
        self.aborted = not self.started
        self.ended = False
        self.entered: str | None = None  # the StateEntered of the state under way
        self.last = 0  # a failed child's last event
        self.job: Any = None  # a Map iteration's job
        self.done = threading.Event()  # a Map iteration's evaluation is over

    def add_event(
        self,
        context: EventHistoryContext,
        event_type: HistoryEventType,
        event_details: Any = None,
        timestamp: Any = None,
        update_source_event_id: bool = True,
    ) -> int:
        children = self.children
        with children.lock:
            # the child's own iteration failing (a Map nested in it writes its own through here)
            own = context is self.context
            if event_type == HistoryEventType.MapIterationFailed and own and not self.aborted:
                children.fail(self, context.source_event_id)
            if self.aborted:
                return context.source_event_id
            added: int = children.events.add_event(
                context,
                event_type,
                event_details=event_details,
                timestamp=timestamp,
                update_source_event_id=update_source_event_id,
            )
            if context is self.context and event_type is not None:
                kind = str(event_type.value)
                if kind.endswith("StateEntered"):
                    self.entered = kind
                elif kind.endswith("StateExited"):
                    self.entered = None
            self.ended = self.ended or event_type == HistoryEventType.MapIterationSucceeded
            return added

    def end(self, failed: bool) -> None:
        """A branch's program is over."""
        with self.children.lock:
            if failed and not self.aborted:
                self.children.fail(self, self.context.source_event_id)
            self.ended = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.children.events, name)  # the rest of the event manager's


class _Branches(BranchWorker.BranchWorkerComm):
    """Hears the branches end: settled once one failed or all have ended."""

    def __init__(self, children: Children, count: int) -> None:
        self.children = children
        self.count = count
        self.settled = threading.Event()

    def on_terminated(self, env: Environment) -> None:
        with self.children.lock:
            self.count -= 1
            if self.children.failed is not None or self.count == 0:
                self.settled.set()


def aborted_branches(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces BranchesDecl._eval_body(self, env) and BranchWorker._thread_routine(self): the
    branches run behind gates; the first to fail aborts the others (Children.close) and fails
    the Parallel with its error."""
    if original.__qualname__.startswith("BranchWorker"):
        return _branch_routine
    clock = hooks.clock

    def _eval_body(self: Any, env: Environment) -> None:
        input_value = env.stack.pop()
        children = Children(env.event_manager)
        heard = _Branches(children, len(self.programs))
        workers = []
        for index, program in enumerate(self.programs):
            frame = env.open_inner_frame()
            frame.states.reset(input_value=input_value)
            worker = BranchWorker(branch_worker_comm=heard, program=program, env=frame)
            worker.aws_gate = children.gate(index, frame)  # type: ignore[attr-defined]
            workers.append(worker)
        for worker in workers:
            worker.start()
        heard.settled.wait()
        failed = children.failed
        if failed is not None:
            children.close(env, clock, None)
            state = failed.env.program_state()
            error = state.error if isinstance(state, ProgramError) else None
            details = select_from_typed_dict(ExecutionFailedEventDetails, error or {})
            named = vars(branches_decl)["CustomErrorName"]  # as the branch-error-names patch has it
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=named(error_name=details.get("error")),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=cast(EventDetails, {"executionFailedEventDetails": details}),
                )
            )
        results = []
        for worker in workers:
            results.append(worker.env.states.get_input())
            env.close_frame(worker.env)
        env.stack.append(results)

    return _eval_body


def _branch_routine(self: Any) -> None:
    env = self.env
    self._program.eval(env)
    gate: Gate | None = getattr(self, "aws_gate", None)
    if gate is not None:
        gate.end(failed=isinstance(env.program_state(), ProgramError))
    self._branch_worker_comm.on_terminated(env=env)
