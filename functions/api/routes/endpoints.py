"""``/v1/endpoints``: a tenant's endpoints, and the workflows that deploy, change and remove them.

Every change starts a workflow and answers ``202 Accepted``. What can be checked at once is
checked before anything starts, the same way the workflow checks it again
(:mod:`functions.api.checks`): the version to deploy exists and is approved, the instance type
is one of the catalog's, the counts fit the autoscaling bounds, the tenant's quotas hold, the
endpoint exists and its state allows the change.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.checks import check_deployment, check_scaling, check_update
from functions.api.context import complete, paginate, services, start_once, tenant_of
from functions.api.params import ACCEPTED, IdempotencyKey, Limit, NextToken
from functions.api.teardown import start_teardown
from maas.endpoints.records import ALLOWED_TRANSITIONS
from maas.exceptions import Conflict, NotFound
from schemas.api import DEFAULT_PAGE_SIZE, ExecutionAccepted, Page, Workflow
from schemas.common import EndpointName
from schemas.deployment import DeploymentRequest, DeploymentSpec, TeardownRequest
from schemas.endpoint import EndpointRecord, EndpointStatus
from schemas.hours import StartEndpointRequest, StopEndpointRequest
from schemas.scaling import ScaleRequest, ScalingChange
from schemas.update import EndpointChange, UpdateRequest

router = APIGatewayRouter()

Name = Annotated[EndpointName, Path(description="The endpoint's name.")]


@router.get("/", summary="List the tenant's endpoints", tags=["Endpoints"])
def list_endpoints(
    limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> Page[EndpointRecord]:
    """Every endpoint the tenant has, deleted ones included, by name."""
    tenant = tenant_of(router)
    records = services(tenant).endpoints.tenant_records(tenant)
    return paginate(records, lambda record: record.endpoint_name, limit, next_token)


@router.get("/<name>", summary="Describe an endpoint", tags=["Endpoints"])
def describe_endpoint(name: Name) -> EndpointRecord:
    """The endpoint's record: status, model, instances, schedules, SageMaker's latest word."""
    tenant = tenant_of(router)
    return services(tenant).endpoints.get(tenant, name)


@router.post("/", summary="Deploy a model version", tags=["Endpoints"], responses=ACCEPTED)
def create_endpoint(
    body: DeploymentSpec, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``deploy_endpoint``: a registered, approved version on a real-time endpoint."""
    tenant = tenant_of(router)
    request = complete(DeploymentRequest, body, tenant_id=tenant)
    checks = partial(check_deployment, request)
    return start_once(tenant, Workflow.DEPLOY_ENDPOINT, request, idempotency_key, checks=checks)


@router.put("/<name>/scaling", summary="Scale an endpoint", tags=["Endpoints"], responses=ACCEPTED)
def scale_endpoint(
    name: Name, body: ScalingChange, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``scale_endpoint``: a new instance count, new autoscaling, or autoscaling off."""
    tenant = tenant_of(router)
    request = complete(ScaleRequest, body, tenant_id=tenant, endpoint_name=name)

    def checks() -> None:
        _can_become(tenant, name, EndpointStatus.UPDATING)
        check_scaling(request)

    return start_once(tenant, Workflow.SCALE_ENDPOINT, request, idempotency_key, checks=checks)


@router.patch("/<name>", summary="Update an endpoint", tags=["Endpoints"], responses=ACCEPTED)
def update_endpoint(
    name: Name, body: EndpointChange, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``update_endpoint``: another version or instance type, moved to blue/green."""
    tenant = tenant_of(router)
    request = complete(UpdateRequest, body, tenant_id=tenant, endpoint_name=name)

    def checks() -> None:
        _can_become(tenant, name, EndpointStatus.UPDATING)
        check_update(request)

    return start_once(tenant, Workflow.UPDATE_ENDPOINT, request, idempotency_key, checks=checks)


@router.post("/<name>/stop", summary="Stop an endpoint", tags=["Endpoints"], responses=ACCEPTED)
def stop_endpoint(
    name: Name, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``stop_endpoint``: delete the endpoint, keep its model and configuration.

    A stopped endpoint stays stopped: the workflow does nothing.
    """
    tenant = tenant_of(router)
    request = StopEndpointRequest(tenant_id=tenant, endpoint_name=name)
    checks = partial(services(tenant).endpoints.get, tenant, name)
    return start_once(tenant, Workflow.STOP_ENDPOINT, request, idempotency_key, checks=checks)


@router.post(
    "/<name>/start", summary="Start a stopped endpoint", tags=["Endpoints"], responses=ACCEPTED
)
def start_endpoint(
    name: Name, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``start_endpoint``: recreate the endpoint from its kept configuration.

    An endpoint in service stays so: the workflow does nothing.
    """
    tenant = tenant_of(router)
    request = StartEndpointRequest(tenant_id=tenant, endpoint_name=name)
    checks = partial(services(tenant).endpoints.get, tenant, name)
    return start_once(tenant, Workflow.START_ENDPOINT, request, idempotency_key, checks=checks)


@router.delete("/<name>", summary="Tear an endpoint down", tags=["Endpoints"], responses=ACCEPTED)
def delete_endpoint(
    name: Name,
    delete_model: Annotated[bool, Query(description="Delete the SageMaker model as well.")] = True,
    idempotency_key: IdempotencyKey = None,
) -> Response[ExecutionAccepted]:
    """Start ``teardown``: scaling, schedules, alarms, endpoint, configuration and model.

    An endpoint has one teardown at a time: while one runs (or races this request), this
    answers it (``started: false``), whatever the Idempotency-Key; a ``DELETE`` is idempotent
    by itself, and the key is accepted for the clients that send one with every call.
    """
    tenant = tenant_of(router)
    request = TeardownRequest(tenant_id=tenant, endpoint_name=name, delete_model=delete_model)
    return start_teardown(request)


def _can_become(tenant: str, name: str, status: EndpointStatus) -> None:
    """Refuse at once (409) what the workflow would refuse: a change the state forbids."""
    record = services(tenant).endpoints.get(tenant, name)
    if record.status is EndpointStatus.DELETED:
        raise NotFound(f"endpoint {name!r} is deleted")
    if record.status not in ALLOWED_TRANSITIONS[status]:
        raise Conflict(
            f"endpoint {name!r} is {record.status.value}; it cannot become {status.value} "
            "now (wait for the change under way to finish)"
        )
