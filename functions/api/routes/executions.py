"""``/v1/executions``: a workflow a request started, its status and the path it took."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import services, tenant_of
from maas.events import read_event_log
from maas.executions import ExecutionSnapshot
from schemas.api import ExecutionView, StateVisitView, Workflow

router = APIGatewayRouter()


@router.get(
    "/executions/<workflow>/<name>", summary="Follow a workflow execution", tags=["Executions"]
)
def describe_execution(
    workflow: Annotated[Workflow, Path(description="The workflow, as status_url names it.")],
    name: Annotated[
        str,
        Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_-]+$", description="Its name."),
    ],
) -> ExecutionView:
    """Its status, output or error, and every state it entered, with timings and retries."""
    tenant = tenant_of(router)
    snapshot = services(tenant).workflows.read(tenant, workflow, name)
    return ExecutionView(
        workflow=workflow,
        execution_name=snapshot.name,
        execution_arn=snapshot.arn,
        status=snapshot.status,
        started_at=snapshot.started_at,
        stopped_at=snapshot.stopped_at,
        error=snapshot.error,
        cause=snapshot.cause,
        output=snapshot.output,
        path=[
            StateVisitView(
                name=visit.name,
                state_type=visit.state_type,
                status=visit.status.value,
                entered_at=visit.entered_at,
                exited_at=visit.exited_at,
                seconds=visit.seconds,
                attempts=visit.attempts,
                error=visit.error,
                cause=visit.cause,
            )
            for visit in snapshot.visits
        ],
        events=_published(tenant, snapshot),
    )


#: Events are read from the event log a little past the execution's end: a rule copies them
#: there asynchronously.
_LOG_DELAY_MS = 60_000


def _published(tenant: str, snapshot: ExecutionSnapshot) -> list[dict[str, Any]]:
    """The events the execution (or a child named after it) published for the tenant."""
    found = services(tenant)
    since = int(snapshot.started_at.timestamp() * 1000) - 1000
    until = (
        int(snapshot.stopped_at.timestamp() * 1000) + _LOG_DELAY_MS if snapshot.stopped_at else None
    )
    events = read_event_log(found.logs, found.event_log_group, since_ms=since, until_ms=until)
    return [event for event in events if _belongs(event, tenant, snapshot.name)]


def _belongs(event: dict[str, Any], tenant: str, name: str) -> bool:
    detail = event.get("detail")
    if not isinstance(detail, dict) or detail.get("tenant_id") != tenant:
        return False
    correlation = str(detail.get("correlation_id") or "")
    return correlation == name or correlation.startswith(f"{name}-")
