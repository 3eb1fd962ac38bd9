"""What the console shows, read through public AWS APIs only.

Why this exists: the console must show the same things on the local runtime and on AWS, so it
reads only what any boto3 client with read rights can: Step Functions (``ListStateMachines``,
``DescribeStateMachine``, ``ListExecutions``, ``DescribeExecution``,
``GetExecutionHistory``), SageMaker's ``DescribeEndpoint``, CloudWatch's ``GetMetricData``,
X-Ray's ``BatchGetTraces``, S3's ``GetObject`` (an evaluation's report) and the product's own
records in DynamoDB through their readers (:class:`~maas.endpoints.EndpointRegistry`,
:class:`~maas.registry.versions.ModelRegistry`,
:class:`~maas.evaluation.store.EvaluationStore`). Nothing here writes.

Every tenant's things are read: the console is an operator's view (docs/console.md says who
may open it).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maas.aws import error_code, split_s3_uri
from maas.cli.traces import fetch_waterfall
from maas.endpoints.records import EndpointRegistry
from maas.evaluation.report import read_summary
from maas.evaluation.store import EvaluationStore
from maas.events import read_event_log
from maas.exceptions import NotFound
from maas.executions import HISTORY_PAGE_SIZE, ExecutionSnapshot, read_execution
from maas.observability.catalogue import DIMENSIONS, endpoint_metric
from maas.registry.versions import ModelRegistry
from maas.workflows import TENANT_SEPARATOR
from schemas.common import TenantId

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.cli.traces import Waterfall
    from maas.evaluation.report import ReportSummary
    from schemas import EndpointRecord
    from schemas.evaluation import EvaluationRecord
    from schemas.packaging import ModelVersionRecord

#: The statuses ``ListExecutions`` filters by
#: (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html).
ExecutionStatus = Literal[
    "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"
]
#: Statuses a redrive applies to
#: (https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html).
REDRIVABLE: Final = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
#: The most executions one list shows, newest first.
MAX_LISTED: Final = 1000
#: The figures each endpoint's sparklines draw, by catalogue name.
SPARKLINE_METRICS: Final = ("Invocations", "ModelLatency", "ConcurrentRequestsPerModel")
#: How far back the events page reads the event log.
EVENT_HOURS: Final = 24
#: An execution ARN: ``arn:<partition>:states:<region>:<account>:execution:<machine>:<name>``.
_EXECUTION_ARN: Final = re.compile(r"arn:[\w-]+:states:[\w-]+:\d{12}:execution:[^\s:\"]+:[^\s:\"]+")


class ExecutionFilters(BaseModel):
    """The executions list's filters, from its query string (an empty field filters nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    workflow: str | None = Field(default=None, max_length=80, description="A state machine name.")
    status: ExecutionStatus | None = None
    tenant: TenantId | None = Field(
        default=None, description="Executions named <tenant>_... (the product names them so)."
    )
    since: datetime | None = Field(default=None, description="Started at or after (UTC).")
    until: datetime | None = Field(default=None, description="Started before (UTC).")

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # A browser's datetime-local field has no zone: the console's times are UTC.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class EventFilters(BaseModel):
    """The events page's filters (an empty field filters nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    type: str | None = Field(default=None, max_length=128, description="A detail-type.")
    tenant: TenantId | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


@dataclass(frozen=True)
class StateMachine:
    """A state machine and, once described, its definition."""

    name: str
    arn: str
    type: str
    definition: dict[str, Any] = field(default_factory=dict)
    definition_text: str = ""


@dataclass(frozen=True)
class ExecutionItem:
    """A row of the executions list."""

    workflow: str
    name: str
    arn: str
    status: str
    started_at: datetime
    stopped_at: datetime | None

    @property
    def tenant(self) -> str | None:
        """The tenant the name starts with, if it follows the product's naming."""
        return tenant_of(self.name)


@dataclass(frozen=True)
class ExecutionDetail:
    """One execution: its description, path, history, children and what it produced."""

    machine: StateMachine
    description: dict[str, Any]
    snapshot: ExecutionSnapshot
    events: list[dict[str, Any]]
    children: list[str]
    evaluations: list[EvaluationRecord]
    local: bool

    @property
    def redrive_command(self) -> str | None:
        """The AWS CLI's redrive of this execution, when its status allows one."""
        if self.snapshot.status not in REDRIVABLE:
            return None
        return f"aws stepfunctions redrive-execution --execution-arn {self.snapshot.arn}"


@dataclass(frozen=True)
class EndpointItem:
    """An endpoint: its record, SageMaker's view of it and its figures over the last hour."""

    record: EndpointRecord
    status: str | None
    current_instances: int | None
    desired_instances: int | None
    series: dict[str, list[float]]


@dataclass(frozen=True)
class VersionItem:
    """A model version with what came of it: endpoints that serve it, its evaluations."""

    record: ModelVersionRecord
    endpoints: list[EndpointRecord]
    evaluations: list[EvaluationRecord]


def tenant_of(execution_name: str) -> str | None:
    """The tenant an execution's name starts with (``<tenant>_...``), else None.

    Examples
    --------
    >>> tenant_of("acme_0f3a9c"), tenant_of("acme_0f3a9c-deploy"), tenant_of("demo-45accbaf")
    ('acme', 'acme', None)
    """
    tenant, separator, _ = execution_name.partition(TENANT_SEPARATOR)
    return tenant if separator and tenant else None


def machine_of(execution_arn: str) -> tuple[str, str]:
    """The state machine's name and the execution's name in an execution ARN.

    Examples
    --------
    >>> machine_of("arn:aws:states:us-east-1:123456789012:execution:maas-teardown:acme_1")
    ('maas-teardown', 'acme_1')
    """
    *_, machine, name = execution_arn.split(":")
    return machine, name


class ConsoleData:
    """Reads for the console's pages.

    Parameters
    ----------
    client
        Makes a boto3 client for a service (the local runtime's, or :func:`maas.aws.client`).
    endpoints_table, models_table
        The product's DynamoDB tables; without them the endpoints and models pages say so.
    event_log_group
        The log group a rule copies every ``maas`` event to (the foundation's ``EventLog``).
    local
        Whether this is the local runtime (it cannot redrive, which the execution page says).
    clock
        The current time (a test's fixed moment).
    """

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        endpoints_table: str | None,
        models_table: str | None,
        event_log_group: str | None = None,
        local: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._make_client = client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.endpoints_table = endpoints_table
        self.models_table = models_table
        self.event_log_group = event_log_group
        self.local = local
        self._clock = clock

    def client(self, service: str) -> Any:
        """One client per service, made on first use (boto3 clients are thread-safe)."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._make_client(service)
            return self._clients[service]

    # -- workflows -------------------------------------------------------------------

    def state_machines(self) -> list[StateMachine]:
        """Every state machine of the account and region, by name."""
        machines: list[StateMachine] = []
        for page in self.client("stepfunctions").get_paginator("list_state_machines").paginate():
            machines += [
                StateMachine(item["name"], item["stateMachineArn"], item.get("type", ""))
                for item in page["stateMachines"]
            ]
        return sorted(machines, key=lambda machine: machine.name)

    def state_machine(self, name: str) -> StateMachine:
        """The state machine ``name`` with its definition; :class:`NotFound` if none."""
        found = next((machine for machine in self.state_machines() if machine.name == name), None)
        if found is None:
            raise NotFound(f"no workflow named {name!r}")
        described = self.client("stepfunctions").describe_state_machine(stateMachineArn=found.arn)
        text = described.get("definition") or "{}"
        try:
            definition = json.loads(text)
        except json.JSONDecodeError:
            definition = {}
        return StateMachine(found.name, found.arn, found.type, definition, text)

    # -- executions ------------------------------------------------------------------

    def executions(self, filters: ExecutionFilters) -> tuple[list[ExecutionItem], bool]:
        """The executions that pass ``filters``, newest first, and whether some were left out.

        Raises :class:`NotFound` when ``filters.workflow`` names no state machine.
        """
        machines = self.state_machines()
        if filters.workflow is not None:
            machines = [machine for machine in machines if machine.name == filters.workflow]
            if not machines:
                raise NotFound(f"no workflow named {filters.workflow!r}")
        items: list[ExecutionItem] = []
        paginator = self.client("stepfunctions").get_paginator("list_executions")
        for machine in machines:
            arguments: dict[str, Any] = {"stateMachineArn": machine.arn}
            if filters.status is not None:
                arguments["statusFilter"] = filters.status
            # Pages come newest first: once one is older than the window, the rest are too.
            for page in paginator.paginate(**arguments):
                for execution in page["executions"]:
                    item = ExecutionItem(
                        machine.name,
                        execution["name"],
                        execution["executionArn"],
                        execution["status"],
                        execution["startDate"],
                        execution.get("stopDate"),
                    )
                    if _passes(item, filters):
                        items.append(item)
                oldest = page["executions"][-1]["startDate"] if page["executions"] else None
                if filters.since is not None and oldest is not None and oldest < filters.since:
                    break
        items.sort(key=lambda item: item.started_at, reverse=True)
        return items[:MAX_LISTED], len(items) > MAX_LISTED

    def execution(self, workflow: str, name: str) -> ExecutionDetail:
        """The execution ``name`` of the workflow ``workflow``; :class:`NotFound` if none."""
        machine = self.state_machine(workflow)
        arn = f"{machine.arn.replace(':stateMachine:', ':execution:')}:{name}"
        stepfunctions = self.client("stepfunctions")
        try:
            description = stepfunctions.describe_execution(executionArn=arn)
        except Exception as exc:
            if error_code(exc) not in {"ExecutionDoesNotExist", "InvalidArn"}:
                raise
            raise NotFound(f"no execution named {name!r} of {workflow!r}") from exc
        # The snapshot derives each state's status; the history is also read whole for the
        # table, the states' input and output and the children (maas.executions keeps it).
        snapshot = read_execution(stepfunctions, arn)
        events = self._history(arn)
        return ExecutionDetail(
            machine=machine,
            description=description,
            snapshot=snapshot,
            events=events,
            children=_children(events),
            evaluations=self._evaluations_of(name),
            local=self.local,
        )

    def _history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {"executionArn": arn, "maxResults": HISTORY_PAGE_SIZE}
        while True:
            page = self.client("stepfunctions").get_execution_history(**arguments)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            arguments["nextToken"] = page["nextToken"]

    def _evaluations_of(self, execution_name: str) -> list[EvaluationRecord]:
        # An evaluation's record names the execution that ran it (its correlation id).
        if self.models_table is None:
            return []
        tenant = tenant_of(execution_name)
        if tenant is None:
            candidates = [
                record for each in self.tenants() for record in self._evaluations().list(each)
            ]
        else:
            candidates = self._evaluations().list(tenant)
        return [record for record in candidates if record.correlation_id == execution_name]

    # -- endpoints, versions, evaluations ----------------------------------------------

    def tenants(self) -> list[str]:
        """Every tenant with a record in the endpoints or models table."""
        found: set[str] = set()
        for table in (self.endpoints_table, self.models_table):
            if table is None:
                continue
            paginator = self.client("dynamodb").get_paginator("scan")
            for page in paginator.paginate(TableName=table, ProjectionExpression="pk"):
                found.update(
                    item["pk"]["S"].removeprefix("TENANT#")
                    for item in page["Items"]
                    if item.get("pk", {}).get("S", "").startswith("TENANT#")
                )
        return sorted(found)

    def endpoints(self, tenant: str | None = None) -> list[EndpointItem]:
        """The endpoints of ``tenant`` (every tenant's when None), with status and figures."""
        if self.endpoints_table is None:
            return []
        registry = EndpointRegistry(self.endpoints_table, self.client("dynamodb"))
        records = registry.tenant_records(tenant) if tenant else registry.list_records()
        records.sort(key=lambda record: (record.tenant_id, record.endpoint_name))
        return [self._endpoint(record) for record in records]

    def _endpoint(self, record: EndpointRecord) -> EndpointItem:
        try:
            described = self.client("sagemaker").describe_endpoint(
                EndpointName=record.sagemaker_endpoint_name
            )
        except Exception as exc:
            # SageMaker's answer for an endpoint it does not hold (deleted, or never made).
            if error_code(exc) != "ValidationException":
                raise
            described = {}
        variant: dict[str, Any] = next(
            (
                item
                for item in described.get("ProductionVariants") or []
                if item.get("VariantName") == record.variant_name
            ),
            {},
        )
        return EndpointItem(
            record=record,
            status=described.get("EndpointStatus"),
            current_instances=variant.get("CurrentInstanceCount"),
            desired_instances=variant.get("DesiredInstanceCount"),
            series=self.metric_series(record) if described else {},
        )

    def metric_series(
        self, record: EndpointRecord, *, window: timedelta = timedelta(hours=1), period: int = 60
    ) -> dict[str, list[float]]:
        """Each of :data:`SPARKLINE_METRICS` per ``period`` over ``window``, oldest first."""
        end = self._clock()
        queries = {
            f"m{index}": endpoint_metric(name) for index, name in enumerate(SPARKLINE_METRICS)
        }
        dimensions = [
            {"Name": name, "Value": value}
            for name, value in zip(
                DIMENSIONS, (record.sagemaker_endpoint_name, record.variant_name), strict=True
            )
        ]
        arguments: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": metric.namespace,
                            "MetricName": metric.name,
                            "Dimensions": dimensions,
                        },
                        "Period": period,
                        "Stat": metric.statistics[0],
                    },
                }
                for query_id, metric in queries.items()
            ],
            "StartTime": end - window,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        points: dict[str, list[tuple[datetime, float]]] = {name: [] for name in SPARKLINE_METRICS}
        while True:
            response = self.client("cloudwatch").get_metric_data(**arguments)
            for result in response["MetricDataResults"]:
                name = queries[result["Id"]].name
                points[name] += zip(
                    result.get("Timestamps", []), result.get("Values", []), strict=False
                )
            if not response.get("NextToken"):
                break
            arguments["NextToken"] = response["NextToken"]
        return {name: [value for _, value in sorted(found)] for name, found in points.items()}

    def versions(self, tenant: str | None = None) -> list[VersionItem]:
        """Every model version of ``tenant`` (of every tenant when None), with its lineage."""
        if self.models_table is None:
            return []
        registry = ModelRegistry(self.models_table, self.client("dynamodb"))
        items: list[VersionItem] = []
        for each in [tenant] if tenant else self.tenants():
            endpoints = self._tenant_endpoints(each)
            evaluations = self._evaluations().list(each)
            for record in registry.tenant_versions(each):
                items.append(
                    VersionItem(
                        record=record,
                        endpoints=[
                            endpoint
                            for endpoint in endpoints
                            if _serves(endpoint, record.model_name, record.version)
                        ],
                        evaluations=[
                            evaluation
                            for evaluation in evaluations
                            if evaluation.model_id == record.model_name
                            and evaluation.model_version == str(record.version)
                        ],
                    )
                )
        return items

    def _tenant_endpoints(self, tenant: str) -> list[EndpointRecord]:
        if self.endpoints_table is None:
            return []
        return EndpointRegistry(self.endpoints_table, self.client("dynamodb")).tenant_records(
            tenant
        )

    def _evaluations(self) -> EvaluationStore:
        if self.models_table is None:
            raise NotFound("no models table: evaluations are not known here")
        return EvaluationStore(self.models_table, self.client("dynamodb"))

    def evaluation(self, tenant: str, evaluation_id: str) -> EvaluationRecord:
        """The evaluation's record; :class:`NotFound` if none."""
        return self._evaluations().get(tenant, evaluation_id)

    def report_html(self, tenant: str, evaluation_id: str) -> bytes:
        """The evaluation's HTML report as the evaluation wrote it; :class:`NotFound` if none."""
        record = self.evaluation(tenant, evaluation_id)
        if record.report_uri is None:
            raise NotFound(f"evaluation {evaluation_id!r} has no report yet")
        bucket, key = split_s3_uri(record.report_uri)
        try:
            body: bytes = self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            if error_code(exc) not in {"NoSuchKey", "NoSuchBucket", "404"}:
                raise
            raise NotFound(f"no report at {record.report_uri}") from exc
        return body

    def report_summary(self, record: EvaluationRecord) -> ReportSummary | None:
        """The evaluation's JSON summary (for its samples' traces), if it has one."""
        if record.summary_uri is None:
            return None
        try:
            return read_summary(record.summary_uri, s3_client=self.client("s3"))
        except NotFound:
            return None

    def events(self, *, hours: int = EVENT_HOURS) -> list[dict[str, Any]]:
        """The bus's events of the last ``hours`` as the event log holds them, newest first."""
        if self.event_log_group is None:
            return []
        since = self._clock() - timedelta(hours=hours)
        try:
            events = read_event_log(
                self.client("logs"),
                self.event_log_group,
                since_ms=int(since.timestamp() * 1000),
            )
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            return []  # no event published yet: the log group is made by the first
        return events[::-1]

    def trace(self, trace_id: str) -> Waterfall:
        """The X-Ray trace as a waterfall; :class:`NotFound` if X-Ray has none."""
        found = fetch_waterfall(self.client("xray"), trace_id)
        if found is None:
            raise NotFound(f"no trace {trace_id!r}")
        return found


def _passes(item: ExecutionItem, filters: ExecutionFilters) -> bool:
    if filters.tenant is not None and item.tenant != filters.tenant:
        return False
    if filters.since is not None and item.started_at < filters.since:
        return False
    return filters.until is None or item.started_at < filters.until


def _serves(endpoint: EndpointRecord, model_name: str, version: int) -> bool:
    # A registered version is deployed as the reference its record resolves to (model name).
    return endpoint.model.model_id == model_name and endpoint.model.version == str(version)


def event_details(event: dict[str, Any]) -> dict[str, Any]:
    """A history event's details (its ``<type>EventDetails`` field), or an empty dict."""
    details: Any = next((value for key, value in event.items() if key.endswith("EventDetails")), {})
    return details if isinstance(details, dict) else {}


def _children(events: list[dict[str, Any]]) -> list[str]:
    """The executions a ``states:startExecution`` task started, in the order they started."""
    found: list[str] = []
    for event in events:
        details = event_details(event)
        if details.get("resourceType") != "states":
            continue
        # A child that succeeded is named in the task's output, one that failed in its cause.
        text = f"{details.get('output', '')} {details.get('cause', '')}"
        for arn in _EXECUTION_ARN.findall(text):
            if arn not in found:
                found.append(arn)
    return found


__all__ = [
    "EVENT_HOURS",
    "MAX_LISTED",
    "REDRIVABLE",
    "SPARKLINE_METRICS",
    "ConsoleData",
    "EndpointItem",
    "EventFilters",
    "ExecutionDetail",
    "ExecutionFilters",
    "ExecutionItem",
    "StateMachine",
    "VersionItem",
    "event_details",
    "machine_of",
    "tenant_of",
]
