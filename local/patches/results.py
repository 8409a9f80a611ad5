"""A distributed Map's results as AWS writes them (input-output-resultwriter.html; AWS's
objects as a capture against AWS shows them, docs/jsonata.md). Registered in
local/patches/registry.py.

moto kept no record of a Map's child executions and wrote only an empty `manifest.json`.
Here each child's record is kept on its map run (its name, dates, input, output or error),
and a `ResultWriter` writes `SUCCEEDED_0` and `FAILED_0` beside the manifest, shaped by the
`WriterConfig`: `Transformation` `NONE` (each child's record, the default), `COMPACT` (the
outputs) or `FLATTEN` (the outputs, an array's items spliced in); `OutputType` `JSON` (one
array) or `JSONL` (a value per line, `.jsonl`). A `WriterConfig` without a `Resource` makes
the results, so shaped, the Map's own.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any, Final

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
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from local.patches.hooks import Hooks
from local.patches.jsonata import aws_timestamp

_CHILDREN: Final = "aws_children"  # a map run's records, (index, record) as each child ends
_NONE: Final = "NONE"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def child_records(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces InlineItemProcessorWorker._eval_input(self, env_frame), keeping a distributed
    child's input as the child gets it, and DistributedItemProcessorWorker._eval_job(self,
    env, job), keeping the child's record on its map run when it ends."""
    if name == "_eval_input":

        @functools.wraps(original)
        def eval_input(self: Any, env_frame: Environment) -> None:
            original(self, env_frame)
            if hasattr(self, "_map_run_record"):  # a distributed Map's child
                env_frame.aws_child_input = _compact(env_frame.states.get_input())  # type: ignore[attr-defined]

        return eval_input

    @functools.wraps(original)
    def eval_job(self: Any, env: Environment, job: Any) -> None:
        started = hooks.clock.now()
        original(self, env, job)
        run = self._map_run_record
        name = str(uuid.uuid4())
        record: dict[str, Any] = {
            "ExecutionArn": run.map_state_machine_arn.replace(":stateMachine:", ":execution:")
            + f":{name}",
            "Input": getattr(env, "aws_child_input", _compact(job.job_input)),
            "InputDetails": {"Included": True},
            "Name": name,
            "OutputDetails": {"Included": True},
            "RedriveCount": 0,
            "StartDate": aws_timestamp(started),
            "StateMachineArn": run.map_state_machine_arn,
            "StopDate": aws_timestamp(hooks.clock.now()),
        }
        record.update(_outcome(env, job))
        # setdefault: one list, whichever of the run's workers ends first
        vars(run).setdefault(_CHILDREN, []).append((job.job_index, dict(sorted(record.items()))))

    return eval_job


def _outcome(env: Environment, job: Any) -> dict[str, Any]:
    ended = env.program_state()
    if isinstance(ended, ProgramError) or (job.job_output is None and not _ran(ended)):
        error = (ended.error if isinstance(ended, ProgramError) else None) or {}
        failed: dict[str, Any] = {"RedriveStatus": "REDRIVABLE_BY_MAP_RUN", "Status": "FAILED"}
        failed.update({k.title(): v for k, v in error.items() if k in ("error", "cause") and v})
        return failed
    if isinstance(ended, ProgramStopped | ProgramTimedOut):
        status = "ABORTED" if isinstance(ended, ProgramStopped) else "TIMED_OUT"
        return {"RedriveStatus": "REDRIVABLE_BY_MAP_RUN", "Status": status}
    return {
        "Output": _compact(job.job_output),
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "Status": "SUCCEEDED",
    }


def _ran(ended: Any) -> bool:
    """The child's program ran to its end (its output may be null)."""
    return not isinstance(ended, ProgramError | ProgramStopped | ProgramTimedOut)


def _records(env: Environment) -> tuple[Any, list[dict[str, Any]]]:
    """The Map's run (the newest, as moto's writer finds it) and its children's records in
    item order."""
    run = env.map_run_record_pool_manager.get_all()[-1]
    return run, [record for _, record in sorted(getattr(run, _CHILDREN, []), key=lambda r: r[0])]


def shaped(records: list[dict[str, Any]], transformation: str) -> list[Any]:
    """A status's records as the Transformation shapes them; a failed child's stays whole."""
    if transformation == _NONE:
        return records
    shaped_records: list[Any] = []
    for record in records:
        if record["Status"] != "SUCCEEDED":
            shaped_records.append(record)
            continue
        output = json.loads(record["Output"])
        if transformation == "FLATTEN" and isinstance(output, list):
            shaped_records.extend(output)
        else:
            shaped_records.append(output)
    return shaped_records


class ResultsOnly(EvalComponent):
    """A ResultWriter with a WriterConfig alone: the results, shaped, are the Map's."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.transformation = config.get("Transformation", _NONE)

    def _eval_body(self, env: Environment) -> None:
        env.stack.pop()  # moto's results: the outputs alone
        _, records = _records(env)
        env.stack.append(shaped(records, self.transformation))


def result_files(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces ResultWriter._eval_body(self, env): the manifest and the result files AWS
    writes, shaped by the ResultWriter's WriterConfig (aws_writer_config, told at parse)."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        config = getattr(self, "aws_writer_config", {})
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        env.stack.pop()  # moto's results: the outputs alone
        self.resource.eval(env=env)
        s3: Any = boto_client_for(
            region=env.stack.pop().region,
            service="s3",
            state_credentials=StateCredentials(role_arn=env.aws_execution_details.role_arn),
        )
        run, records = _records(env)
        bucket, prefix = parameters["Bucket"], parameters.get("Prefix", "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        folder = f"{prefix}{run.map_run_arn.split(':')[-1]}/"
        lines = config.get("OutputType") == "JSONL"
        files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        for status in ("SUCCEEDED", "FAILED"):
            these = [r for r in records if (r["Status"] == "SUCCEEDED") == (status == "SUCCEEDED")]
            if not these:
                continue  # AWS writes no file for a status without children
            values = shaped(these, config.get("Transformation", _NONE))
            body = (
                "".join(_compact(value) + "\n" for value in values) if lines else _compact(values)
            ).encode()
            key = f"{folder}{status}_0.{'jsonl' if lines else 'json'}"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": run.map_run_arn, "ResultFiles": files}
        key = f"{folder}manifest.json"
        s3.put_object(Bucket=bucket, Key=key, Body=_compact(manifest).encode())
        env.stack.append(
            {"MapRunArn": run.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}
        )

    return eval_body


def child_records_or_files(original: Any, hooks: Hooks, name: str) -> Any:
    """The result-files patch: the writer (ResultWriter._eval_body) or the children's records
    (the workers' _eval_input and _eval_job)."""
    owner = original.__qualname__.split(".")[0]
    return (result_files if owner == "ResultWriter" else child_records)(original, hooks, name)
