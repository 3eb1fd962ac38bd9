"""``/v1/executions``: a workflow a request started, its status and the path it took."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import services, tenant_of
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
    )
