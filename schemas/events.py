"""Details of the events the control plane publishes on its bus (source ``maas``).

Each detail carries ``tenant_id`` and ``correlation_id`` (the execution name) and the ids of
the resources it is about. Subscribers can rely on the JSON Schemas generated from these.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, Field

from schemas.common import (
    DOCUMENT_CONFIG,
    CorrelationId,
    EndpointName,
    FailureCause,
    TenantId,
)
from schemas.deployment import AutoscalingConfig
from schemas.evaluation import GateVerdict, MetricSummary

EVENT_SOURCE: Final = "maas"


class EventDetail(BaseModel):
    """What every event detail carries."""

    model_config = DOCUMENT_CONFIG

    tenant_id: TenantId
    correlation_id: CorrelationId


class EndpointInService(EventDetail):
    """An endpoint finished deploying, or started again within its hours, and serves requests."""

    endpoint_name: EndpointName
    endpoint_arn: str
    model_id: str
    model_version: str
    model_name: EndpointName
    endpoint_config_name: EndpointName
    instance_type: str
    instance_count: int = Field(ge=1)


class EndpointDeploymentFailed(EventDetail):
    """A deployment failed; whatever it had created was deleted."""

    endpoint_name: EndpointName
    error: str = Field(description="The error name, for example Maas.EndpointFailed.")
    cause: FailureCause
    deleted_resources: list[str] = Field(
        default_factory=list, description="ARNs or names of what the compensation removed."
    )


class EndpointDeleted(EventDetail):
    """An endpoint and what belonged to it were deleted."""

    endpoint_name: EndpointName
    endpoint_config_name: EndpointName
    model_name: EndpointName
    model_deleted: bool


class EndpointScaled(EventDetail):
    """An endpoint's instance count or autoscaling changed, and it is in service again."""

    endpoint_name: EndpointName
    instance_count: int = Field(ge=1, description="The variant's instance count now.")
    previous_instance_count: int = Field(ge=1)
    autoscaling: AutoscalingConfig | None = Field(
        description="The autoscaling now in force; null when the count is fixed."
    )


class EndpointUpdated(EventDetail):
    """A live endpoint serves another model version or instance type, blue/green."""

    endpoint_name: EndpointName
    model_id: str
    model_version: str
    model_name: EndpointName = Field(description="The SageMaker model now served.")
    endpoint_config_name: EndpointName = Field(description="The endpoint configuration now live.")
    instance_type: str
    previous_model_version: str
    previous_endpoint_config_name: EndpointName = Field(
        description="Deleted, with its model, once the update succeeded."
    )
    previous_instance_type: str
    traffic_routing: str = Field(description="ALL_AT_ONCE, CANARY or LINEAR.")


class EndpointStopped(EventDetail):
    """An endpoint was stopped outside its hours: no instances; model and configuration kept."""

    endpoint_name: EndpointName
    model_name: EndpointName = Field(description="Kept, for the next start.")
    endpoint_config_name: EndpointName = Field(description="Kept, for the next start.")


class EndpointHoursFailed(EventDetail):
    """Stopping or starting an endpoint on its hours failed; what was half done was undone."""

    endpoint_name: EndpointName
    operation: Literal["stop", "start"]
    status: str = Field(
        description="What the endpoint's record says now: IN_SERVICE (a stop undone), "
        "STOPPED (a start undone) or FAILED (SageMaker left the endpoint failed)."
    )
    error: str = Field(description="The error name, for example Maas.EndpointFailed.")
    cause: FailureCause


class EndpointUpdateFailed(EventDetail):
    """A change to a live endpoint failed; it still serves as it did before."""

    endpoint_name: EndpointName
    operation: str = Field(description="What was being changed: scale or update.")
    error: str = Field(description="The error name, for example Maas.EndpointFailed.")
    cause: FailureCause


class ModelPackaged(EventDetail):
    """A model version was packaged, uploaded and registered."""

    model_name: str
    version: int = Field(ge=1)
    model_package_arn: str
    artifact_uri: str
    image_uri: str
    instance_type: str = Field(description="The serving-size advisor's recommendation.")
    resolved_revision: str | None = Field(
        default=None, description="The source commit the version was packaged from."
    )
    approval_status: str


class ModelPackagingFailed(EventDetail):
    """Packaging a model version failed; nothing of it is left in S3 or the model registry."""

    model_name: str
    version: int = Field(ge=1)
    error: str = Field(description="The error name, for example Maas.SourceNotFound.")
    cause: FailureCause


class ModelQuantized(ModelPackaged):
    """A quantized version of a model was made from a parent version, measured and registered."""

    parent_version: int = Field(ge=1)
    scheme: str = Field(description="The quantization scheme, for example W8A16.")
    size_ratio: float = Field(gt=0, description="Weight bytes of the new version / the parent's.")
    perplexity_change: float = Field(
        description="Perplexity of the new version on the bundled text / the parent's, minus 1."
    )


class ModelQuantizationFailed(ModelPackagingFailed):
    """Quantizing a model version failed; the new version is FAILED and nothing of it is kept."""

    parent_version: int = Field(ge=1)


class EndpointDeploying(EventDetail):
    """A deployment recorded its endpoint as CREATING and starts creating it."""

    endpoint_name: EndpointName
    model_name: EndpointName
    endpoint_config_name: EndpointName


class LifecycleFailed(EventDetail):
    """A lifecycle stopped at ``stage``; what its deployment had created was torn down."""

    stage: Literal["package", "deploy", "evaluate", "teardown"] = Field(
        description="The child workflow that failed."
    )
    error: str = Field(description="The error name, for example States.TaskFailed.")
    cause: FailureCause


class EvaluationFinished(EventDetail):
    """What the two outcomes of an evaluation carry."""

    evaluation_id: str
    endpoint_name: EndpointName
    model_id: str
    model_version: str
    questions: int = Field(ge=0)
    metrics: list[MetricSummary]
    verdict: GateVerdict
    judge: str | None = Field(default=None, description="The LLM judge, when one was used.")
    judge_parse_failures: int = Field(
        ge=0, description="Judge answers that never parsed; their samples are failed."
    )
    report_uri: str = Field(description="The HTML report in S3.")
    summary_uri: str = Field(description="The JSON summary in S3.")


class EvaluationCompleted(EvaluationFinished):
    """An evaluation scored every question and passed its gate."""


class EvaluationGateFailed(EvaluationFinished):
    """An evaluation missed a threshold; ``verdict.action`` says what followed."""


class EvaluationFailed(EventDetail):
    """An evaluation stopped before its verdict; its record says where."""

    evaluation_id: str
    endpoint_name: EndpointName
    error: str = Field(description="The error name, for example Maas.ValidationError.")
    cause: FailureCause


#: Detail-type -> detail model. The publisher refuses a detail-type that is not here.
class ReconcileFinding(BaseModel):
    """One difference the reconciler found between the registry and SageMaker."""

    model_config = DOCUMENT_CONFIG

    kind: Literal["drifted_record", "stuck_record", "orphan"]
    resource: str = Field(examples=["record/acme/chat", "endpoint-config/chat-1a2b3c4d"])
    detail: str
    action: Literal["repaired", "deleted", "reported"]


class ReconcileReport(EventDetail):
    """What one reconciliation found for this tenant and what it did about it."""

    findings: list[ReconcileFinding] = Field(min_length=1)


EVENT_DETAIL_MODELS: Final[dict[str, type[EventDetail]]] = {
    model.__name__: model
    for model in (
        EndpointInService,
        EndpointDeploymentFailed,
        EndpointDeleted,
        EndpointScaled,
        EndpointUpdated,
        EndpointUpdateFailed,
        EndpointStopped,
        EndpointHoursFailed,
        ModelPackaged,
        ModelPackagingFailed,
        ModelQuantized,
        ModelQuantizationFailed,
        EndpointDeploying,
        LifecycleFailed,
        ReconcileReport,
        EvaluationCompleted,
        EvaluationGateFailed,
        EvaluationFailed,
    )
}
