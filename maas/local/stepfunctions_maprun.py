"""Distributed Map's Map Runs and their child executions, as the Step Functions API shows them.

moto 5.2 runs a ``Map`` state whose ``ItemProcessor`` is ``DISTRIBUTED`` as a Map Run
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html): it
keeps a record of the run (ARN, counts, status) and evaluates each item in a thread of
the parent execution. What it answers about that run falls short of AWS:

- **DescribeMapRun / UpdateMapRun** of a Map Run it does not know fail inside moto (its
  ``ResourceNotFound`` is raised without its message: a ``TypeError``, HTTP 500 through the
  server), and neither checks the ARN. AWS answers ``InvalidArn`` for an ARN that is not a
  Map Run's and ``ResourceNotFound`` for one it does not know
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html,
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateMapRun.html),
  and ``UpdateMapRun`` refuses values outside the model's ranges with
  ``ValidationException``.
- **DescribeMapRun**'s ``executionCounts`` keep a failed or aborted child ``running``
  forever (moto decrements ``running`` only when a child succeeds), and lack
  ``redriveCount``, which AWS answers 0 for a Map Run never redriven (no Map Run is
  redriven here: moto has no ``RedriveExecution``).
- **ListMapRuns** ignores ``maxResults`` and ``nextToken``; AWS pages
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListMapRuns.html).
- **Child executions.** AWS starts one child workflow execution per item, an execution of
  the Map Run's own state machine (``stateMachine:<machine>/<label>``); ``ListExecutions``
  with ``mapRunArn`` lists them (with ``mapRunArn`` and ``itemCount`` in each item), and
  ``DescribeExecution`` of one answers its ``mapRunArn``
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html,
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html).
  moto keeps no child execution (``ListExecutions`` with ``mapRunArn`` fails inside it);
  this records one per item moto evaluates: its input after ``ItemSelector``, its status,
  times, output or error, under the ARN AWS gives it
  (``execution:<machine>/<label>:<uuid>``).
- **Failure thresholds.** moto's Map Run counts a failed child and succeeds whatever the
  count. AWS fails it, and the Map state, with ``States.ExceedToleratedFailureThreshold``
  once the failed items exceed ``ToleratedFailureCount`` or ``ToleratedFailurePercentage``
  (neither given: any failure,
  https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html); so
  does this, when moto's run ends (:func:`exceeds_threshold`).
- **ListExecutions** with neither ``stateMachineArn`` nor ``mapRunArn`` fails inside moto;
  AWS answers ``ValidationException`` ("Must provide a StateMachine ARN or MapRun ARN"),
  and takes one of the two, not both.

Map Runs and their children are records of the process: they are not saved with the
account (docs/local.md, "What persists").
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.exceptions import (
    InvalidArn,
    InvalidToken,
    ResourceNotFound,
    ValidationException,
)
from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
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
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record import (  # noqa: E501
    MapRunRecord,
    MapRunRecordPoolManager,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import (
    ProgramEnded,
    ProgramError,
    ProgramStopped,
    ProgramTimedOut,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.responses import StepFunctionResponse

from maas.local.patching import replace
from maas.local.stepfunctions_api import page_size

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from contextlib import ExitStack

    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import Job
    from moto.stepfunctions.parser.asl.eval.environment import Environment

#: ``arn:<partition>:states:<region>:<account>:<resource type>:<rest>``.
_ARN = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:(?P<type>[^:]+):.+$")

#: The redrive filters AWS takes; nothing is ever redriven here.
_REDRIVE_FILTERS = ("REDRIVEN", "NOT_REDRIVEN")


def check_arn(arn: str, resource_type: str) -> None:
    """``InvalidArn`` as AWS words it unless ``arn`` is a Step Functions ``resource_type``'s.

    AWS answers "Invalid Arn: 'Invalid ARN prefix: <arn>'" for what is not an ARN at all, and
    "Invalid Arn: 'Resource type not valid in this context: <type>'" for another resource's.
    """
    if not arn.startswith("arn:"):
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    matched = _ARN.match(arn)
    if matched is None:
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    if matched["type"] != resource_type:
        raise InvalidArn(
            f"Invalid Arn: 'Resource type not valid in this context: {matched['type'].lower()}'"
        )


def _param(response: StepFunctionResponse, name: str) -> Any:
    """A request parameter, through moto's (protected) reader: its one use in this module."""
    return response._get_param(name)


def _validation(message: str) -> ValidationException:
    return ValidationException(f"1 validation error detected: {message}")


@dataclass
class ChildExecution:
    """One item's child workflow execution of a Map Run."""

    execution_arn: str
    name: str
    state_machine_arn: str
    map_run_arn: str
    start_date: datetime
    input: Any
    status: str = "RUNNING"
    stop_date: datetime | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def list_item(self) -> dict[str, Any]:
        """The child as ``ListExecutions`` with ``mapRunArn`` lists it."""
        item: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start_date,
            "mapRunArn": self.map_run_arn,
            # One item a child: moto's Map Run evaluates items one by one (no ItemBatcher).
            "itemCount": 1,
        }
        if self.stop_date is not None:
            item["stopDate"] = self.stop_date
        return item

    def describe(self) -> dict[str, Any]:
        """The child as ``DescribeExecution`` answers it."""
        answer: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start_date,
            "input": to_json_str(self.input),
            "inputDetails": {"included": True},
            "mapRunArn": self.map_run_arn,
        }
        if self.stop_date is not None:
            answer["stopDate"] = self.stop_date
        if self.status == "SUCCEEDED":
            answer["output"] = to_json_str(self.output)
            answer["outputDetails"] = {"included": True}
        if self.error is not None:
            answer["error"] = self.error
        if self.cause is not None:
            answer["cause"] = self.cause
        return answer


@dataclass
class MapRuns:
    """Every Map Run moto starts in this process, and each one's child executions."""

    runs: dict[str, MapRunRecord] = field(default_factory=dict)
    children: dict[str, list[ChildExecution]] = field(default_factory=dict)
    by_arn: dict[str, ChildExecution] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_run(self, record: MapRunRecord) -> None:
        with self.lock:
            self.runs[record.map_run_arn] = record
            self.children.setdefault(record.map_run_arn, [])

    def run(self, map_run_arn: str) -> MapRunRecord:
        """The Map Run ``map_run_arn`` (``InvalidArn``, ``ResourceNotFound``)."""
        check_arn(map_run_arn, "mapRun")
        with self.lock:
            record = self.runs.get(map_run_arn)
        if record is None:
            raise ResourceNotFound(map_run_arn)
        return record

    def runs_of(self, execution_arn: str) -> list[MapRunRecord]:
        with self.lock:
            return [run for run in self.runs.values() if run.execution_arn == execution_arn]

    def start_child(self, record: MapRunRecord, item: Any) -> ChildExecution:
        # The Map Run's state machine ARN is ``stateMachine:<machine>/<label>``; its
        # children's are ``execution:<machine>/<label>:<name>``.
        name = str(uuid.uuid4())
        prefix = record.map_state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        child = ChildExecution(
            execution_arn=f"{prefix}:{name}",
            name=name,
            state_machine_arn=record.map_state_machine_arn,
            map_run_arn=record.map_run_arn,
            start_date=datetime.now(UTC),
            input=item,
        )
        with self.lock:
            self.children.setdefault(record.map_run_arn, []).append(child)
            self.by_arn[child.execution_arn] = child
        return child

    def children_of(self, map_run_arn: str) -> list[ChildExecution]:
        with self.lock:
            return list(self.children.get(map_run_arn, ()))

    def child(self, execution_arn: str) -> ChildExecution | None:
        with self.lock:
            return self.by_arn.get(execution_arn)

    def execution_counts(self, map_run_arn: str) -> dict[str, int]:
        """``executionCounts`` from the children themselves."""
        statuses = [child.status for child in self.children_of(map_run_arn)]
        succeeded = statuses.count("SUCCEEDED")
        return {
            "pending": 0,
            "running": statuses.count("RUNNING"),
            "succeeded": succeeded,
            "failed": statuses.count("FAILED"),
            "timedOut": statuses.count("TIMED_OUT"),
            "aborted": statuses.count("ABORTED"),
            "total": len(statuses),
            # moto writes every succeeded child's result (to the state's output).
            "resultsWritten": succeeded,
            "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        }


def _finish(child: ChildExecution, frame: Environment, job: Job) -> None:
    # The outcome as the item's program left it; a failure moto caught inside the worker
    # (its evaluation raised) leaves the program running: the child failed.
    state = frame.program_state()
    if isinstance(state, ProgramEnded):
        child.status, child.output = "SUCCEEDED", job.job_output
    elif isinstance(state, ProgramError):
        child.status = "FAILED"
        details = state.error or {}
        child.error, child.cause = details.get("error"), details.get("cause")
    elif isinstance(state, ProgramStopped):
        child.status, child.error, child.cause = "ABORTED", state.error, state.cause
    elif isinstance(state, ProgramTimedOut):
        child.status = "TIMED_OUT"
    else:
        child.status = "FAILED"
    child.stop_date = datetime.now(UTC)


#: The error a Map Run fails with past its tolerated failures.
EXCEEDED = "States.ExceedToleratedFailureThreshold"


def exceeds_threshold(failed: int, total: int, count: int, percentage: float) -> bool:
    """Whether ``failed`` of ``total`` items pass the Map Run's tolerated failures.

    AWS fails the Map Run when the failed items exceed the ``count`` or the ``percentage``
    it is given, either when given both; given neither, any failure fails it
    (https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html). A
    Map Run's record says 0 for one not given, so 0 is taken as not given.
    """
    if not count and not percentage:
        return failed > 0
    return bool(count and failed > count) or bool(
        percentage and total and failed * 100 > percentage * total
    )


def _token(scope: dict[str, Any], after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({**scope, "after": after}).encode()).decode()


def _after(token: str | None, scope: dict[str, Any]) -> int:
    """Where the page that issued ``token`` stopped (``InvalidToken`` if not for ``scope``)."""
    if not token:
        return 0
    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = fields.pop("after")
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidToken() from exc
    if fields != scope or not isinstance(after, int):
        raise InvalidToken()
    return after


def page(
    items: Sequence[Any], scope: dict[str, Any], max_results: Any, token: str | None
) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the token of the next; a token is tied to its ``scope``."""
    size = page_size(None if max_results is None else int(max_results))
    start = _after(token, scope)
    end = start + size
    return list(items[start:end]), _token(scope, end) if end < len(items) else None


def _check_update(max_concurrency: Any, count: Any, percentage: Any) -> None:
    # The model's ranges (MaxConcurrency >= 0, ToleratedFailureCount >= 0,
    # ToleratedFailurePercentage 0 to 100), worded as AWS's validation errors are.
    def refuse(value: Any, member: str, bound: str) -> None:
        raise _validation(
            f"Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )

    if max_concurrency is not None and int(max_concurrency) < 0:
        refuse(max_concurrency, "maxConcurrency", "greater than or equal to 0")
    if count is not None and int(count) < 0:
        refuse(count, "toleratedFailureCount", "greater than or equal to 0")
    if percentage is not None and not 0 <= float(percentage) <= 100:
        bound = (
            "less than or equal to 100" if float(percentage) > 0 else "greater than or equal to 0"
        )
        refuse(percentage, "toleratedFailurePercentage", bound)


class _Interpreter:
    """The patches of moto's interpreter that record Map Runs and their children."""

    def __init__(self, runs: MapRuns) -> None:
        self.runs = runs
        self.current = threading.local()  # the child a worker thread is evaluating
        self.original_add: Callable[[MapRunRecordPoolManager, MapRunRecord], None] = (
            MapRunRecordPoolManager.add
        )
        self.original_eval_job: Callable[..., None] = DistributedItemProcessorWorker._eval_job
        self.original_eval_input: Callable[..., None] = DistributedItemProcessorWorker._eval_input
        self.original_map_run: Callable[..., None] = DistributedIterationComponent._map_run

    def install(self, stack: ExitStack) -> None:
        interpreter = self

        def add(pool: MapRunRecordPoolManager, record: MapRunRecord) -> None:
            interpreter.original_add(pool, record)
            interpreter.runs.add_run(record)

        def eval_job(worker: DistributedItemProcessorWorker, env: Environment, job: Job) -> None:
            interpreter.eval_job(worker, env, job)

        def eval_input(worker: DistributedItemProcessorWorker, env_frame: Environment) -> None:
            interpreter.eval_input(worker, env_frame)

        def map_run(
            component: DistributedIterationComponent, env: Environment, eval_input: Any
        ) -> None:
            interpreter.map_run(component, env, eval_input)

        stack.enter_context(replace(MapRunRecordPoolManager, "add", add))
        stack.enter_context(replace(DistributedIterationComponent, "_map_run", map_run))
        stack.enter_context(replace(DistributedItemProcessorWorker, "_eval_job", eval_job))
        stack.enter_context(replace(DistributedItemProcessorWorker, "_eval_input", eval_input))

    def eval_job(self, worker: DistributedItemProcessorWorker, env: Environment, job: Job) -> None:
        child = self.runs.start_child(worker._map_run_record, job.job_input)
        self.current.child = child
        try:
            self.original_eval_job(worker, env, job)
        finally:
            self.current.child = None
            _finish(child, env, job)

    def map_run(self, component: DistributedIterationComponent, env: Environment, run: Any) -> None:
        self.original_map_run(component, env=env, eval_input=run)
        record: MapRunRecord = run.map_run_record
        statuses = [child.status for child in self.runs.children_of(record.map_run_arn)]
        failed = len(statuses) - statuses.count("SUCCEEDED")
        if not exceeds_threshold(
            failed,
            len(statuses),
            record.tolerated_failure_count,
            record.tolerated_failure_percentage,
        ):
            return
        # moto's Map Run ends here as for any failure of its own: MapRunFailed, the run
        # FAILED, the Map state failed with this error (which a Catch may take).
        details = MapRunFailedEventDetails(
            error=EXCEEDED,
            cause=f"{failed} of {len(statuses)} items failed: more than the Map Run tolerates",
        )
        raise FailureEventException(
            FailureEvent(
                env,
                StatesErrorName(StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                HistoryEventType.MapRunFailed,
                EventDetails(mapRunFailedEventDetails=details),  # type: ignore[typeddict-item]
            )
        )

    def eval_input(self, worker: DistributedItemProcessorWorker, env_frame: Environment) -> None:
        self.original_eval_input(worker, env_frame)
        child: ChildExecution | None = getattr(self.current, "child", None)
        if child is not None:
            # The child's input is the item after ItemSelector (or Parameters).
            child.input = env_frame.states.get_input()


class _Api:
    """The API calls about Map Runs and their children, answered from :class:`MapRuns`."""

    def __init__(self, runs: MapRuns) -> None:
        self.runs = runs
        self.original_list: Callable[[StepFunctionResponse], ActionResult] = (
            StepFunctionResponse.list_executions
        )
        self.original_describe: Callable[[StepFunctionResponse], ActionResult] = (
            StepFunctionResponse.describe_execution
        )

    def install(self, stack: ExitStack) -> None:
        for name in (
            "describe_map_run",
            "list_map_runs",
            "update_map_run",
            "list_executions",
            "describe_execution",
        ):
            # A plain function (bound to this object), so moto calls it as a method.
            stack.enter_context(replace(StepFunctionResponse, name, self._handler(name)))

    def _handler(self, name: str) -> Callable[[StepFunctionResponse], Any]:
        method: Callable[[StepFunctionResponse], Any] = getattr(self, name)

        def handle(response: StepFunctionResponse) -> Any:
            return method(response)

        return handle

    def describe_map_run(self, response: StepFunctionResponse) -> ActionResult:
        record = self.runs.run(_param(response, "mapRunArn"))
        answer: dict[str, Any] = dict(record.describe())
        answer["executionCounts"] = self.runs.execution_counts(record.map_run_arn)
        answer["itemCounts"] = {
            **record.item_counter.describe(),
            "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        }
        answer["redriveCount"] = 0
        return ActionResult(answer)

    def list_map_runs(self, response: StepFunctionResponse) -> ActionResult:
        execution_arn = _param(response, "executionArn")
        # moto's own checks: InvalidArn, ExecutionDoesNotExist.
        response.stepfunction_backend.describe_execution(execution_arn)
        items = [run.list_item() for run in self.runs.runs_of(execution_arn)]
        listed, token = page(
            items,
            {"executionArn": execution_arn},
            _param(response, "maxResults"),
            _param(response, "nextToken"),
        )
        answer: dict[str, Any] = {"mapRuns": listed}
        if token is not None:
            answer["nextToken"] = token
        return ActionResult(answer)

    def update_map_run(self, response: StepFunctionResponse) -> EmptyResult:
        record = self.runs.run(_param(response, "mapRunArn"))
        max_concurrency = _param(response, "maxConcurrency")
        count = _param(response, "toleratedFailureCount")
        percentage = _param(response, "toleratedFailurePercentage")
        _check_update(max_concurrency, count, percentage)
        record.update(
            max_concurrency=None if max_concurrency is None else int(max_concurrency),
            tolerated_failure_count=None if count is None else int(count),
            tolerated_failure_percentage=None if percentage is None else float(percentage),
        )
        return EmptyResult()

    def list_executions(self, response: StepFunctionResponse) -> ActionResult:
        machine = _param(response, "stateMachineArn")
        map_run_arn = _param(response, "mapRunArn")
        redrive = _param(response, "redriveFilter")
        if redrive is not None and redrive not in _REDRIVE_FILTERS:
            raise _validation(
                f"Value '{redrive}' at 'redriveFilter' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(_REDRIVE_FILTERS)}]"
            )
        if not machine and not map_run_arn:
            raise _validation("Must provide a StateMachine ARN or MapRun ARN")
        if machine and map_run_arn:
            raise _validation("Must provide either a StateMachine ARN or a MapRun ARN, not both")
        if machine:
            if redrive == "REDRIVEN":
                # Nothing is ever redriven here (moto has no RedriveExecution).
                return ActionResult({"executions": []})
            return self.original_list(response)
        return self._list_children(response, map_run_arn, redrive)

    def _list_children(
        self, response: StepFunctionResponse, map_run_arn: str, redrive: str | None
    ) -> ActionResult:
        self.runs.run(map_run_arn)
        status = _param(response, "statusFilter")
        children = sorted(
            self.runs.children_of(map_run_arn), key=lambda child: child.start_date, reverse=True
        )
        items: Iterator[ChildExecution] = iter(children)
        if status is not None:
            items = (child for child in items if child.status == status)
        if redrive == "REDRIVEN":
            items = iter(())
        listed, token = page(
            [child.list_item() for child in items],
            {"mapRunArn": map_run_arn, "statusFilter": status, "redriveFilter": redrive},
            _param(response, "maxResults"),
            _param(response, "nextToken"),
        )
        answer: dict[str, Any] = {"executions": listed}
        if token is not None:
            answer["nextToken"] = token
        return ActionResult(answer)

    def describe_execution(self, response: StepFunctionResponse) -> ActionResult:
        child = self.runs.child(_param(response, "executionArn"))
        if child is None:
            return self.original_describe(response)
        return ActionResult(child.describe())


def install(stack: ExitStack) -> MapRuns:
    """Answer Map Runs and their children as AWS does until ``stack`` closes."""
    runs = MapRuns()
    _Interpreter(runs).install(stack)
    _Api(runs).install(stack)
    return runs


__all__ = [
    "EXCEEDED",
    "ChildExecution",
    "MapRuns",
    "check_arn",
    "exceeds_threshold",
    "install",
    "page",
]
