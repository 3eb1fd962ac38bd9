"""``/v1/models`` and ``/v1/packaging-jobs``: the tenant's model registry, and packaging into it."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import complete, paginate, services, start_once, tenant_of
from functions.api.params import ACCEPTED, IdempotencyKey, Limit, NextToken
from maas.exceptions import NotFound
from schemas.api import DEFAULT_PAGE_SIZE, ExecutionAccepted, ModelOverview, Page, Workflow
from schemas.common import ModelName
from schemas.packaging import ModelVersionRecord, PackagingRequest, PackagingSettings

router = APIGatewayRouter()

Model = Annotated[ModelName, Path(description="The model's name in the registry.")]


@router.get("/models", summary="List the tenant's models", tags=["Models"])
def list_models(
    limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> Page[ModelOverview]:
    """Every model of the tenant's registry, with its latest version."""
    tenant = tenant_of(router)
    versions = services(tenant).models.tenant_versions(tenant)
    summaries = [
        _summary(list(group)) for _, group in groupby(versions, key=lambda v: v.model_name)
    ]
    return paginate(summaries, lambda summary: summary.model_name, limit, next_token)


@router.get("/models/<model_name>/versions", summary="List a model's versions", tags=["Models"])
def list_versions(
    model_name: Model, limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> Page[ModelVersionRecord]:
    """The model's versions, oldest first."""
    tenant = tenant_of(router)
    versions = services(tenant).models.list_versions(tenant, model_name)
    if not versions:
        raise NotFound(f"model: no model {model_name!r} for this tenant")
    return paginate(versions, lambda version: f"{version.version:010d}", limit, next_token)


@router.get(
    "/models/<model_name>/versions/<version>", summary="Describe a version", tags=["Models"]
)
def describe_version(
    model_name: Model, version: Annotated[int, Path(ge=1, description="The version number.")]
) -> ModelVersionRecord:
    """One version: its status, packaging progress, artifact, image and advisor's report."""
    tenant = tenant_of(router)
    return services(tenant).models.get(tenant, model_name, version)


@router.post("/packaging-jobs", summary="Package a model", tags=["Models"], responses=ACCEPTED)
def create_packaging_job(
    body: PackagingSettings, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``package_model``: fetch, convert and upload a model as a new registry version."""
    tenant = tenant_of(router)
    request = complete(PackagingRequest, body, tenant_id=tenant)
    return start_once(tenant, Workflow.PACKAGE_MODEL, request, idempotency_key)


def _summary(versions: list[ModelVersionRecord]) -> ModelOverview:
    latest = versions[-1]
    return ModelOverview(
        model_name=latest.model_name,
        latest_version=latest.version,
        latest_status=latest.status.value,
        versions=len(versions),
        updated_at=max(version.updated_at for version in versions),
    )
