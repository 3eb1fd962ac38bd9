"""The original API, v1.1 (``/instances``, ``/models``, ``/metrics``, ``/preparation``).

Existing clients call these paths with these shapes; each is served by the same workflows
and registries as the full API:

- an *instance* is an endpoint. Creating one deploys the latest approved version of a model
  of the registry; deleting one tears it down. Both start their workflow and answer at once
  with what is known (an endpoint being created has no ARN yet).
- a *model* is a model of the registry. Creating one packages the artifact at
  ``primaryContainer.ModelDataUrl`` (an ``s3://`` URI) into a new version: the packager
  chooses the serving image and the platform's SageMaker role serves it, so
  ``primaryContainer.Image`` and ``executionRoleArn`` are accepted and not used.
- what the control plane cannot do the original way answers a 4xx saying what to do instead:
  an endpoint is moved only to configurations the control plane builds (``PATCH
  /v1/endpoints/{name}``), and the registry keeps every version of a model (no delete).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any

import pydantic
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.checks import check_deployment, check_instance_type
from functions.api.context import complete, services, start_once, tenant_of
from functions.api.params import ACCEPTED, IdempotencyKey
from functions.api.problems import InvalidFields
from functions.api.routes.models import check_packaging
from functions.api.teardown import start_teardown
from maas.aws import error_code
from maas.endpoints.plan import resolve_model
from maas.exceptions import Conflict, NotFound
from maas.observability.catalogue import INSTANCE_NAMESPACE, endpoint_metric
from maas.tenancy import check_tenant_file
from schemas.api import ExecutionAccepted, FieldProblem, Workflow
from schemas.deployment import DeploymentRequest, RegisteredModel, TeardownRequest
from schemas.endpoint import EndpointRecord, EndpointStatus
from schemas.packaging import (
    ApprovalStatus,
    ModelVersionRecord,
    PackagingRequest,
    PackagingSettings,
    S3Source,
    VersionStatus,
)
from schemas.seed_api import (
    ContainerDefinition,
    CreateInstanceRequest,
    CreateInstanceResponse,
    CreateModelRequest,
    CreateModelResponse,
    InstanceDetails,
    InstanceSummary,
    Message,
    MetricDatapoint,
    ModelDetails,
    ModelSummary,
    ProductionVariant,
    ProductionVariantDetails,
    UpdateInstanceRequest,
    UpdateInstanceResponse,
)

router = APIGatewayRouter()

InstanceName = Annotated[str, Path(description="The endpoint's name.")]
# In any case, as the original took it: the registry's names are lower-case.
ModelNameParameter = Annotated[
    str, Path(description="The model's name in the registry, in any case.")
]

#: How far back ``/metrics`` reads, and the period of each datapoint.
METRICS_WINDOW = timedelta(hours=3)
METRICS_PERIOD_SECONDS = 60

_TAGS = ["v1.1 (original)"]


@router.get("/instances", summary="List instances", tags=_TAGS)
def list_instances() -> list[InstanceSummary]:
    """The tenant's endpoints that are not deleted."""
    tenant = tenant_of(router)
    records = services(tenant).endpoints.tenant_records(tenant)
    return [
        InstanceSummary.model_validate(_details(record).model_dump(include=_SUMMARY_FIELDS))
        for record in records
        if record.status is not EndpointStatus.DELETED
    ]


@router.post("/instances", summary="Create a new instance", tags=_TAGS)
def create_instance(
    body: CreateInstanceRequest, idempotency_key: IdempotencyKey = None
) -> Response[CreateInstanceResponse]:
    """Deploy the model's latest approved version; follow it at the ``Location`` header.

    The endpoint is named by ``instanceName`` or ``endpointName``; the model's name is read
    in any case.
    """
    tenant = tenant_of(router)
    name = _instance_name(body)
    check_instance_type(body.instanceType, field="instanceType")
    version = _latest_approved(tenant, body.modelName)
    request = resolve_model(
        DeploymentRequest(
            tenant_id=tenant,
            endpoint_name=name,
            model=RegisteredModel(model_name=body.modelName, version=version.version),
            instance_type=body.instanceType,
        ),
        services(tenant).models,
    )
    checks = partial(check_deployment, request)
    started = start_once(tenant, Workflow.DEPLOY_ENDPOINT, request, idempotency_key, checks=checks)
    answer = CreateInstanceResponse(
        EndpointName=request.endpoint_name,
        ProductionVariants=[
            ProductionVariant(
                VariantName=request.variant_name,
                InitialInstanceCount=request.instance_count,
                InstanceType=request.instance_type,
            )
        ],
    )
    return Response(200, "application/json", answer, headers=dict(started.headers))


def _instance_name(body: CreateInstanceRequest) -> str:
    """The endpoint's name: ``instanceName``, or ``endpointName`` (the original's collection)."""
    names = {name for name in (body.instanceName, body.endpointName) if name is not None}
    if not names:
        message = "required: the endpoint's name (instanceName, or endpointName)"
        raise InvalidFields([FieldProblem(field="instanceName", message=message)])
    if len(names) > 1:
        message = f"{body.endpointName!r} is not instanceName {body.instanceName!r}: send one name"
        raise InvalidFields([FieldProblem(field="endpointName", message=message)])
    return names.pop()


@router.get("/instances/<instanceName>", summary="Describe an instance", tags=_TAGS)
def describe_instance(instanceName: InstanceName) -> InstanceDetails:  # noqa: N803
    """The endpoint as SageMaker describes it, or as the registry has it before it exists."""
    tenant = tenant_of(router)
    return _details(_live_record(tenant, instanceName))


@router.put("/instances/<instanceName>", summary="Update an instance", tags=_TAGS)
def update_instance(
    instanceName: InstanceName,  # noqa: N803
    body: UpdateInstanceRequest,
) -> UpdateInstanceResponse:
    """Only the endpoint's own configuration is accepted (nothing changes); the control plane
    builds the configurations it moves endpoints to (``PATCH /v1/endpoints/{name}``)."""
    tenant = tenant_of(router)
    record = _live_record(tenant, instanceName)
    if body.endpointConfigName != record.endpoint_config_name:
        raise InvalidFields(
            [
                FieldProblem(
                    field="endpointConfigName",
                    message="not this endpoint's configuration: the control plane builds the "
                    "configurations it moves an endpoint to; to serve another model version "
                    "or instance type, PATCH /v1/endpoints/{name}",
                )
            ]
        )
    return UpdateInstanceResponse(
        EndpointArn=_details(record).EndpointArn, EndpointName=record.endpoint_name
    )


# 200, not 202, as the original contract has it (the answer is the same ExecutionAccepted).
@router.delete("/instances/<instanceName>", summary="Delete an instance", tags=_TAGS)
def delete_instance(
    instanceName: InstanceName,  # noqa: N803
    idempotency_key: IdempotencyKey = None,
) -> Response[ExecutionAccepted]:
    """Tear the endpoint down; follow it at the ``Location`` header."""
    tenant = tenant_of(router)
    try:
        request = TeardownRequest(tenant_id=tenant, endpoint_name=instanceName)
    except pydantic.ValidationError as exc:
        # The path takes any string (the original contract); a name SageMaker refuses is 422.
        message = exc.errors()[0]["msg"]
        raise InvalidFields([FieldProblem(field="instanceName", message=message)]) from None
    # One teardown per endpoint, as DELETE /v1/endpoints/{name} (functions.api.teardown).
    started = start_teardown(request)
    return Response(200, "application/json", started.body, headers=dict(started.headers))


@router.get("/models", summary="List models", tags=_TAGS)
def list_models() -> list[ModelSummary]:
    """The tenant's models, each as its latest version."""
    tenant = tenant_of(router)
    versions = services(tenant).models.tenant_versions(tenant)
    latest: dict[str, list[ModelVersionRecord]] = {}
    for version in versions:
        latest.setdefault(version.model_name, []).append(version)
    return [
        ModelSummary.model_validate(_model_details(group).model_dump(include=_MODEL_FIELDS))
        for group in latest.values()
    ]


@router.post("/models", summary="Create a new model", tags=_TAGS)
def create_model(
    body: CreateModelRequest, idempotency_key: IdempotencyKey = None
) -> Response[CreateModelResponse]:
    """Package the artifact at ``primaryContainer.ModelDataUrl`` as a new version.

    In the artifacts bucket only the tenant's own files may be packaged
    (``s3://<artifacts bucket>/<tenant>/...``); another tenant's answer 422.
    """
    tenant = tenant_of(router)
    uri = body.primaryContainer.ModelDataUrl
    if not uri:
        raise InvalidFields(
            [
                FieldProblem(
                    field="primaryContainer.ModelDataUrl",
                    message="required: the s3:// URI of the model to package",
                )
            ]
        )
    try:
        source = S3Source(uri=uri)
    except pydantic.ValidationError:
        raise InvalidFields(
            [FieldProblem(field="primaryContainer.ModelDataUrl", message="not an s3:// URI")]
        ) from None
    check_tenant_file(
        uri, "primaryContainer.ModelDataUrl", os.environ["ARTIFACTS_BUCKET_NAME"], tenant
    )
    request = PackagingRequest(tenant_id=tenant, model_name=body.modelName, source=source)
    started = start_once(tenant, Workflow.PACKAGE_MODEL, request, idempotency_key)
    answer = CreateModelResponse(ModelName=body.modelName)
    return Response(200, "application/json", answer, headers=dict(started.headers))


@router.get("/models/<modelName>", summary="Describe a model", tags=_TAGS)
def describe_model(modelName: ModelNameParameter) -> ModelDetails:  # noqa: N803
    """The model as its latest version: the serving image and the packaged artifact."""
    tenant = tenant_of(router)
    versions = services(tenant).models.list_versions(tenant, modelName.lower())
    if not versions:
        raise NotFound(f"model: no model {modelName!r} for this tenant")
    return _model_details(versions)


@router.put("/models/<modelName>", summary="Update a model (not supported)", tags=_TAGS)
def update_model(modelName: ModelNameParameter, body: dict[str, Any]) -> Message:  # noqa: N803
    """Versions are immutable; package a new one instead."""
    tenant = tenant_of(router)
    if not services(tenant).models.list_versions(tenant, modelName.lower()):
        raise NotFound(f"model: no model {modelName!r} for this tenant")
    return Message(
        message="Model update not supported: versions are immutable; package a new version "
        "(POST /models or POST /v1/packaging-jobs)"
    )


@router.delete("/models/<modelName>", summary="Delete a model", tags=_TAGS)
def delete_model(modelName: ModelNameParameter) -> dict[str, Any]:  # noqa: N803
    """Refused: the registry keeps every version, the record of what was served."""
    tenant = tenant_of(router)
    if not services(tenant).models.list_versions(tenant, modelName.lower()):
        raise NotFound(f"model: no model {modelName!r} for this tenant")
    raise Conflict(
        f"model {modelName!r}: the registry keeps every version of a model (they record what "
        "was served, and endpoints may serve them); tear its endpoints down instead"
    )


@router.get("/metrics", summary="Get instance metrics", tags=_TAGS)
def get_metrics(
    instanceName: Annotated[str, Query(description="The endpoint's name.")],  # noqa: N803
    metricName: Annotated[  # noqa: N803
        str, Query(description="A metric of the catalogue (GET /metrics lists them on error).")
    ],
) -> list[MetricDatapoint]:
    """The metric's per-minute averages over the last three hours, oldest first."""
    metric = endpoint_metric(metricName)
    tenant = tenant_of(router)
    record = _live_record(tenant, instanceName)
    # The end of the current period, so that the period under way is in the answer too.
    now = datetime.now(UTC).timestamp()
    end = datetime.fromtimestamp(now - now % METRICS_PERIOD_SECONDS + METRICS_PERIOD_SECONDS, UTC)
    response = services(tenant).cloudwatch.get_metric_statistics(
        Namespace=metric.namespace,
        MetricName=metric.name,
        Dimensions=[
            {"Name": "EndpointName", "Value": record.sagemaker_endpoint_name},
            {"Name": "VariantName", "Value": record.variant_name},
        ],
        StartTime=end - METRICS_WINDOW,
        EndTime=end,
        Period=METRICS_PERIOD_SECONDS,
        Statistics=["Average"],
    )
    points = sorted(response.get("Datapoints", []), key=lambda point: point["Timestamp"])
    unit = "Percent" if metric.namespace == INSTANCE_NAMESPACE else metric.unit
    return [
        MetricDatapoint(
            Timestamp=point["Timestamp"],
            Average=point["Average"],
            Unit=point.get("Unit") or unit,
        )
        for point in points
    ]


@router.post("/preparation", summary="Package a model", tags=_TAGS, responses=ACCEPTED)
def create_preparation(
    body: PackagingSettings, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``package_model`` (the original stack's preparation step).

    Checked as ``POST /v1/packaging-jobs`` is: a ``local`` source is refused with 422 on
    ``source.kind``, an S3 source or a token secret of another tenant with 422.
    """
    tenant = tenant_of(router)
    check_packaging(body, tenant)
    request = complete(PackagingRequest, body, tenant_id=tenant)
    return start_once(tenant, Workflow.PACKAGE_MODEL, request, idempotency_key)


_SUMMARY_FIELDS = set(InstanceSummary.model_fields)
_MODEL_FIELDS = set(ModelSummary.model_fields)


def _live_record(tenant: str, endpoint_name: str) -> EndpointRecord:
    record = services(tenant).endpoints.get(tenant, endpoint_name)
    if record.status is EndpointStatus.DELETED:
        raise NotFound(f"endpoint {endpoint_name!r} is deleted")
    return record


def _details(record: EndpointRecord) -> InstanceDetails:
    described = _describe(record.tenant_id, record.sagemaker_endpoint_name)
    if described is None:
        return InstanceDetails(
            EndpointName=record.endpoint_name,
            EndpointStatus=record.status.value,
            EndpointConfigName=record.endpoint_config_name,
            ProductionVariants=[
                ProductionVariantDetails(
                    VariantName=record.variant_name,
                    ModelName=record.model_name,
                    DesiredInstanceCount=record.instance_count,
                    InstanceType=record.instance_type,
                )
            ],
        )
    return InstanceDetails(
        # The tenant's name, by which the contract's clients address the instance; SageMaker's
        # own name of it is derived per tenant and is in the ARN.
        EndpointName=record.endpoint_name,
        EndpointArn=described["EndpointArn"],
        EndpointConfigName=described.get("EndpointConfigName"),
        EndpointStatus=described["EndpointStatus"],
        CreationTime=described.get("CreationTime"),
        LastModifiedTime=described.get("LastModifiedTime"),
        ProductionVariants=[
            ProductionVariantDetails(
                VariantName=variant["VariantName"],
                ModelName=record.model_name,
                CurrentInstanceCount=variant.get("CurrentInstanceCount"),
                DesiredInstanceCount=variant.get("DesiredInstanceCount"),
                InstanceType=record.instance_type,
            )
            for variant in described.get("ProductionVariants", [])
        ],
    )


def _describe(tenant: str, sagemaker_endpoint: str) -> dict[str, Any] | None:
    try:
        return dict(services(tenant).sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint))
    except Exception as exc:
        if error_code(exc) == "ValidationException":
            return None
        raise


def _latest_approved(tenant: str, model_name: str) -> ModelVersionRecord:
    versions = services(tenant).models.list_versions(tenant, model_name)
    if not versions:
        raise NotFound(f"model: no model {model_name!r} for this tenant")
    for version in reversed(versions):
        if (
            version.status is VersionStatus.REGISTERED
            and version.approval_status is ApprovalStatus.APPROVED
        ):
            return version
    raise Conflict(f"model {model_name!r} has no registered, approved version to deploy")


def _model_details(versions: list[ModelVersionRecord]) -> ModelDetails:
    latest = versions[-1]
    return ModelDetails(
        ModelName=latest.model_name,
        ModelArn=latest.model_package_arn,
        CreationTime=versions[0].created_at,
        PrimaryContainer=ContainerDefinition(
            Image=latest.image_uri, ModelDataUrl=latest.artifact_uri
        ),
    )
