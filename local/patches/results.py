"""A distributed Map's run as AWS ends and writes it (input-output-resultwriter.html,
state-map-distributed.html; AWS's objects as a capture against AWS shows them,
docs/jsonata.md). Registered in local/patches/registry.py.

moto kept no record of a Map's child executions, wrote only an empty `manifest.json`, and
let a Map run succeed whatever its children did. Here:
- each child's record is kept on its map run (its name, dates, input, output or error), for
  a Map that writes its results;
- a `ResultWriter` writes `SUCCEEDED_0` and `FAILED_0` beside the manifest, shaped by the
  `WriterConfig`: `Transformation` `NONE` (each child's record, the default), `COMPACT` (the
  outputs) or `FLATTEN` (the outputs, an array's items spliced in); `OutputType` `JSON` (one
  array) or `JSONL` (a value per line, `.jsonl`); a `WriterConfig` without a `Resource`
  makes the results, so shaped, the Map's own;
- a run whose failed children exceed its tolerance (`ToleratedFailureCount`,
  `ToleratedFailurePercentage`; none tolerated by default) fails with
  `States.ExceedToleratedFailureThreshold` once its children have ended.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any, Final

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import (
    StateCredentials,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import (
    ProgramError,
    ProgramStopped,
    ProgramTimedOut,
)
from moto.stepfunctions.parser.asl.utils import boto_client

from local.aws.stepfunctions import payloads
from local.aws.stepfunctions.answers import aws_timestamp
from local.aws.stepfunctions.failures import states_failure
from local.aws.stepfunctions.single_state import THRESHOLD_EXCEEDED
from local.patches.hooks import Hooks

_CHILDREN: Final = "aws_children"  # a map run's records, (index, record) as each child ends
_NONE: Final = "NONE"
_SUCCEEDED: Final = "SUCCEEDED"


def map_runs(original: Any, hooks: Hooks, name: str) -> Any:
    """The result-files patch, by what it replaces: the writer (ResultWriter._eval_body), a
    distributed Map's run (DistributedIterationComponent._eval_body), its children (the
    workers' _eval_input and _eval_job)."""
    owner = original.__qualname__.split(".")[0]
    if owner == "ResultWriter":
        return _result_files(original)
    if owner == "DistributedIterationComponent":
        return _run_kept(original)
    return (_input_kept if name == "_eval_input" else _record_kept(hooks))(original)


def _run_kept(original: Any) -> Any:
    """The Map's own run, on the Map's frame: the writer writes that run's results (moto's
    took the execution's newest run, another Map's when Maps nest or run side by side)."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        run = env.stack[-1].map_run_record
        env.aws_map_run = run  # type: ignore[attr-defined]
        run.aws_keeps_records = getattr(self, "aws_writes", False)
        original(self, env)

    return eval_body


def tolerance_enforced(original: Any, hooks: Hooks, name: str) -> Any:
    """The map-run-tolerance patch (DistributedIterationComponent._map_run)."""
    return _tolerance(original)


def _tolerance(original: Any) -> Any:
    """Replaces DistributedIterationComponent._map_run(self, env, eval_input): once the
    children have ended, more failed than tolerated fails the run."""

    @functools.wraps(original)
    def map_run(self: Any, env: Environment, eval_input: Any) -> None:
        original(self, env, eval_input)
        counter = eval_input.map_run_record.item_counter
        failed, total = counter.failed.get(), counter.total.get()
        count = eval_input.tolerated_failure_count or None  # 0: not given (or none tolerated)
        percentage = eval_input.tolerated_failure_percentage or None
        if count is None and percentage is None:
            exceeded = failed > 0
        else:
            exceeded = (count is not None and failed > count) or (
                percentage is not None and total > 0 and failed * 100 / total > percentage
            )
        if exceeded:
            raise states_failure(
                env,
                StatesErrorNameType.StatesExceedToleratedFailureThreshold,
                THRESHOLD_EXCEEDED,
                HistoryEventType.MapRunFailed,
            )

    return map_run


def _input_kept(original: Any) -> Any:
    """Replaces the workers' _eval_input(self, env_frame): a recording run's child keeps its
    input as it gets it, or the failure that kept it from starting."""

    @functools.wraps(original)
    def eval_input(self: Any, env_frame: Environment) -> None:
        run = getattr(self, "_map_run_record", None)
        if run is None or not getattr(run, "aws_keeps_records", False):
            return original(self, env_frame)
        try:
            original(self, env_frame)
        except FailureEventException as failure:
            env_frame.aws_child_failure = failure.extract_error_cause_pair()  # type: ignore[attr-defined]
            raise
        env_frame.aws_child_input = payloads.text(env_frame.states.get_input())  # type: ignore[attr-defined]
        return None

    return eval_input


def _record_kept(hooks: Hooks) -> Any:
    def wrap(original: Any) -> Any:
        """Replaces the distributed workers' _eval_job(self, env, job): the child's record on
        its run when it ends."""

        @functools.wraps(original)
        def eval_job(self: Any, env: Environment, job: Any) -> None:
            run = self._map_run_record
            if not getattr(run, "aws_keeps_records", False):
                return original(self, env, job)
            started = hooks.clock.now()
            original(self, env, job)
            name = str(uuid.uuid4())
            record: dict[str, Any] = {
                "ExecutionArn": run.map_state_machine_arn.replace(":stateMachine:", ":execution:")
                + f":{name}",
                "Input": getattr(env, "aws_child_input", None) or payloads.text(job.job_input),
                "InputDetails": {"Included": True},
                "Name": name,
                "OutputDetails": {"Included": True},
                "RedriveCount": 0,
                "StartDate": aws_timestamp(started),
                "StateMachineArn": run.map_state_machine_arn,
                "StopDate": aws_timestamp(hooks.clock.now()),
            }
            record.update(_outcome(env, job))
            # setdefault and append: one list, whichever of the run's workers ends first
            vars(run).setdefault(_CHILDREN, []).append(
                (job.job_index, dict(sorted(record.items())))
            )
            return None

        return eval_job

    return wrap


def _outcome(env: Environment, job: Any) -> dict[str, Any]:
    ended = env.program_state()
    if isinstance(ended, ProgramStopped):
        return {"RedriveStatus": "REDRIVABLE_BY_MAP_RUN", "Status": "ABORTED"}
    if isinstance(ended, ProgramTimedOut):
        return {"RedriveStatus": "REDRIVABLE_BY_MAP_RUN", "Status": "TIMED_OUT"}
    before = getattr(env, "aws_child_failure", None)  # the child never started
    if isinstance(ended, ProgramError) or before is not None:
        error, cause = before or _error_cause(ended)
        failed: dict[str, Any] = {"RedriveStatus": "REDRIVABLE_BY_MAP_RUN", "Status": "FAILED"}
        failed.update({k: v for k, v in (("Error", error), ("Cause", cause)) if v})
        return failed
    return {
        "Output": payloads.text(job.job_output),
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "Status": _SUCCEEDED,
    }


def _error_cause(ended: Any) -> tuple[str | None, str | None]:
    details = (ended.error if isinstance(ended, ProgramError) else None) or {}
    return details.get("error"), details.get("cause")


def _records(env: Environment) -> tuple[Any, list[dict[str, Any]]]:
    """The Map's run and its children's records in item order (let go of once read)."""
    run = env.aws_map_run  # type: ignore[attr-defined]
    kept = vars(run).pop(_CHILDREN, [])
    return run, [record for _, record in sorted(kept, key=lambda kept_one: kept_one[0])]


def shaped(records: list[dict[str, Any]], transformation: str) -> list[Any]:
    """Records as the Transformation shapes them; a child that did not succeed stays whole."""
    if transformation == _NONE:
        return records
    values: list[Any] = []
    for record in records:
        if record["Status"] != _SUCCEEDED:
            values.append(record)
            continue
        output = json.loads(record["Output"])
        if transformation == "FLATTEN" and isinstance(output, list):
            values.extend(output)
        else:
            values.append(output)
    return values


class ResultsOnly(EvalComponent):
    """A ResultWriter with a WriterConfig alone: the results, shaped, are the Map's (its
    OutputType names a file's format; with no file, AWS's use of it is not documented)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.transformation = config.get("Transformation", _NONE)

    def _eval_body(self, env: Environment) -> None:
        env.stack.pop()  # moto's results: the outputs alone
        _, records = _records(env)
        env.stack.append(shaped(records, self.transformation))


def _result_files(original: Any) -> Any:
    """Replaces ResultWriter._eval_body(self, env): the manifest and the result files AWS
    writes, shaped by the ResultWriter's WriterConfig (aws_writer_config, told at parse)."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        config = getattr(self, "aws_writer_config", {})
        env.stack.pop()  # moto's results: the outputs alone
        env.stack.append(env.states.get_input())  # what Parameters' paths read
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        env.stack.pop()
        self.resource.eval(env=env)
        s3: Any = boto_client.boto_client_for(
            region=env.stack.pop().region,
            service="s3",
            state_credentials=StateCredentials(role_arn=env.aws_execution_details.role_arn),
        )
        run, records = _records(env)
        try:
            answer = _write(s3, parameters, run, records, config)
        except (ClientError, KeyError, TypeError, AttributeError) as problem:
            raise states_failure(
                env,
                StatesErrorNameType.StatesResultWriterFailed,
                f"The results could not be written: {problem}",
                HistoryEventType.MapRunFailed,
            ) from problem
        env.stack.append(answer)

    return eval_body


def _write(
    s3: Any,
    parameters: Any,
    run: Any,
    records: list[dict[str, Any]],
    config: dict[str, Any],
) -> dict[str, Any]:
    bucket = parameters.get("Bucket") if isinstance(parameters, dict) else None
    if not isinstance(bucket, str):
        raise TypeError("the Bucket is no string")
    prefix = parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = f"{prefix}{run.map_run_arn.split(':')[-1]}/"
    lines = config.get("OutputType") == "JSONL"
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], _SUCCEEDED: []}
    for status in (_SUCCEEDED, "FAILED"):  # FAILED: failed, aborted and timed out
        these = [r for r in records if (r["Status"] == _SUCCEEDED) is (status == _SUCCEEDED)]
        if not these:
            continue  # AWS writes no file for a status without children
        values = shaped(these, config.get("Transformation", _NONE))
        text = (
            "".join(payloads.text(value) + "\n" for value in values)
            if lines
            else payloads.text(values)
        )
        key = f"{folder}{status}_0.{'jsonl' if lines else 'json'}"
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
        files[status].append({"Key": key, "Size": len(text.encode())})
    manifest = {"DestinationBucket": bucket, "MapRunArn": run.map_run_arn, "ResultFiles": files}
    key = f"{folder}manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=payloads.text(manifest).encode())
    return {"MapRunArn": run.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}
