"""A state's failure with one of AWS's States.* errors, as moto's interpreter raises one."""

from __future__ import annotations

from typing import Literal, cast

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

# The event details an error and a cause are held in, by the failure's kind.
Details = Literal["executionFailedEventDetails", "mapRunFailedEventDetails"]


def states_failure(
    env: Environment,
    error: StatesErrorNameType,
    cause: str,
    event_type: HistoryEventType,
    details: Details = "executionFailedEventDetails",
) -> FailureEventException:
    """The state's failure with error and cause, held in the event details named (moto's
    EventDetails is a total TypedDict, so the one kind is cast)."""
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=event_type,
            event_details=cast(
                EventDetails,
                {details: ExecutionFailedEventDetails(error=error.to_name(), cause=cause)},
            ),
        )
    )
