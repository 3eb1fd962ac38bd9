"""``/v1/lifecycles``: package, deploy and (unless kept) tear down, as one workflow."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.checks import check_instance_type
from functions.api.context import complete, start_once, tenant_of
from functions.api.params import ACCEPTED, IdempotencyKey
from functions.api.routes.models import check_packaging
from maas.workflows import execution_name
from schemas.api import ExecutionAccepted, Workflow
from schemas.lifecycle import LifecycleRequest, LifecycleSpec

router = APIGatewayRouter()


@router.post("/lifecycles", summary="Run a lifecycle", tags=["Lifecycles"], responses=ACCEPTED)
def create_lifecycle(
    body: LifecycleSpec, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``lifecycle``; its children (package, deploy, teardown) are named after it.

    ``package`` is checked as ``POST /v1/packaging-jobs`` checks its body: a ``local``
    source is refused with 422 on ``package.source.kind``. The version to deploy does not
    exist yet, so of ``deployment`` only what stands alone is checked: an instance type not
    in the catalog is a 422 on ``deployment.instance_type``.
    """
    tenant = tenant_of(router)
    check_packaging(body.package, tenant, field="package.")
    check_instance_type(body.deployment.instance_type, field="deployment.instance_type")
    name = execution_name(tenant, Workflow.LIFECYCLE, idempotency_key)
    request = complete(LifecycleRequest, body, tenant_id=tenant, request_id=name)
    return start_once(tenant, Workflow.LIFECYCLE, request, idempotency_key, name=name)
