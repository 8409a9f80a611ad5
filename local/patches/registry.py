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
    batch_import,
    branches,
    callbacks,
    choices,
    clock,
    cognito,
    counting,
    descriptions,
    error_matching,
    executions,
    express,
    journal,
    jsonata,
    jsonpath,
    lambdas,
    maps,
    model_loader,
    nested,
    numeric_fields,
    packed_items,
    poller_wakeup,
    results,
    sdk_answers,
    speed,
    task_errors,
    teststate,
    versions,
    waits,
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
_TASK_SERVICE = f"{_SFN}.asl.component.state.exec.state_task.service.state_task_service"
_STRINGS = f"{_SFN}.asl.component.state.choice.comparison.operator.implementations.string_operators"
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
        "lambda-invoke-answer",
        {
            f"{_SFN}.asl.component.state.exec.state_task.lambda_eval_utils"
            ":execute_lambda_function_integration": "(env, parameters, region, state_credentials)"
        },
        "moto cut lambda:invoke's answer down to boto3's fields; Step Functions records Lambda's "
        "Invoke response as the AWS SDK for Java gives it, SdkHttpMetadata and "
        "SdkResponseMetadata included, as AWS's recorded executions show",
        lambdas.sdk_answer,
    ),
    Patch(
        "lambda-error-as-written",
        {
            f"{_SFN}.asl.component.state.exec.state_task.state_task_lambda"
            ":StateTaskLambda._from_error": "(self, env, ex)"
        },
        "moto re-wrote a Lambda resource's error payload compactly; AWS records it as the "
        "function's runtime wrote it (only lambda:invoke's is compact); and named Lambda's "
        "refusal (a function that does not exist) `Exception`, where lambda:invoke and AWS "
        "name it `Lambda.ResourceNotFoundException`",
        lambdas.error_as_written,
    ),
    Patch(
        "lambda-unhandled-errors",
        {
            "moto.awslambda.models:LambdaFunction.invoke": "(self, body, request_headers, "
            "response_headers)"
        },
        "a function's uncaught error is answered with X-Amz-Function-Error 'Unhandled', as "
        "Lambda does; moto said 'Handled'",
        lambdas.unhandled_errors,
    ),
    Patch(
        "lambda-unknown-latest",
        {
            "moto.awslambda.models:LambdaBackend.invoke": "(self, function_name, qualifier, body, "
            "headers, response_headers)"
        },
        "Lambda refuses an unqualified invocation of a function that does not exist naming "
        "`...:function:NAME:$LATEST`, as AWS's recorded executions show; moto left the "
        "version out",
        lambdas.unknown_as_latest,
    ),
    Patch(
        "lambda-invocation-type",
        {
            f"{_SFN}.asl.component.state.exec.state_task.service.state_task_service_lambda"
            ":StateTaskServiceLambda._get_supported_parameters": "(self)"
        },
        "lambda:invoke passes InvocationType on to Lambda: Event answers 202 and runs the "
        "function later, DryRun answers 204 and does not run it (Lambda's Invoke API "
        "reference); moto dropped the parameter and ran every invocation synchronously",
        lambdas.invocation_type_kept,
    ),
    # service task answers
    Patch(
        "json-task-results",
        {
            f"{_SFN}.asl.component.state.exec.state_task.service.state_task_service"
            ":StateTaskService._after_eval_execution": "(self, env, resource_runtime_part, "
            "normalised_parameters, state_credentials)"
        },
        "a service's answer holding what JSON cannot write (a time, bytes, a stream) became "
        "the execution's output, and DescribeExecution answered 500: a task's result is a "
        "JSON value first (local/patches/sdk_answers.py)",
        sdk_answers.json_results,
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
            f"{_SFN}.asl.component.program.program:threading": "module threading",
            f"{_SFN}.asl.eval.callback.callback:Event": "class threading.Event",
            f"{_SFN}.asl.component.state.wait.wait_function.wait_function:time": "module time",
        },
        "an execution's and a task's TimeoutSeconds, callbacks' HeartbeatSeconds and "
        "timeouts, and Wait states time out on the emulator's clock",
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
    # test-state
    Patch(
        "unsupported-operations",
        {
            "moto.core.responses:BaseResponse.call_action": "(self)",
            "moto.core.botocore_stubber:BotocoreStubber.process_request": "(self, request)",
            "moto.moto_server.werkzeug_app:DomainDispatcherApplication.__call__": "(self, environ, "
            "start_response)",
        },
        "a call moto does not implement raised NotImplementedError (an HTML 500 over HTTP) or "
        "got a 404 'Not yet implemented': it gets AWS's answer to a call it does not know, 400 "
        "UnknownOperationException in the service's protocol, naming the operation "
        "(local/patches/teststate.py)",
        teststate.unsupported_operations,
    ),
    Patch(
        "test-state",
        {
            "moto.stepfunctions.responses:StepFunctionResponse.call_action": "(self)",
            "moto.core.botocore_stubber:get_equivalent_url_in_aws_domain": "(url)",
        },
        "moto does not implement Step Functions' TestState: it is answered on moto's own ASL "
        "interpreter (local/aws/stepfunctions/test_state.py); in process, TestState's host "
        "prefix (sync-states.) reaches moto's Step Functions",
        teststate.test_state_api,
    ),
    # jsonata
    Patch(
        "jsonata-expressions",
        {
            f"{_SFN}.asl.component.common.string.string_expression:StringJSONata._eval_body": (
                "(self, env)"
            ),
            f"{_SFN}.asl.component.common.string.string_expression"
            ":StringVariableSample._eval_body": "(self, env)",
        },
        "moto's JSONata evaluator is a stub (moto issue 10105: every {% %} field and every read "
        "of a variable fails with 'NoneType' object is not callable): they are evaluated in AWS's "
        "dialect, and a failure is AWS's States.QueryEvaluationError naming the field "
        "(local/aws/stepfunctions/jsonata.py)",
        jsonata.expressions,
    ),
    Patch(
        "jsonata-field-locations",
        {f"{_SFN}.asl.parse.asl_parser:AmazonStateLanguageParser.parse": "(definition)"},
        "AWS's failures name where a failing expression sits in its state (Output/result, "
        "Choices[0]/Condition); moto's components do not know: each parsed program's JSONata "
        "fields are told once",
        jsonata.annotated_parse,
    ),
    Patch(
        "definition-validation",
        {f"{_SFN}.models:StepFunctionsParserBackend._validate_definition": "(definition)"},
        "AWS refuses at CreateStateMachine a transition to no state, a state none reaches, "
        "States.ALL out of place, "
        "a JSONata expression that does not parse or reads "
        "the top-level context, a field of the other query language, a JSONPath state in "
        "JSONata, a reserved variable name; "
        "moto accepted them and failed the execution later (local/aws/stepfunctions/"
        "definitions.py)",
        jsonata.validated_definition,
    ),
    Patch(
        "own-query-language-scopes",
        {
            f"{_SFN}.asl.parse.preprocessor:Preprocessor._open_query_language_scope": (
                "(self, parse_tree)"
            )
        },
        "each parse keeps its query languages' scopes to itself: moto kept them on the class, "
        "so one definition refused half-way through its parse left JSONata in them and every "
        "later JSONPath definition in the process was read as JSONata (local/patches/"
        "jsonata.py)",
        jsonata.own_scopes,
    ),
    Patch(
        "unnamed-executions",
        {
            f"{_SFN}.models:StepFunctionsParserBackend.start_execution": "(self, "
            "state_machine_arn, name, execution_input, trace_header)"
        },
        "StartExecution without a name: AWS names the execution with a UUID; moto named it "
        "None, so a second unnamed start failed with ExecutionAlreadyExists; a name with "
        "white space or a special character, or over 80 long, and an input over 262144 "
        "bytes are refused as AWS's API reference says (moto took them)",
        jsonata.named_executions,
    ),
    Patch(
        "context-object-dates",
        {f"{_SFN}.backend.execution_worker:ExecutionWorker._get_evaluation_environment": "(self)"},
        "the context object as AWS's: Execution.StartTime is ISO 8601 text (moto's datetime "
        "made any output holding $$ unserialisable: DescribeExecution answered an HTML 500) "
        "and Execution.RedriveCount is there",
        jsonata.context_dates,
    ),
    Patch(
        "context-entered-time",
        {f"{_SFN}.asl.component.state.state:StateData": f"class {_SFN}.asl.eval.states.StateData"},
        "the context object's State.EnteredTime in AWS's form (2019-03-26T20:14:13.192Z, as "
        "its context object page shows); moto wrote Python's isoformat (+00:00, microseconds)",
        jsonata.entered_time,
    ),
    Patch(
        "assigned-variables",
        {f"{_SFN}.asl.eval.variable_store:VariableStore.get_assigned_variables": "(self)"},
        "a state-exit event's assignedVariables holds each value as JSON text; moto wrote a "
        "string between quotes without escaping it (a quote or a newline in it broke the JSON)",
        jsonata.assigned_variables,
    ),
    Patch(
        "definition-strings",
        {
            f"{_SFN}.asl.parse.preprocessor:Preprocessor._inner_string_of": "(parser_rule_context)",
            f"{_SFN}.asl.parse.preprocessor:from_string_literal": "(parser_rule_context)",
        },
        "moto reads a definition's string literals without decoding their JSON escapes: a "
        "state name, or a literal in Result, Parameters or Assign, sent as \\u00ed (as "
        'json.dumps sends it) or with \\" kept its backslashes; a JSONata expression or '
        "literal's escapes it read as Python's, an emoji sent as \\ud83d\\ude00 (json.dumps's "
        "way) became two lone surrogates and the expression failed at run time",
        jsonata.decoded_strings,
    ),
    Patch(
        "execution-output",
        {"moto.stepfunctions.responses:StepFunctionResponse.describe_execution": "(self)"},
        "DescribeExecution's output is the JSON text of the execution's output; moto answered a "
        "string output unquoted (not JSON), left out a null one and json.dumps'd the rest (a "
        "datetime in it: an HTML 500); the answer carries inputDetails and the redrive fields "
        "AWS's answers carry (moto left them out)",
        jsonata.described_output,
    ),
    Patch(
        "branch-error-names",
        {
            f"{_SFN}.asl.component.state.exec.state_parallel.branches_decl:CustomErrorName": (
                "class moto.stepfunctions.parser.asl.component.common.error_name"
                ".custom_error_name.CustomErrorName"
            ),
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iteration_worker"
            ":CustomErrorName": "class moto.stepfunctions.parser.asl.component.common"
            ".error_name.custom_error_name.CustomErrorName",
        },
        "a States.* error in a Parallel branch or a Map iteration (States.QueryEvaluationError, "
        "States.Runtime ...) failed the whole execution with 'Custom Error Names MUST NOT begin "
        "with the prefix States.' instead of reaching the state's Retry and Catch",
        jsonata.branch_error_names,
    ),
    Patch(
        "execution-input-text",
        {
            f"{_SFN}.backend.execution:Execution.get_start_execution_details": "(self)",
            f"{_SFN}.backend.execution_worker:to_json_str": "(obj, separators)",
            f"{_SFN}.asl.component.state.state:CommonStateField._get_state_entered_event_details": (
                "(self, env)"
            ),
        },
        "the history shows the execution's input as it was sent (ExecutionStarted and the first "
        "state's StateEntered), as AWS's does; moto wrote it anew",
        jsonata.input_text,
    ),
    Patch(
        "history-events",
        {
            f"{_SFN}.asl.eval.event.event_manager:EventManager.add_event": "(self, context, "
            "event_type, event_details, timestamp, update_source_event_id)"
        },
        "where moto's history differs from AWS's: an EvaluationFailed event is recorded once "
        "(moto's Map state recorded again the one its fields had) and follows the event before "
        "the failing state's entry; a failure without an event of its own records none; an "
        "abort records no empty error or cause",
        jsonata.history_events,
    ),
    Patch(
        "wait-timestamp-jsonata",
        {
            f"{_SFN}.asl.component.state.wait.wait_function.timestamp"
            ":Timestamp._create_failure_event": "(self, env, timestamp_str)"
        },
        "a JSONata Wait whose Timestamp is no ISO-8601 date-time fails with "
        "States.QueryEvaluationError (an EvaluationFailed event at 'Timestamp') in AWS's "
        "words; moto failed it with States.Runtime in JSONPath's",
        waits.wait_timestamp_failure,
    ),
    Patch(
        "branch-aborts",
        {
            f"{_SFN}.asl.component.state.exec.state_parallel.branches_decl"
            ":BranchesDecl._eval_body": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_parallel.branch_worker"
            ":BranchWorker._thread_routine": "(self)",
        },
        "a Parallel branch that fails aborts the branches still running (their state's "
        "WaitStateAborted, TaskStateAborted ..., a Wait cut short) and its own failed state "
        "(TaskStateAborted after its TaskFailed), then ParallelStateFailed, each following "
        "the failure, as AWS's recorded executions show; moto let the others run on and "
        "recorded no abort (local/patches/branches.py)",
        branches.aborted_branches,
    ),
    Patch(
        "map-fields-moto-lacks",
        {f"{_SFN}.asl.parse.asl_parser:AmazonStateLanguageParser.parse": "(definition)"},
        "moto's grammar lacks a distributed Map's ItemBatcher, the ReaderConfig AWS added in "
        "2025 (InputType JSONL, CSVDelimiter, ItemsPointer, Transformation) and a "
        "ResultWriter's WriterConfig and JSONata Arguments, and a JSONata ItemSelector written "
        "as one expression, and refused every definition with one (and an integer "
        "ToleratedFailurePercentage): moto parses the definition without "
        "them, and each Map's components are told theirs and what gives its items "
        "(local/patches/maps.py)",
        maps.fields_moto_lacks,
    ),
    Patch(
        "map-worker-loop",
        {
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iteration_worker"
            ":IterationWorker._eval_pool": "(self, job, worker_frame)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.itemprocessor"
            ".distributed_item_processor_worker:DistributedItemProcessorWorker._eval_pool": (
                "(self, job, worker_frame)"
            ),
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iterator"
            ".distributed_iterator_worker:DistributedIteratorWorker._eval_pool": (
                "(self, job, worker_frame)"
            ),
        },
        "a Map's worker runs its items one after another; moto's called itself for each next "
        "item, and a worker with about a thousand passed Python's recursion limit and left "
        "the execution RUNNING for ever (local/patches/maps.py)",
        maps.worker_loop,
    ),
    Patch(
        "map-iteration-aborts",
        {
            f"{_SFN}.asl.component.state.exec.state_map.iteration.inline_iteration_component"
            ":InlineIterationComponent._eval_body": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iteration_worker"
            ":IterationWorker._eval_job": "(self, env, job)",
        },
        "the first inline Map iteration to fail aborts the iterations still running (their "
        "state's abort, then MapIterationAborted, in item order; a Wait cut short), starts no "
        "more items, then records its own failed state's abort and MapStateFailed, each "
        "following the failure, as AWS's recorded executions show; moto let the others run "
        "on, their MapIterationSucceeded after the ExecutionFailed (local/patches/maps.py)",
        maps.aborted_iterations,
    ),
    Patch(
        "item-batcher",
        {
            f"{_SFN}.asl.component.state.exec.state_map.iteration.distributed_iteration_component"
            ":DistributedIterationComponent._map_run": "(self, env, eval_input)",
        },
        "a distributed Map's selected items are batched as AWS documents ItemBatcher, each "
        "child's input {BatchInput, Items}, the limits in either query language "
        "(local/patches/maps.py)",
        maps.item_batcher,
    ),
    Patch(
        "item-reader-formats",
        {
            f"{_SFN}.asl.component.state.exec.state_map.item_reader.item_reader_decl"
            ":ItemReader._eval_body": "(self, env)",
        },
        "an S3 object's items in the formats AWS added in 2025: JSON Lines, CSV with a "
        "CSVDelimiter, the array a JSON file's ItemsPointer points at, every listed object's "
        "items (LOAD_AND_FLATTEN); moto read CSV and JSON arrays only; an item source S3 "
        "refuses is States.ItemReaderFailed (moto: States.Runtime) (local/patches/maps.py)",
        maps.reader_formats,
    ),
    Patch(
        "item-reader-listing",
        {
            f"{_SFN}.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3"
            ":ResourceEvalS3._handle_list_objects_v2": "(env, resource_runtime_part, "
            "state_credentials)"
        },
        "a Map over an S3 listing (s3:listObjectsV2) gets every object's metadata in AWS's "
        "documented shape (Etag, Key, LastModified in epoch seconds, Size, StorageClass), page "
        "after page; moto handed on boto3's first page, whose datetimes made DescribeExecution "
        "answer 500, and failed on an empty listing (local/patches/maps.py)",
        maps.listed_objects,
    ),
    Patch(
        "longest-wait",
        {
            f"{_SFN}.asl.component.state.wait.wait_function.wait_function"
            ":WaitFunction._eval_body": "(self, env)"
        },
        "a Wait longer than 2^31 - 1 seconds fails with States.Runtime 'Wait state delay is "
        "too long.', as AWS's recorded executions show; moto waited (local/patches/waits.py)",
        waits.longest_wait,
    ),
    Patch(
        "list-executions-status-filter",
        {
            "moto.stepfunctions.models:StepFunctionBackend.list_executions": "(self, "
            "state_machine_arn, status_filter)"
        },
        "a ListExecutions statusFilter that is no execution status is refused with AWS's "
        "ValidationException; moto listed none (local/patches/executions.py)",
        executions.status_filter_checked,
    ),
    Patch(
        "stop-execution-error-cause",
        {
            "moto.stepfunctions.responses:StepFunctionResponse.stop_execution": "(self)",
            "moto.stepfunctions.models:StateMachine.stop_execution": "(self, execution_arn)",
        },
        "StopExecution's error and cause are recorded on the ExecutionAborted event, as AWS's "
        "API reference describes; moto dropped both; the answer's stopDate is the moment of "
        "the stop (moto left it out for a running execution) (local/patches/executions.py)",
        executions.stop_with_error_and_cause,
    ),
    Patch(
        "failure-decorated-once",
        {
            f"{_SFN}.asl.component.common.error_name.failure_event"
            ":FailureEventException.get_execution_failed_event_details": "(self)"
        },
        "moto said again where an error occurred when a Map or Parallel passed on its "
        "iteration's or branch's error (\"... the state 'None' ... An error occurred while "
        "executing the state 'Fallback' ...\"); AWS says it once, naming the inner state",
        jsonata.decorated_once,
    ),
    Patch(
        "failure-entered-at",
        {
            f"{_SFN}.asl.component.common.error_name.failure_event:FailureEvent.__init__": (
                "(self, env, error_name, event_type, event_details)"
            )
        },
        "a States.Runtime or evaluation error's cause says the state was 'entered at the event "
        "id #N': moto gave the state's last event (a Task's result), AWS its StateEntered event",
        jsonata.entered_at,
    ),
    Patch(
        "interpreter-error-codes",
        {"moto.core.exceptions:AWSError.__init__": "(self, message, exception_type, status)"},
        "the errors of moto's Step Functions interpreter API (InvalidDefinition, "
        "InvalidExecutionInput ...) reached clients with an empty error code",
        jsonata.error_codes,
    ),
    Patch(
        "map-input",
        {
            f"{_SFN}.asl.component.state.exec.state_map.state_map:StateMap._eval_execution": (
                "(self, env)"
            )
        },
        "a JSONata Map state whose input is not an array fails with AWS's cause, showing the "
        "input as JSON; moto's showed a Python type (<class 'bool'>)",
        jsonata.map_input,
    ),
    Patch(
        "map-object-items",
        {
            f"{_SFN}.asl.component.state.exec.state_map.state_map:StateMap._eval_execution": (
                "(self, env)"
            ),
            f"{_SFN}.asl.component.common.path.items_path:ItemsPath._eval_body": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_map.items.items:ItemsJSONata._eval_body": (
                "(self, env)"
            ),
            f"{_SFN}.asl.component.state.exec.state_map.iteration.itemprocessor.inline_item_processor_worker"
            ":InlineItemProcessorWorker._eval_input": "(self, env_frame)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iterator.inline_iterator_worker"
            ":InlineIteratorWorker._eval_input": "(self, env_frame)",
        },
        "a distributed Map over a JSON object runs an iteration per key-value pair, its input "
        "{Key, Value}, Map.Item.Key in the context object, as AWS's ItemsPath and context "
        "object pages describe; moto refused any object. An ItemsPath to no array (or object, "
        "distributed) fails with AWS's States.Runtime 'Reference path ... must point to "
        "array.'; moto's named a Python type (local/patches/maps.py)",
        maps.object_items,
    ),
    Patch(
        "result-files",
        {
            f"{_SFN}.asl.component.state.exec.state_map.result_writer.result_writer_decl"
            ":ResultWriter._eval_body": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.distributed_iteration_component"
            ":DistributedIterationComponent._eval_body": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.itemprocessor.inline_item_processor_worker"
            ":InlineItemProcessorWorker._eval_input": "(self, env_frame)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iterator.inline_iterator_worker"
            ":InlineIteratorWorker._eval_input": "(self, env_frame)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker"
            ":DistributedItemProcessorWorker._eval_job": "(self, env, job)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iterator.distributed_iterator_worker"
            ":DistributedIteratorWorker._eval_job": "(self, env, job)",
        },
        "a distributed Map's ResultWriter writes the result files AWS writes beside the "
        "manifest (SUCCEEDED_0, FAILED_0: each child execution's record), of the Map's own "
        "run, shaped by its WriterConfig (Transformation NONE, COMPACT, FLATTEN; OutputType "
        "JSON, JSONL); moto wrote an empty manifest only, of the execution's newest run, and "
        "its grammar refused a WriterConfig (local/patches/results.py)",
        results.map_runs,
    ),
    Patch(
        "map-run-tolerance",
        {
            f"{_SFN}.asl.component.state.exec.state_map.iteration.distributed_iteration_component"
            ":DistributedIterationComponent._map_run": "(self, env, eval_input)",
        },
        "a distributed Map run whose failed children exceed its ToleratedFailureCount or "
        "ToleratedFailurePercentage (none by default) fails with "
        "States.ExceedToleratedFailureThreshold, as AWS documents; moto's succeeded whatever "
        "its children did (local/patches/results.py)",
        results.tolerance_enforced,
    ),
    Patch(
        "history-order",
        {"moto.stepfunctions.responses:StepFunctionResponse.get_execution_history": "(self)"},
        "GetExecutionHistory's reverseOrder lists the newest event first, maxResults and "
        "nextToken page the events (100 a page unless given), includeExecutionData false "
        "leaves out inputs and outputs; moto ignored all three",
        jsonata.history_order,
    ),
    Patch(
        "variable-limits",
        {f"{_SFN}.asl.component.common.assign.assign_decl:AssignDecl._eval_body": "(self, env)"},
        "AWS limits a variable and one state's Assign to 256 KiB and an execution's variables "
        "to 10 MiB; moto had no limit; a branch's or an iteration's state assigning a "
        "variable of an outer scope fails with States.Runtime, where moto's cause was a "
        "Python exception's repr (local/aws/stepfunctions/variables.py)",
        jsonata.limited_assign,
    ),
    Patch(
        "assign-at-exit",
        {
            f"{_SFN}.asl.component.state.state"
            ":CommonStateField._get_state_exited_event_details": "(self, env)",
            f"{_SFN}.asl.component.state.exec.execute_state"
            ":ExecutionState._handle_catch": "(self, env, failure_event)",
        },
        "a state's assignments take effect as it exits: its OutputPath and Output read the "
        "values from before it, as AWS's recorded executions show, and a failed attempt's are "
        "dropped; moto made them before the state's output was processed",
        jsonata.assigned_at_exit,
    ),
    Patch(
        "child-execution-scope",
        {
            f"{_SFN}.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker"
            ":DistributedItemProcessorWorker._eval_job": "(self, env, job)",
            f"{_SFN}.asl.component.state.exec.state_map.iteration.iterator.distributed_iterator_worker"
            ":DistributedIteratorWorker._eval_job": "(self, env, job)",
        },
        "a distributed Map's child executions have variables of their own and read none of "
        "the parent's, as AWS's variables page says; moto's read them (its legacy Iterator "
        "assigned them) as an inline Map's iterations do",
        jsonata.child_execution_scope,
    ),
    Patch(
        "service-task-errors",
        {
            f"{_SFN}.asl.component.state.exec.state_task.service.state_task_service_dynamodb"
            ":StateTaskServiceDynamoDB._from_error": "(self, env, ex)",
        },
        "a DynamoDB task named every error after the service (a JSONata field "
        "that returned nothing became DynamoDB.AmazonDynamoDBException, its cause a Python "
        "repr; so did a TestState mock's error): the state's own errors, and a mock's, stay "
        "what they are, as in moto's other integrations and on AWS (local/patches/task_errors.py)",
        task_errors.named_as_raised,
    ),
    Patch(
        "step-functions-arn-prefix",
        {
            "moto.stepfunctions.models:StepFunctionBackend._validate_arn": "(self, arn, regex, "
            "invalid_msg)"
        },
        "a state machine's, execution's or activity's ARN that does not start with arn: is "
        "refused with AWS's recorded InvalidArn message ('Invalid ARN prefix: ...'); moto's "
        "said 'Execution Does Not Exist' (local/patches/executions.py)",
        executions.arn_prefixes,
    ),
    Patch(
        "step-functions-taggable-resources",
        {
            "moto.stepfunctions.models:StepFunctionBackend.tag_resource": "(self, arn, tags)",
            "moto.stepfunctions.models:StepFunctionBackend.untag_resource": "(self, arn, tag_keys)",
            "moto.stepfunctions.models:StepFunctionBackend.list_tags_for_resource": "(self, arn)",
        },
        "tagging, untagging or listing the tags of what is no state machine or activity is "
        "ResourceNotFound (AWS's recorded words), of what is no ARN InvalidArn; moto tagged "
        "any text (local/patches/executions.py)",
        executions.taggable_only,
    ),
    Patch(
        "utf8-json-text",
        {
            f"{_SFN}.asl.utils.encoding:_DateTimeEncoder": (
                f"class {_SFN}.asl.utils.encoding._DateTimeEncoder"
            ),
            f"{_SFN}.asl.component.intrinsic.function.statesfunction.json_manipulation"
            ".json_to_string:json": "module json",
            **{
                f"{_SFN}.asl.component.state.{module}:is_within_size_quota": "(value)"
                for module in (
                    "state",
                    "exec.state_task.state_task_lambda",
                    "exec.state_task.service.state_task_service",
                )
            },
        },
        "a state's data is UTF-8 JSON text, its characters kept, and the 256 KiB payload quota "
        "counts its UTF-8 bytes, as the quotas page says; moto escaped every non-ASCII "
        "character (outputs, the history and DescribeExecution showed \\u00e9, and an input "
        "of 100,000 é, 200,009 bytes, failed a Pass with States.DataLimitExceeded), and a "
        "string holding a lone surrogate failed the state with Python's UnicodeEncodeError",
        jsonata.utf8_text,
    ),
    Patch(
        "list-executions-items",
        {"moto.stepfunctions.responses:StepFunctionResponse.list_executions": "(self)"},
        "ListExecutions' items carry redriveCount, and an execution of a version names the "
        "state machine and, apart, the version (stateMachineVersionArn), as AWS's recorded "
        "answers do; moto left out both and named the ARN it was asked to list "
        "(local/patches/executions.py)",
        executions.listed_items,
    ),
    # choices
    Patch(
        "rfc3339-timestamps",
        {
            f"{_SFN}.asl.component.state.choice.comparison.operator.implementations.is_operator"
            ":IsTimestamp.string_to_timestamp": "(string)",
            f"{_SFN}.asl.component.state.wait.wait_function.timestamp"
            ":Timestamp._from_timestamp_string": "(timestamp)",
        },
        "a timestamp is RFC 3339 with an uppercase T and Z, fractional seconds and a numeric "
        "offset included, as AWS's Choice and Wait pages define it; moto's Choice took "
        "%Y-%m-%dT%H:%M:%SZ alone (the context object's EnteredTime was no timestamp) and its "
        "Wait refused an offset (local/patches/choices.py)",
        choices.timestamps,
    ),
    Patch(
        "string-matches",
        {
            f"{_SFN}.asl.component.state.choice.comparison.operator.implementations"
            ".string_operators:StringMatches._compare": "(variable, comparison_value)",
        },
        "StringMatches as AWS's Choice page defines it: * any run of characters, \\* and "
        "\\\\ literal, nothing else special; moto matched a shell glob (? and [...] special, "
        "no escapes) (local/patches/choices.py)",
        choices.string_matches,
    ),
    Patch(
        "context-path-comparisons",
        {
            f"{_SFN}.asl.component.state.choice.comparison.comparison_func"
            ":ComparisonFuncValue._eval_body": "(self, env)",
        },
        "a ...Path comparison to the context object ($$.Execution.Name) reads it, as AWS's "
        "context object page lists; moto failed the state with a JSONPath parse error "
        "(local/patches/choices.py)",
        choices.context_paths,
    ),
    Patch(
        "boolean-conditions",
        {
            f"{_SFN}.asl.component.state.choice.comparison.comparison"
            ":ConditionStringJSONata._eval_body": "(self, env)",
        },
        "a JSONata Condition that is no boolean fails with States.QueryEvaluationError, worded "
        "as AWS's recorded cause for an Items that is no array; moto raised a RuntimeError "
        "naming a Python class, a States.Runtime (local/patches/choices.py)",
        choices.boolean_conditions,
    ),
    Patch(
        "jsonata-fail-strings",
        {
            f"{_SFN}.asl.component.state.fail.error_decl:Error._eval_body": "(self, env)",
            f"{_SFN}.asl.component.state.fail.cause_decl:Cause._eval_body": "(self, env)",
        },
        "a Fail state's JSONata Error or Cause that gives no string fails with "
        "States.QueryEvaluationError, worded as AWS's recorded cause for an Items of the "
        "wrong type; moto raised a Python AttributeError for a number and wrote an object's "
        "Python repr as the cause (local/patches/jsonata.py)",
        jsonata.string_fields,
    ),
    Patch(
        "terminal-errors",
        {
            f"{_SFN}.asl.component.common.error_name.error_equals_decl"
            ":ErrorEqualsDecl._eval_body": "(self, env)",
        },
        "no retrier or catcher takes States.Runtime, as AWS's error-handling page and "
        "recorded executions say; moto's took it (local/patches/error_matching.py)",
        error_matching.terminal_errors,
    ),
    Patch(
        "no-choice-matched",
        {f"{_SFN}.asl.component.state.choice.state_choice:StateChoice._eval_state": "(self, env)"},
        "a Choice state that matches no rule and has no Default fails with "
        "States.NoChoiceMatched (AWS's error-handling page); moto failed with States.Runtime "
        "and a Python tuple for its cause (local/patches/choices.py)",
        choices.no_choice_matched,
    ),
    Patch(
        "choice-utf16-order",
        {
            f"{_STRINGS}:{operator}._compare": "(variable, comparison_value)"
            for operator in (
                "StringGreaterThan",
                "StringGreaterThanEquals",
                "StringLessThan",
                "StringLessThanEquals",
            )
        },
        "a Choice rule orders strings by their UTF-16 code units, as Java's String.compareTo "
        "(AWS's interpreter runs on Java: Jayway's causes, the SDK for Java's answers); moto "
        "compared code points, which differ for a character over U+FFFF against one from "
        "U+E000 to U+FFFF (local/patches/choices.py)",
        choices.utf16_order,
    ),
    Patch(
        "choice-matched-rule",
        {
            f"{_SFN}.asl.component.state.choice.choice_rule:ChoiceRule._eval_body": "(self, env)",
            f"{_SFN}.asl.component.state.choice.state_choice"
            ":StateChoice._eval_state_output": "(self, env)",
        },
        "a Choice state's Assign and Output apply only when no rule matched, as AWS's recorded "
        "executions show; moto applied them, over the rule's, whenever the matching rule's "
        "Next was also the Default (local/patches/choices.py)",
        choices.matched_rule,
    ),
    Patch(
        "jsonpath-rule-assign",
        {
            f"{_SFN}.asl.parse.preprocessor"
            ":Preprocessor.visitChoice_rule_comparison_variable": "(self, ctx)",
        },
        "a JSONPath Choice rule's Assign is made when the rule matches, as AWS's recorded "
        "executions of such rules run it; moto's parser dropped it (local/patches/choices.py)",
        choices.jsonpath_rule_assign,
    ),
    # numeric fields
    Patch(
        "jsonata-numeric-fields",
        {
            f"{_SFN}.asl.component.state.wait.wait_function.seconds"
            ":SecondsJSONata._get_wait_seconds": "(self, env)",
            f"{_SFN}.asl.component.common.timeouts.timeout"
            ":TimeoutSecondsJSONata._eval_seconds": "(self, env)",
            f"{_SFN}.asl.component.common.timeouts.heartbeat"
            ":HeartbeatSecondsJSONata._eval_seconds": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_map.max_concurrency"
            ":MaxConcurrencyJSONata._eval_max_concurrency": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_map.tolerated_failure"
            ":ToleratedFailureCountStringJSONata._eval_tolerated_failure_count": "(self, env)",
            f"{_SFN}.asl.component.state.exec.state_map.tolerated_failure"
            ":ToleratedFailurePercentageStringJSONata._eval_tolerated_failure_percentage": (
                "(self, env)"
            ),
            f"{_SFN}.asl.component.state.exec.state_map.item_reader.reader_config.max_items_decl"
            ":MaxItemsStringJSONata._get_value": "(self, env)",
        },
        "a JSONata expression in a numeric field (Seconds, TimeoutSeconds, HeartbeatSeconds, "
        "MaxConcurrency, the tolerated failures, MaxItems) must give a number in the range "
        "AWS's pages state, or the state fails with States.QueryEvaluationError; moto "
        "truncated it with int() (1.5 waited 1 s, a MaxConcurrency of -1 hung an inline Map, "
        "a string was a Python ValueError) (local/patches/numeric_fields.py)",
        numeric_fields.checked,
    ),
    # jsonpath
    Patch(
        "jsonpath-quoted-names",
        {f"{_SFN}.asl.utils.json_path:parse": "(path, debug)"},
        "a backslash in a JSONPath quoted name ($['...']) is part of the name unless it "
        "escapes the name's quote or a backslash, as AWS's recorded executions read it; "
        'jsonpath-ng dropped it, and a name holding \\" was not found: the state failed '
        "with States.Runtime (local/patches/jsonpath.py)",
        jsonpath.quoted_names,
    ),
    Patch(
        "jsonpath-definite-paths",
        {f"{_SFN}.asl.utils.json_path:parse": "(path, debug)"},
        "a reference path (names and single indexes) reads its one node, as AWS's paths page "
        "defines it; moto wrapped the value in an array when an index came before the last "
        'name ($.l[0].s gave ["q"]), and a Choice on it took the wrong branch '
        "(local/patches/jsonpath.py)",
        jsonpath.definite_paths,
    ),
    Patch(
        "intrinsic-escapes",
        {
            f"{_SFN}.asl.parse.preprocessor:Preprocessor.visitString_intrinsic_function": (
                "(self, ctx)"
            )
        },
        "an intrinsic function's field is JSON text, decoded before the function is parsed: "
        "its escapes (\\' \\{ \\} \\\\, as AWS's intrinsic functions page writes them) "
        "reach the parser once; moto parsed the text as it was, each escape doubled "
        "(local/patches/jsonpath.py)",
        jsonpath.intrinsic_text,
    ),
    Patch(
        "intrinsic-string-escapes",
        {f"{_SFN}.asl.parse.intrinsic.preprocessor:Preprocessor._text_of_str": "(parse_tree)"},
        "an intrinsic function's string literal reads its escapes as AWS's intrinsic "
        "functions page gives them: \\' a quote, \\\\ a backslash, \\{ and \\} braces "
        "that are no States.Format placeholder; moto kept the backslashes "
        "(local/patches/jsonpath.py)",
        jsonpath.string_literals,
    ),
    Patch(
        "intrinsic-failures",
        {
            f"{_SFN}.asl.component.common.string.string_expression"
            ":StringIntrinsicFunction._eval_body": "(self, env)",
        },
        "an intrinsic function that fails on its arguments fails the state with "
        "States.IntrinsicFailure, as AWS's error-handling page names it; moto failed with "
        "States.Runtime and a Python exception's repr (local/patches/jsonpath.py)",
        jsonpath.intrinsic_failures,
    ),
    Patch(
        "intrinsic-float-arguments",
        {
            f"{_SFN}.asl.parse.intrinsic.preprocessor:Preprocessor.visitFunc_arg_float": (
                "(self, ctx)"
            )
        },
        "a number with a fraction as an intrinsic function's argument; moto read the parse "
        "tree's INT token and refused the definition with a Python AttributeError "
        "(local/patches/jsonpath.py)",
        jsonpath.float_arguments,
    ),
    Patch(
        "result-path-match-failure",
        {f"{_SFN}.asl.component.common.path.result_path:ResultPath._eval_body": "(self, env)"},
        "a ResultPath that cannot be applied to the state's input fails with "
        "States.ResultPathMatchFailure, the error AWS's error-handling page names for it; "
        "moto failed with States.Runtime and a Python TypeError (local/patches/jsonpath.py)",
        jsonpath.result_path_match,
    ),
    Patch(
        "jsonpath-missing-words",
        {
            f"{_SFN}.asl.component.common.path.input_path:InputPath._eval_body": "(self, env)",
            f"{_SFN}.asl.component.common.path.output_path:OutputPath._eval_body": "(self, env)",
            f"{_SFN}.asl.component.common.timeouts.timeout:TimeoutSecondsPath._eval_seconds": (
                "(self, env)"
            ),
            f"{_SFN}.asl.component.common.timeouts.heartbeat:HeartbeatSecondsPath._eval_seconds": (
                "(self, env)"
            ),
        },
        "a path that finds nothing fails the state with AWS's words: \"Missing property in path "
        "$['a']\" when a name before the last is missing, \"No results for path: "
        "$['a']['b']\" when the last is; moto wrote $['a.b'] for either; a Task's seconds "
        "path records no ExecutionFailed of its own before the execution's "
        "(local/patches/jsonpath.py)",
        jsonpath.missing_path_cause,
    ),
    Patch(
        "jsonpath-filters",
        {f"{_SFN}.asl.utils.json_path:parse": "(path, debug)"},
        "a filter's @ matches objects only, as AWS's paths page says, and a filter on an "
        "object tests the object (Jayway's); a filtered path finds an array, [] when nothing "
        "matches, as AWS records for $.items[*]; jsonpath-ng matched an array's scalars and an "
        "object's member values, and moto failed the state with States.Runtime on no match "
        "(local/patches/jsonpath.py)",
        jsonpath.object_filters,
    ),
    Patch(
        "parameters-data-limit",
        {f"{_SFN}.asl.component.common.parargs:Parameters._eval_body": "(self, env)"},
        "a state's input over the 256 KiB payload quota after Parameters fails with "
        "States.DataLimitExceeded, as AWS's error-handling page lists it; moto checked only "
        "a state's output and a task's result, and ran a Task with the oversized input "
        "(local/patches/jsonpath.py)",
        jsonpath.parameters_within_quota,
    ),
    # versions
    Patch(
        "state-machine-versions",
        {
            "moto.stepfunctions.models:StateMachineVersion": "class "
            "moto.stepfunctions.models.StateMachineVersion",
            f"{_SFN}.models:StepFunctionsParserBackend.start_execution": "(self, "
            "state_machine_arn, name, execution_input, trace_header)",
            "moto.stepfunctions.responses:StepFunctionResponse.describe_execution": "(self)",
            "moto.stepfunctions.responses:StepFunctionResponse"
            ".describe_state_machine_for_execution": "(self)",
        },
        "StartExecution of a version ARN runs that version, as on AWS; moto answered a 500 "
        "(its versions have no execution-name check): the execution is the state machine's "
        "and the version's, DescribeExecution names the version and "
        "DescribeStateMachineForExecution answers its definition; a state machine one of "
        "whose versions ran still starts (moto's snapshot of it copied the version's live "
        "executions: a TypeError) (local/patches/versions.py)",
        versions.runnable_versions,
    ),
    Patch(
        "list-state-machine-versions",
        {"moto.stepfunctions.responses:StepFunctionResponse.call_action": "(self)"},
        "moto does not implement ListStateMachineVersions: it lists a state machine's "
        "versions, the newest first (local/patches/versions.py)",
        versions.listed_versions,
    ),
    Patch(
        "state-machine-revisions",
        {
            "moto.stepfunctions.models:StateMachine.update": "(self, **kwargs)",
            "moto.stepfunctions.models:StateMachine.publish": "(self, description)",
            "moto.stepfunctions.responses:StepFunctionResponse.update_state_machine": "(self)",
        },
        "an UpdateStateMachine that changes something gives the state machine a new revision "
        "(a UUID), one that changes nothing keeps it, and its answer carries the revisionId; "
        "a version is of the revision it was published from, and publishing the revision of "
        "the newest version again answers that version, as AWS's recorded answers show; moto "
        "had no revisions and published a new version each time (local/patches/"
        "descriptions.py)",
        descriptions.revisions,
    ),
    Patch(
        "state-machine-descriptions",
        {
            "moto.stepfunctions.responses:StepFunctionResponse.describe_state_machine": "(self)",
            "moto.stepfunctions.responses:StepFunctionResponse"
            ".describe_state_machine_for_execution": "(self)",
        },
        "DescribeStateMachine and DescribeStateMachineForExecution carry the revisionId and "
        "variableReferences (the workflow variables each state reads), and the latter the "
        "updateDate, as AWS's recorded answers do; moto gave none of them "
        "(local/patches/descriptions.py)",
        descriptions.described,
    ),
    # express
    Patch(
        "express-definitions",
        {
            f"{_SFN}.models:StepFunctionsParserBackend.create_state_machine": "(self, name, "
            "definition, roleArn, tags, publish, loggingConfiguration, tracingConfiguration, "
            "encryptionConfiguration, version_description, sm_type)",
            f"{_SFN}.models:StepFunctionsParserBackend.update_state_machine": "(self, arn, "
            "definition, role_arn, logging_configuration, tracing_configuration, "
            "encryption_configuration, publish, version_description)",
        },
        "an EXPRESS state machine with a .sync or .waitForTaskToken Task or an activity, at "
        "any depth, is refused at CreateStateMachine and UpdateStateMachine in AWS's recorded "
        "words; moto took it (local/patches/express.py)",
        express.express_definitions,
    ),
    Patch(
        "express-executions",
        {
            f"{_SFN}.models:Execution": f"class {_SFN}.backend.execution.Execution",
            "moto.stepfunctions.models:StateMachine._handle_name_input_idempotency": "(self, "
            "name, execution_input)",
            "moto.stepfunctions.models:StepFunctionBackend._validate_execution_arn": "(self, "
            "execution_arn)",
            "moto.stepfunctions.models:StepFunctionBackend.list_executions": "(self, "
            "state_machine_arn, status_filter)",
        },
        "an EXPRESS machine's execution has AWS's ARN (...:express:<machine>:<name>:<uuid>) and "
        "its name may be used again; DescribeExecution, StopExecution and GetExecutionHistory "
        "refuse that ARN with InvalidArn and ListExecutions the machine with "
        "StateMachineTypeNotSupported, as AWS's recorded answers show; moto ran EXPRESS "
        "machines as STANDARD ones (local/patches/express.py)",
        express.express_executions,
    ),
    Patch(
        "start-sync-execution",
        {"moto.stepfunctions.responses:StepFunctionResponse.call_action": "(self)"},
        "moto does not implement StartSyncExecution: an EXPRESS execution runs to its end and "
        "the answer says what it did; a STANDARD machine is refused with "
        "StateMachineTypeNotSupported (local/patches/express.py)",
        express.start_sync_execution,
    ),
    Patch(
        "step-functions-request-validation",
        {"moto.stepfunctions.responses:StepFunctionResponse.call_action": "(self)"},
        "a request that breaks a constraint of Step Functions' API model (botocore's: "
        "maxResults at most 1000, a nextToken's length ...; a length the model counts in UTF-8 "
        "bytes, an execution's input or a task's output, counted so) is refused with AWS's "
        "ValidationException in AWS's words, before any call the engine answers itself (it "
        "wraps the other StepFunctionResponse.call_action patches: registered after them); "
        "moto answered it (local/patches/executions.py)",
        executions.validated_requests,
    ),
    # nested executions
    Patch(
        "service-task-names",
        {
            f"{_TASK_SERVICE}:StateTaskService._normalise_parameters": "(self, parameters, "
            "boto_service_name, service_action_name)",
            f"{_TASK_SERVICE}:StateTaskService._normalise_response": "(self, response, "
            "boto_service_name, service_action_name)",
            f"{_TASK_SERVICE}:StateTaskService._eval_execution": "(self, env)",
        },
        "a service task's parameters are named as the ASL writes them (StateMachineArn) and "
        "its call as the API's model does (stateMachineArn), its answer named back "
        "(ExecutionArn), as in LocalStack's engine that moto copied; moto left both steps out: "
        "a Task of an API that is not PascalCase (Step Functions' startExecution, ECS, Batch, "
        "such an AWS SDK integration) failed with a Python KeyError; a time in an answer is "
        "AWS's timestamp text (a datetime failed DescribeExecution); a TestState mock's "
        "result stays as written (local/patches/nested.py)",
        nested.service_task_names,
    ),
    Patch(
        "nested-executions",
        {
            **{
                f"{_TASK_SERVICE}_sfn:StateTaskServiceSfn.{method}": "(self, env, "
                "resource_runtime_part, normalised_parameters, state_credentials)"
                for method in (
                    "_eval_service_task",
                    "_build_sync_resolver",
                    "_build_sync2_resolver",
                )
            },
            f"{_SFN}.backend.execution:BaseExecutionWorkerCommunication.terminated": "(self)",
        },
        "states:startExecution answers as AWS's recorded executions (the SDK's HTTP metadata "
        "included); .sync and .sync:2 wait for the child's end, woken by it (moto polled "
        "DescribeExecution every 0.5 s of real time, which refuses an EXPRESS child's ARN), "
        "and answer its description in AWS's names and order (local/patches/nested.py)",
        nested.nested_executions,
    ),
    # callbacks
    Patch(
        "task-token-answers",
        {
            f"{_SFN}.models:StepFunctionsParserBackend.send_task_success": "(self, task_token, "
            "outcome)",
            f"{_SFN}.models:StepFunctionsParserBackend.send_task_failure": "(self, task_token, "
            "error, cause)",
            f"{_SFN}.models:StepFunctionsParserBackend.send_task_heartbeat": "(self, task_token)",
            f"{_SFN}.asl.component.state.exec.state_task.service.state_task_service_callback"
            ":StateTaskServiceCallback._eval_integration_pattern": "(self, env, "
            "resource_runtime_part, normalised_parameters, state_credentials)",
        },
        "SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat of a token whose task has "
        "ended (answered, timed out, its execution over) answer TaskTimedOut, SendTaskSuccess "
        "with output that is no JSON InvalidOutput (the task still waits), as the API "
        "reference lists them; a heartbeat is taken by any waiting task; moto answered "
        "InvalidToken (SendTaskFailure: 200, doing nothing), and took any output, failing "
        "the execution with Python's parser text (local/patches/callbacks.py)",
        callbacks.task_answers,
    ),
    Patch(
        "task-failure-cause",
        {"moto.stepfunctions.responses:StepFunctionResponse.send_task_failure": "(self)"},
        "SendTaskFailure's cause is the task's, as AWS's recorded executions show; moto "
        "dropped it (local/patches/callbacks.py)",
        callbacks.failure_with_cause,
    ),
    Patch(
        "heartbeat-timeout-name",
        {
            f"{_SFN}.asl.component.state.exec.state_task.state_task:StateTask._from_error": "("
            "self, env, ex)"
        },
        "a heartbeat timeout (States.Timeout, as AWS records it) is taken by a retrier or "
        "catcher of States.HeartbeatTimeout too, as AWS's error-handling page says; moto's "
        "matched only States.Timeout (local/patches/error_matching.py)",
        error_matching.heartbeat_timeouts,
    ),
    Patch(
        "activities-not-run",
        {
            f"{_SFN}.asl.component.state.exec.state_task.state_task_activitiy"
            ":StateTaskActivity._eval_execution": "(self, env)"
        },
        'an activity Task fails the execution with States.Runtime: "The activity <arn> does '
        'not exist." as AWS records it, or, for one that exists, that the local engine does '
        "not run activities (it has no GetActivityTask); moto failed with a Python "
        "TypeError (local/patches/callbacks.py)",
        callbacks.activities_not_run,
    ),
    # cognito
    Patch(
        "cognito-pool-keys",
        {
            "moto.cognitoidp.models:CognitoIdpUserPool.__init__": "(self, account_id, region, "
            "name, extended_config)",
            "moto.cognitoidp.models:jwk": "module joserfc.jwk",
            "moto.cognitoidp.urls:url_paths": "dict {{0}/$, " + cognito.JWKS_PATH + ", "
            "{0}/(?P<user_pool_id>[^/]+)/.well-known/openid-configuration$}",
        },
        "moto signs every user pool's tokens with one key shipped in its package: each pool gets "
        "a key of its own, served at /<pool id>/.well-known/jwks.json, so that a token of "
        "another pool, or one signed by anybody with moto's key, fails the signature check as "
        "on AWS (moto's own key is not imported for each pool only to be replaced)",
        cognito.pool_keys,
    ),
    Patch(
        "cognito-token-clock",
        {"moto.cognitoidp.models:time": "module time"},
        "user pools issue tokens (iat, exp) on the emulator's clock, against which the local "
        "gateway checks their expiry: a test moves the clock past the hour a token lasts",
        cognito.token_clock,
    ),
    # tracing
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
    # model loader
    Patch(
        "one-model-loader",
        {"moto.core.utils:create_loader": "()"},
        "moto reads each AWS model through a new botocore Loader, which lists every "
        "service's folder first (~15 ms of CPU, 17 times in a stack's start): one Loader "
        "lists once and loads the same models (local/patches/model_loader.py)",
        model_loader.one_loader,
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
    if isinstance(value, dict):  # a table moto reads, such as a service's URL routes
        return "dict {" + ", ".join(sorted(map(str, value))) + "}"
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

    # Not a replacement: how the parser's import of moto.batch is served (batch_import.py).
    if moved := batch_import.missing():
        raise PatchMismatch(
            f"the preload of {batch_import.PACKAGE} does not fit moto {moto.__version__}: "
            f"{', '.join(moved)} not found in its folder"
        )
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
