"""Every change the local engine makes to moto, in one registry.

Each patch names the moto attributes it replaces, the parameters it expects them to have (the
replacements call the originals with those names), and why. `check()` compares them with the
installed moto before anything is changed: a moto upgrade that moved or reshaped one of them
stops the stack at once with one line naming the patch, instead of failing somewhere deep or
silently doing nothing. `applied()` installs the patches together and restores every original
on exit (one ExitStack). The contributors' guide lists this table; a test keeps the two
equal.

The replacements live beside this module, one module per change; what they hand work to (the
Lambda runtime, the clock, the journal, the poller's wake-up, the counters) reaches them
through the Hooks (local/patches/hooks.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from local.patches import (
    atomicity,
    clock,
    counting,
    journal,
    lambdas,
    packed_items,
    poller_wakeup,
    speed,
    weak_tracking,
    xray,
)
from local.patches.hooks import Hooks

Factory = Callable[[Any, Hooks, str], Any]


@dataclasses.dataclass(frozen=True)
class Patch:
    name: str
    # "module:Owner.attribute" or "module:attribute" -> what moto's original must look like:
    # its parameters for a function, "module X" or "class X" otherwise.
    targets: dict[str, str]
    why: str
    factory: Factory  # (moto's original, hooks, attribute name) -> the replacement
    needs: str | None = None  # a Hooks field that must be set for the patch to apply


class PatchMismatch(Exception):
    pass


_INHERITED = object()

_DYNAMODB = "moto.dynamodb.models:DynamoDBBackend"
_KINESIS = "moto.kinesis.models:KinesisBackend"
_SFN = "moto.stepfunctions.parser"
_WRITES = {
    f"{_DYNAMODB}.put_item": "(self, table_name, item_attrs, expected, condition_expression, "
    "expression_attribute_names, expression_attribute_values, overwrite, "
    "return_values_on_condition_check_failure)",
    f"{_DYNAMODB}.update_item": "(self, table_name, key, update_expression, "
    "expression_attribute_names, expression_attribute_values, attribute_updates, expected, "
    "condition_expression, return_values_on_condition_check_failure)",
    f"{_DYNAMODB}.delete_item": "(self, table_name, key, expression_attribute_names, "
    "expression_attribute_values, condition_expression, "
    "return_values_on_condition_check_failure)",
    f"{_DYNAMODB}.transact_write_items": "(self, transact_items)",
}
_PUTS = {
    f"{_KINESIS}.put_record": "(self, stream_arn, stream_name, partition_key, explicit_hash_key, "
    "data)",
    f"{_KINESIS}.put_records": "(self, stream_arn, stream_name, records)",
}
_TASK_MODULES = (
    "asl.component.state.exec.state_task.lambda_eval_utils",
    "asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "asl.component.state.exec.state_task.service.state_task_service_sqs",
    "asl.utils.boto_client",
)

PATCHES: tuple[Patch, ...] = (
    Patch(
        "in-process-lambdas",
        {"moto.awslambda.models:LambdaFunction._invoke_lambda": "(self, event)"},
        "moto runs Lambda code only in Docker: every invocation (Invoke API, Step Functions "
        "tasks, the Kinesis poller) runs the Chalice app's handler in this process instead",
        lambdas.invoke_in_process,
    ),
    Patch(
        "lambda-task-shortcut",
        {
            f"{_SFN}.asl.component.state.exec.state_task.lambda_eval_utils"
            ":_invoke_lambda_function": "(parameters, region, state_credentials)"
        },
        "a Step Functions lambda:invoke task calls the in-process handler directly, without "
        "an Invoke API round trip (same payloads and error format)",
        lambdas.step_functions_shortcut,
    ),
    Patch(
        "journal-table-writes",
        _WRITES,
        "--state: every table write is journalled before it returns (local/state/persistence.py)",
        journal.journalled,
        needs="journal",
    ),
    Patch(
        "packed-items",
        {
            "moto.dynamodb.models.table:Table.__init__": "(self, table_name, account_id, region, "
            "schema, attr, throughput, billing_mode, indexes, global_indexes, streams, "
            "sse_specification, tags, deletion_protection_enabled, warm_throughput)",
            "moto.dynamodb.models.table:Table.__len__": "(self)",
            "moto.dynamodb.models.table:Table.has_idx_items": "(self, index_name)",
            "moto.dynamodb.models.table:Table.query": "(self, hash_key, range_comparison, "
            "range_objs, limit, exclusive_start_key, scan_index_forward, projection_expressions, "
            "index_name, consistent_read, filter_expression, hash_key_conditions, "
            "range_key_conditions, **filter_kwargs)",
            "moto.dynamodb.models.table:Table.all_items": "(self)",
            # Registered before atomic-dynamodb-answers: packing again runs under its lock.
            "moto.dynamodb.responses:DynamoHandler.call_action": "(self)",
        },
        "moto keeps each item as a tree of objects (an operation's three items: 29 DynamoType "
        "objects, ~7 KB), the growth the soak measured: a hash-key table keeps its items as "
        "marshal bytes, unpacked while a request uses them; a query unpacks only the items "
        "it can find (local/patches/packed_items.py)",
        packed_items.patch,
    ),
    Patch(
        "atomic-dynamodb",
        {
            **_WRITES,
            f"{_DYNAMODB}.get_item": "(self, table_name, keys, projection_expressions)",
            f"{_DYNAMODB}.query": "(self, table_name, hash_key_dict, range_comparison, "
            "range_value_dicts, limit, exclusive_start_key, scan_index_forward, "
            "projection_expressions, index_name, consistent_read, expr_names, expr_values, "
            "filter_expression, hash_key_conditions, range_key_conditions, **filter_kwargs)",
            f"{_DYNAMODB}.scan": "(self, table_name, filters, limit, exclusive_start_key, "
            "filter_expression, expr_names, expr_values, index_name, consistent_read, "
            "projection_expression, segments)",
            f"{_DYNAMODB}.transact_get_items": "(self)",
        },
        "moto's DynamoDB has no locks: two conditional writes could both win, and a read could "
        "see an item mid-change; DynamoDB's operations are atomic",
        atomicity.serialised,
    ),
    Patch(
        "atomic-dynamodb-answers",
        {"moto.dynamodb.responses:DynamoHandler.call_action": "(self)"},
        "moto turns an item into its answer after the backend's lock is released, so a read "
        "racing a write failed with 'dictionary changed size during iteration' (a 500 seen "
        "under concurrent review decisions): each DynamoDB request is answered whole under "
        "the lock",
        atomicity.serialised,
    ),
    Patch(
        "atomic-kinesis",
        {
            **_PUTS,
            f"{_KINESIS}.get_records": "(self, stream_arn, shard_iterator, limit)",
        },
        "two concurrent PutRecords in moto can take one sequence number, and one record "
        "silently replaces the other",
        atomicity.serialised,
    ),
    Patch(
        "transaction-backup",
        {
            f"{_DYNAMODB}.transact_write_items": "(self, transact_items)",
            "moto.dynamodb.models:copy": "module copy",
        },
        "moto deep-copies every table a transaction touches (93 ms per transaction at 800 "
        "users); under the atomicity lock only the transaction's own items need a copy",
        speed.transaction_backup,
    ),
    Patch(
        "shared-boto-clients",
        {
            f"{_SFN}.{module}:boto_client_for": "(region, service, state_credentials)"
            for module in _TASK_MODULES
        },
        "moto's Step Functions builds a boto3 client (tens of ms) for every task: one per "
        "service and region serves them all",
        speed.shared_client,
    ),
    Patch(
        "cached-parsing",
        {
            f"{_SFN}.asl.utils.json_path:parse": "(path, debug)",
            f"{_SFN}.asl.component.common.path.result_path:parse": "(string)",
            "moto.core.responses:method_names_from_class": "(clazz)",
            f"{_SFN}.asl.parse.asl_parser:AmazonStateLanguageParser.parse": "(definition)",
        },
        "pure functions moto recomputes on every call: the ASL parse (~16 ms an execution), "
        "JSONPath compilation, a handler class's method names",
        speed.memoised,
    ),
    Patch(
        "weakly-tracked-models",
        {"moto.core.common_models:BaseModel.__new__": "(cls, *args, **kwargs)"},
        "moto keeps every model instance it ever creates in a list only its dashboard reads "
        "(each transaction's table backups, each execution's copy of its state machine): "
        "tracked weakly, what is no longer used is freed (local/state/retention.py)",
        weak_tracking.weakly_tracked,
    ),
    Patch(
        "count-aws-calls",
        {"moto.core.responses:BaseResponse.call_action": "(self)"},
        "the console's metrics count every AWS call by service and action, whoever makes it",
        counting.counting,
    ),
    Patch(
        "wake-poller-on-put",
        _PUTS,
        "the Kinesis poller sleeps until a record is put, as Lambda's pollers are woken, "
        "instead of polling",
        poller_wakeup.woken,
        needs="records_arrived",
    ),
    Patch(
        "clock-retries",
        {f"{_SFN}.asl.component.common.retry.retrier_decl:time": "module time"},
        "a Retry's backoff sleeps on the emulator's clock",
        clock.patch_time,
    ),
    Patch(
        "clock-waits",
        {
            f"{_SFN}.asl.component.state.exec.execute_state:threading": "module threading",
            f"{_SFN}.asl.eval.environment:threading": "module threading",
            f"{_SFN}.asl.eval.callback.callback:Event": "class threading.Event",
            f"{_SFN}.asl.component.state.wait.wait_function.wait_function:time": "module time",
        },
        "task TimeoutSeconds, callbacks' HeartbeatSeconds and timeouts, and Wait states time "
        "out on the emulator's clock",
        clock.patch_waits,
    ),
    Patch(
        "clock-timestamps",
        {
            f"{_SFN}.models:datetime": "module datetime",
            f"{_SFN}.backend.execution:datetime": "module datetime",
            f"{_SFN}.asl.eval.event.event_manager:datetime": "module datetime",
            f"{_SFN}.asl.component.state.state:datetime": "module datetime",
            f"{_SFN}.asl.component.state.wait.wait_function.timestamp:datetime": "module datetime",
        },
        "executions' start and stop dates, history events, the context object's times and "
        "Wait-until-timestamp states read the emulator's clock",
        clock.patch_datetime,
    ),
    Patch(
        "xray-trace-store",
        {
            "moto.xray.models:XRayBackend.process_segment": "(self, doc)",
            "moto.xray.models:XRayBackend.get_trace_summary": "(self, start_time, end_time, "
            "filter_expression)",
            "moto.xray.models:XRayBackend.get_trace_ids": "(self, trace_ids)",
        },
        "moto's X-Ray answers a filter expression with a 500 'Not implemented', keeps every "
        "segment for ever as a model object, never replaces an in-progress segment and "
        "answers no annotations: the local trace store (local/aws/xray_daemon.py) keeps "
        "them (bounded), evaluates filter expressions (an unsupported one is AWS's "
        "InvalidRequestException) and compiles each trace's segments",
        xray.store_segments,
        needs="trace_store",
    ),
    Patch(
        "step-functions-trace-header",
        {
            "moto.stepfunctions.responses:StepFunctionResponse.start_execution": "(self)",
            "moto.stepfunctions.responses:StepFunctionResponse.describe_execution": "(self)",
        },
        "moto's StartExecution drops the trace header (X-Amzn-Trace-Id, or the body's "
        "traceHeader) and DescribeExecution does not answer it: kept, answered, and the "
        "execution joins that trace",
        xray.keep_trace_header,
    ),
    Patch(
        "step-functions-segments",
        {
            f"{_SFN}.asl.component.state.exec.state_task.lambda_eval_utils"
            ":execute_lambda_function_integration": "(env, parameters, region, state_credentials)",
            f"{_SFN}.backend.execution:BaseExecutionWorkerCommunication.terminated": "(self)",
        },
        "Step Functions writes an execution's segment and a subsegment per state when "
        "tracing is on; moto writes none: a Lambda task's invocation gets its attempt's "
        "trace header, and the execution's segment is written from its history when it ends "
        "(local/aws/trace_segments.py)",
        xray.execution_segments,
        needs="segments",
    ),
)


def _resolve(target: str) -> tuple[Any, str]:
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *owners, attribute = path.split(".")
    for name in owners:
        owner = getattr(owner, name)
    return owner, attribute


def describe(value: Any) -> str:
    """What check() compares: a function's parameter names, or the kind and name of a thing."""
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}"
    if isinstance(value, type):
        return f"class {value.__module__}.{value.__qualname__}"
    prefix: dict[inspect._ParameterKind, str] = {
        inspect.Parameter.VAR_POSITIONAL: "*",
        inspect.Parameter.VAR_KEYWORD: "**",
    }
    parameters = [
        prefix.get(parameter.kind, "") + parameter.name
        for parameter in inspect.signature(value).parameters.values()
    ]
    return f"({', '.join(parameters)})"


def check(patches: Iterable[Patch] | None = None) -> None:
    """Raises PatchMismatch, in one line, for the first patch that no longer fits moto."""
    import moto

    for patch in PATCHES if patches is None else patches:
        for target, expected in patch.targets.items():
            try:
                owner, attribute = _resolve(target)
                found = describe(getattr(owner, attribute))
            except (ImportError, AttributeError) as error:
                found = f"missing ({error})"
            if found != expected:
                raise PatchMismatch(
                    f"patch {patch.name!r} does not fit moto {moto.__version__}: {target} is "
                    f"{found}, expected {expected}"
                )


@contextlib.contextmanager
def applied(hooks: Hooks, names: Iterable[str] | None = None) -> Iterator[None]:
    """Check, then apply the patches (all, or those named) in registry order; restore on exit."""
    chosen = [p for p in PATCHES if names is None or p.name in set(names)]
    check(chosen)
    with contextlib.ExitStack() as restore:
        for patch in chosen:
            if patch.needs is not None and getattr(hooks, patch.needs) is None:
                continue
            for target in patch.targets:
                owner, attribute = _resolve(target)
                # As stored, so that a staticmethod stays one when restored.
                raw = vars(owner).get(attribute, _INHERITED)
                replacement = patch.factory(getattr(owner, attribute), hooks, attribute)
                if isinstance(raw, staticmethod):
                    replacement = staticmethod(replacement)
                setattr(owner, attribute, replacement)
                if raw is _INHERITED:
                    restore.callback(delattr, owner, attribute)
                else:
                    restore.callback(setattr, owner, attribute, raw)
        yield
