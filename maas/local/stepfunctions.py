"""Step Functions on the local runtime: moto's ASL interpreter, with what it lacks filled in.

moto 5.2 executes state machines (``execute_state_machine``) with an interpreter ported
from LocalStack. Each patch below exists because that port stops short of AWS:

- **Execution names.** An execution started without a name gets the ARN ``...:None``, so
  every unnamed execution has the same ARN. AWS generates a UUID; so does this.
- **Execution output.** ``DescribeExecution`` answers the output as JSON text. moto passes
  a result that is a string through as if it were JSON text already (``a`` for ``"a"``)
  and leaves a ``null`` result out; this encodes every result when the execution ends.
- **Optimised integrations' casing.** AWS takes and returns PascalCase for ``batch:*`` and
  ``states:*`` tasks whatever the API's own casing; moto passes the PascalCase parameters to
  boto3's camelCase Batch and Step Functions APIs unchanged (and reads ``JobId`` from a
  response that says ``jobId``), so ``batch:submitJob.sync`` and
  ``states:startExecution.sync:2`` (the lifecycle's children) fail. This converts both ways
  with botocore's shapes.
- **AWS SDK integration error names.** AWS names an error ``<Service>.<Name>`` in
  PascalCase (``SageMaker.SageMakerException``, ``ApplicationAutoScaling.ObjectNotFoundException``);
  moto knows the casing of two services only and writes ``sagemaker.sagemakerException``.
  It also cannot map ``applicationautoscaling`` to boto3's ``application-autoscaling``.
- **JSONata and variables.** moto ships without a JSONata evaluator, and variables
  (``Assign``) are evaluated through it even in JSONPath states; this plugs in
  ``jsonata-python``. moto also writes string variables into the expression unescaped, so
  a value with a quote breaks the expression; this encodes them as JSON, a timestamp (an
  SDK result's, say) as the text AWS writes times in (see the context object below), where
  plain JSON would fail the state. And moto keeps the
  JSON escapes of a string literal in ``Assign`` (``"say \\"hi\\""`` assigns ``say \\"hi\\"``,
  which that encoding then escapes again); this decodes the literal as AWS does.
- **Context object timestamps.** AWS writes ``Execution.StartTime`` and
  ``State.EnteredTime`` as ISO 8601 UTC with milliseconds (``2019-03-26T20:14:13.192Z``,
  https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html);
  moto keeps the first as a datetime and writes the second with microseconds and
  ``+00:00``. This writes both as AWS does, and adds ``Execution.RedriveCount`` (0), which
  moto's context object lacks.
- **Invalid definitions.** moto refuses a definition its parser cannot read with an error
  whose code is empty; this answers AWS's ``InvalidDefinition``.
- **Parsing a definition once.** moto parses a definition with an ANTLR grammar, at
  ~0.6 s of CPU a definition, when a state machine is created (only to validate it) and
  again for every execution. The parsed program keeps no execution's state (that lives in
  each execution's environment), so a definition is parsed once per process: creations
  remember the definitions that passed (a failure is never remembered) and executions
  share the parsed program.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import botocore.session
import jsonata
from botocore import xform_name
from moto.core.exceptions import AWSError
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_terminal import (
    AssignTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as aws_sdk_module,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch import (  # noqa: E501
    StateTaskServiceBatch,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (  # noqa: E501
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.eval import states as states_module
from moto.stepfunctions.parser.asl.eval import variable_store as variable_store_module
from moto.stepfunctions.parser.asl.jsonata import jsonata as jsonata_module
from moto.stepfunctions.parser.asl.parse.asl_parser import (
    AmazonStateLanguageParser,
    ASLParserException,
)
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend import execution_worker as execution_worker_module
from moto.stepfunctions.parser.backend.execution import (
    BaseExecutionWorkerCommunication,
    Execution,
)
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from maas.local import stepfunctions_api, stepfunctions_lambda, stepfunctions_maprun
from maas.local.patching import extend, replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

    from botocore.model import OperationModel

#: The PascalCase service names AWS uses in ``<Service>.<Error>`` (lower-cased key).
SERVICE_ERROR_NAMES = {
    "sagemaker": "SageMaker",
    "applicationautoscaling": "ApplicationAutoScaling",
    "scheduler": "Scheduler",
    "s3": "S3",
    "lambda": "Lambda",
    "eventbridge": "EventBridge",
    "batch": "Batch",
    "ecr": "Ecr",
    "cloudwatch": "CloudWatch",
}

#: Service names in ``aws-sdk:<service>:...`` whose boto3 name differs.
BOTO_SERVICE_NAMES = {"applicationautoscaling": "application-autoscaling"}


@cache
def _operation(service: str, action: str) -> OperationModel:
    model = botocore.session.get_session().get_service_model(service)
    by_method = {xform_name(name): name for name in model.operation_names}
    return model.operation_model(by_method[xform_name(action)])


def _operation_of(
    task: StateTaskService, boto_service_name: str | None, service_action_name: str | None
) -> OperationModel:
    return _operation(
        task._get_boto_service_name(boto_service_name),
        service_action_name or task._get_boto_service_action(),
    )


def _shape_parameters(
    task: StateTaskService,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    shape = _operation_of(task, boto_service_name, service_action_name).input_shape
    if shape is not None:
        task._to_boto_request(parameters, shape)


def _shape_response(
    task: StateTaskService,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    shape = _operation_of(task, boto_service_name, service_action_name).output_shape
    if shape is not None:
        task._from_boto_response(response, shape)


def _evaluate_jsonata(expression: str) -> Any:
    try:
        return jsonata.Jsonata(expression).evaluate(None)
    except Exception as exc:
        raise jsonata_module.JSONataException("States.QueryEvaluationError", str(exc)) from exc


def aws_timestamp(moment: datetime) -> str:
    """``moment`` as Step Functions writes times: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # moto's naive times are UTC
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    # What JSON has no type for: a timestamp as AWS writes it, anything else as moto does
    # (its encoder writes ``str(value)``), so no value fails here that moto encodes.
    return aws_timestamp(value) if isinstance(value, datetime) else str(value)


def _encode_variables(bindings: dict[str, Any]) -> str:
    # The same ``$name:=value;`` declarations moto writes, with every value as JSON.
    return "".join(
        f"{name}:={json.dumps(value, separators=(',', ':'), default=_json_default)};"
        for name, value in bindings.items()
    )


def _execution_data(**fields: Any) -> Any:
    start = fields.get("StartTime")
    if isinstance(start, datetime):
        fields["StartTime"] = aws_timestamp(start)
    # No execution is redriven here (moto has no RedriveExecution): the count is always 0.
    fields.setdefault("RedriveCount", 0)
    return states_module.ExecutionData(**fields)  # type: ignore[typeddict-item]


def _state_data(**fields: Any) -> Any:
    entered = fields.get("EnteredTime")
    if isinstance(entered, str):
        fields["EnteredTime"] = aws_timestamp(datetime.fromisoformat(entered))
    return states_module.StateData(**fields)  # type: ignore[typeddict-item]


def _assign_string_literal(preprocessor: Preprocessor, ctx: Any) -> AssignTemplateValueTerminalLit:
    # The token is the JSON string as written in the definition: its value is what it decodes to.
    text: str = ctx.string_literal().getText()
    return AssignTemplateValueTerminalLit(value=json.loads(text) if text.startswith('"') else text)


class InvalidDefinitionError(AWSError):
    """CreateStateMachine's and UpdateStateMachine's ``InvalidDefinition``, with its code.

    moto raises its parser's ``InvalidDefinition``, which its response layer answers with
    an empty error code; AWS answers ``InvalidDefinition`` and "Invalid State Machine
    Definition: '<reason>'" (https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html).
    """

    TYPE = "InvalidDefinition"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid State Machine Definition: '{reason}'")


@cache
def _program(definition: str) -> Any:
    """The definition's parsed program (``InvalidDefinition`` if it does not parse)."""
    try:
        json.loads(definition)
    except ValueError as exc:
        raise InvalidDefinitionError(f"INVALID_JSON_DESCRIPTION: {exc}") from exc
    try:
        program, _ = AmazonStateLanguageParser.parse(definition)
    except ASLParserException as exc:
        # AWS's category for a definition its schema refuses; the reason is moto's parser's.
        raise InvalidDefinitionError(f"SCHEMA_VALIDATION_FAILED: {exc!r}") from exc
    except Exception as exc:
        # As moto words it: the error's name and arguments.
        raise InvalidDefinitionError(
            f"SCHEMA_VALIDATION_FAILED: Error={type(exc).__name__} Args={list(exc.args)}"
        ) from exc
    return program


def install(stack: ExitStack) -> None:
    """Apply every patch above until ``stack`` closes."""
    original_start: Callable[..., Any] = StepFunctionsParserBackend.start_execution

    def start_execution(
        backend: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        return original_start(
            backend, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
        )

    stack.enter_context(replace(StepFunctionsParserBackend, "start_execution", start_execution))

    stack.enter_context(
        replace(StepFunctionsParserBackend, "_validate_definition", staticmethod(_program))
    )

    def evaluation_entrypoint(worker: ExecutionWorker) -> Any:
        return _program(worker._evaluation_details.state_machine_details.definition)

    stack.enter_context(
        replace(ExecutionWorker, "_get_evaluation_entrypoint", evaluation_entrypoint)
    )

    original_reflect: Callable[..., None] = (
        BaseExecutionWorkerCommunication._reflect_execution_status
    )

    def reflect_execution_status(communication: BaseExecutionWorkerCommunication) -> None:
        original_reflect(communication)
        execution = communication.execution
        # Only a Standard execution: the others (sync, TestState) encode their own output.
        if type(execution) is Execution and execution.exec_status == ExecutionStatus.SUCCEEDED:
            execution.output = to_json_str(execution.output)  # type: ignore[assignment]

    stack.enter_context(
        replace(
            BaseExecutionWorkerCommunication, "_reflect_execution_status", reflect_execution_status
        )
    )
    stack.enter_context(replace(StateTaskServiceBatch, "_normalise_parameters", _shape_parameters))
    stack.enter_context(replace(StateTaskServiceBatch, "_normalise_response", _shape_response))

    # moto's own step encodes ``startExecution``'s Input as JSON text: keep it, then case.
    original_sfn_parameters: Callable[..., None] = StateTaskServiceSfn._normalise_parameters

    def sfn_normalise_parameters(
        task: StateTaskServiceSfn,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original_sfn_parameters(task, parameters, boto_service_name, service_action_name)
        _shape_parameters(task, parameters, boto_service_name, service_action_name)

    stack.enter_context(
        replace(StateTaskServiceSfn, "_normalise_parameters", sfn_normalise_parameters)
    )
    stack.enter_context(replace(StateTaskServiceSfn, "_normalise_response", _shape_response))
    stack.enter_context(extend(aws_sdk_module._SERVICE_ERROR_NAMES, SERVICE_ERROR_NAMES))
    stack.enter_context(
        extend(StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES, BOTO_SERVICE_NAMES)
    )
    stack.enter_context(replace(jsonata_module, "_eval_jsonata", _evaluate_jsonata))
    stack.enter_context(
        replace(
            Preprocessor,
            "visitAssign_template_value_terminal_string_literal",
            _assign_string_literal,
        )
    )
    for module in (states_module, variable_store_module):
        stack.enter_context(
            replace(module, "encode_jsonata_variable_declarations", _encode_variables)
        )
    stack.enter_context(replace(execution_worker_module, "ExecutionData", _execution_data))
    stack.enter_context(replace(state_module, "StateData", _state_data))
    # Map Runs and their child executions: see that module. Installed before the module
    # below, whose ListExecutions checks (statusFilter, maxResults) then hold for both.
    stepfunctions_maprun.install(stack)
    # The API that reads executions (paging, order, filters): see that module.
    stepfunctions_api.install(stack)
    # ``lambda:invoke``'s output as AWS lays it out: see that module.
    stepfunctions_lambda.install(stack)


__all__ = ["BOTO_SERVICE_NAMES", "SERVICE_ERROR_NAMES", "aws_timestamp", "install"]
