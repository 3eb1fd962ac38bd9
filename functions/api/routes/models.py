"""``/v1/models`` and ``/v1/packaging-jobs``: the tenant's model registry, and packaging into it.

Every route that starts packaging (here, ``/preparation`` and ``POST /models`` of v1.1, and
lifecycles) checks its request with :func:`check_packaging`: over the API a source is a
Hub model or an S3 prefix of the tenant's own, never a folder of the API's host.
"""

from __future__ import annotations

import os
from functools import partial
from itertools import groupby
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.checks import check_instance_type
from functions.api.context import complete, paginate, services, start_once, tenant_of
from functions.api.params import ACCEPTED, IdempotencyKey, Limit, NextToken
from functions.api.problems import InvalidFields
from maas.exceptions import NotFound
from maas.quantization.steps import check_parent
from maas.registry.packaging_steps import (
    LOCAL_SOURCE_REFUSED,
    check_source,
    plan_registration_retry,
)
from schemas.api import (
    DEFAULT_PAGE_SIZE,
    ExecutionAccepted,
    FieldProblem,
    ModelOverview,
    Page,
    Workflow,
)
from schemas.common import ModelName
from schemas.packaging import (
    LocalSource,
    ModelVersionRecord,
    PackagingRequest,
    PackagingSettings,
    RegistrationRetry,
)
from schemas.quantization import QuantizationOptions, QuantizationRequest

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


@router.post(
    "/models/<model_name>/versions/<version>/registration",
    summary="Register a version again",
    tags=["Models"],
    responses=ACCEPTED,
)
def retry_registration(
    model_name: Model,
    version: Annotated[int, Path(ge=1, description="The version number.")],
    idempotency_key: IdempotencyKey = None,
) -> Response[ExecutionAccepted]:
    """Start ``package_model`` on a ``REGISTRATION_FAILED`` version: its package is complete
    and is registered as it is, without packaging again.

    404 for a version the tenant does not have, 409 for one in another status.
    """
    tenant = tenant_of(router)
    retry = RegistrationRetry(tenant_id=tenant, model_name=model_name, version=version)
    checks = partial(plan_registration_retry, retry, services(tenant).models)
    return start_once(tenant, Workflow.PACKAGE_MODEL, retry, idempotency_key, checks=checks)


@router.post(
    "/models/<model_name>/versions/<version>/quantizations",
    summary="Quantize a version into a new one",
    tags=["Models"],
    responses=ACCEPTED,
)
def create_quantization(
    model_name: Model,
    version: Annotated[int, Path(ge=1, description="The parent version's number.")],
    body: QuantizationOptions,
    idempotency_key: IdempotencyKey = None,
) -> Response[ExecutionAccepted]:
    """Start ``quantize_model``: quantize a REGISTERED version (weight-only, W8A16, W4A16 or
    FP8_DYNAMIC) into the model's next version, whose record carries its lineage and the
    measured change in size and perplexity.

    404 for a version the tenant does not have, 409 for one that is not REGISTERED, 422 for
    settings that do not apply or a version that is itself a quantization.
    """
    tenant = tenant_of(router)
    request = complete(
        QuantizationRequest, body, tenant_id=tenant, model_name=model_name, version=version
    )
    checks = partial(check_parent, request, services(tenant).models)
    return start_once(tenant, Workflow.QUANTIZE_MODEL, request, idempotency_key, checks=checks)


@router.post("/packaging-jobs", summary="Package a model", tags=["Models"], responses=ACCEPTED)
def create_packaging_job(
    body: PackagingSettings, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``package_model``: fetch, convert and upload a model as a new registry version.

    The source is a Hub model or an S3 prefix; in the artifacts bucket only the tenant's own
    (``s3://<artifacts bucket>/<tenant>/...``), and a token secret only the tenant's own
    (``maas/<tenant>/...``). A ``local`` source is refused with 422 on ``source.kind``: it is
    for the CLI and tests, which run the workflow on their own machine.
    """
    tenant = tenant_of(router)
    check_packaging(body, tenant)
    request = complete(PackagingRequest, body, tenant_id=tenant)
    return start_once(tenant, Workflow.PACKAGE_MODEL, request, idempotency_key)


def check_packaging(settings: PackagingSettings, tenant: str, *, field: str = "") -> None:
    """Refuse (422) packaging settings of an API body that name what is not the tenant's to
    package.

    A ``local`` source is a folder of the machine that packages, which over the API is the
    platform's, not the caller's: only the CLI and tests, which run the workflow on their
    own machine, may name one. S3 sources and token secrets are checked as the workflow
    checks them (:func:`check_source`), so the caller hears at once, and so are the
    instance types the advisor is to consider. ``field`` is where the
    settings lie in the body (``package.`` in a lifecycle).
    """
    if isinstance(settings.source, LocalSource):
        raise InvalidFields(
            [
                FieldProblem(
                    field=f"{field}source.kind",
                    message=LOCAL_SOURCE_REFUSED,
                )
            ]
        )
    check_source(
        settings.source, tenant, os.environ["ARTIFACTS_BUCKET_NAME"], field=f"{field}source"
    )
    # The advisor, inside the packaging job, would refuse them only after the download.
    for index, instance_type in enumerate(settings.serving.instance_types or ()):
        check_instance_type(instance_type, field=f"{field}serving.instance_types.{index}")


def _summary(versions: list[ModelVersionRecord]) -> ModelOverview:
    latest = versions[-1]
    return ModelOverview(
        model_name=latest.model_name,
        latest_version=latest.version,
        latest_status=latest.status.value,
        versions=len(versions),
        updated_at=max(version.updated_at for version in versions),
    )
