"""Requests that start the deploy and teardown workflows."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    Tag,
    model_validator,
)

from schemas.common import (
    REQUEST_CONFIG,
    SAGEMAKER_NAME_MAX_LENGTH,
    SAGEMAKER_NAME_PATTERN,
    EndpointName,
    FutureDatetime,
    ModelName,
    S3Uri,
    TenantId,
)
from schemas.hours import OFFICE_HOURS_EXAMPLE, OperatingHours

InstanceType = Annotated[
    str,
    StringConstraints(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$"),
    Field(description="SageMaker hosting instance type.", examples=["ml.g5.2xlarge"]),
]


#: The shortest idle limit: SageMaker's Invocations metric is per minute and reaches
#: CloudWatch a few minutes late, so a shorter limit would judge minutes not yet reported.
IDLE_TIMEOUT_MIN_MINUTES = 5
#: The longest: a CloudWatch alarm evaluates at most a day (EvaluationPeriods x Period).
IDLE_TIMEOUT_MAX_MINUTES = 1440
#: Larger than any instance's accelerator memory (8 x 141 GB on ml.p5en.48xlarge): 10 TB.
MAX_MODEL_DATA_BYTES = 10**13


VariantName = Annotated[
    str,
    StringConstraints(max_length=SAGEMAKER_NAME_MAX_LENGTH, pattern=SAGEMAKER_NAME_PATTERN),
    Field(description="The endpoint's production variant.", examples=["AllTraffic"]),
]


class ModelReference(BaseModel):
    """What to serve: the model's identity, its serving image and its artifact in S3."""

    model_config = REQUEST_CONFIG

    model_id: str = Field(
        min_length=1,
        max_length=256,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="The model's identity, for example a Hugging Face id.",
        examples=["THUDM/glm-4-9b-chat"],
    )
    version: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="The registered version being deployed.",
        examples=["1"],
    )
    image_uri: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+[:@][A-Za-z0-9._:-]+$",
        description="The serving container image (an ECR URI with a tag or digest).",
    )
    model_data_url: S3Uri = Field(description="The packaged artifact (an object or a prefix).")
    environment: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description="Environment variables for the serving container.",
    )
    model_data_bytes: StrictInt | None = Field(
        default=None,
        ge=0,
        le=MAX_MODEL_DATA_BYTES,
        description="The package's weight bytes, which size the endpoint's model-download and "
        "container start-up timeouts; a registered version brings its own. Unknown: the most "
        "the instance's accelerators (or memory) could hold.",
    )


class RegisteredModel(BaseModel):
    """A version from the model registry: its artifact, image and serving configuration."""

    model_config = REQUEST_CONFIG

    model_name: ModelName
    version: StrictInt = Field(ge=1, description="The registered version; it must be Approved.")


def _model_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "registered" if "model_name" in value else "explicit"
    return "registered" if isinstance(value, RegisteredModel) else "explicit"


ModelSelection = Annotated[
    Annotated[ModelReference, Tag("explicit")] | Annotated[RegisteredModel, Tag("registered")],
    Discriminator(_model_kind),
    Field(
        description="A registered version ({model_name, version}), or an explicit image and "
        "artifact."
    ),
]


class ScalingMetric(StrEnum):
    """What target tracking follows."""

    #: In-flight requests per model copy: queueing suits LLM serving best (the default).
    CONCURRENCY = "concurrency"
    #: Invocations per instance per minute: the classic signal, for short uniform requests.
    INVOCATIONS = "invocations"


class AutoscalingConfig(BaseModel):
    """Bounds and target for Application Auto Scaling on the endpoint's variant."""

    model_config = REQUEST_CONFIG

    min_capacity: StrictInt = Field(ge=1, le=100, description="Fewest instances.")
    max_capacity: StrictInt = Field(ge=1, le=100, description="Most instances.")
    target_concurrent_requests: float = Field(
        default=4.0,
        gt=0,
        le=1000,
        description="Target of in-flight requests per model copy "
        "(ConcurrentRequestsPerModel): queueing suits LLM serving better than invocation rates.",
    )
    metric: ScalingMetric = Field(
        default=ScalingMetric.CONCURRENCY,
        description="What target tracking follows: concurrent requests per model (target "
        "target_concurrent_requests) or invocations per instance (target "
        "target_invocations_per_instance).",
    )
    target_invocations_per_instance: float = Field(
        default=60.0,
        gt=0,
        le=100000,
        description="Target of invocations per instance per minute, with metric invocations.",
    )
    scale_in_cooldown_seconds: StrictInt = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: StrictInt = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _bounds_are_ordered(self) -> Self:
        if self.min_capacity > self.max_capacity:
            raise ValueError(
                f"min_capacity ({self.min_capacity}) is above max_capacity ({self.max_capacity})"
            )
        return self


class DeploymentSpec(BaseModel):
    """What to deploy, where, and for how long: a deployment as a tenant asks for it."""

    model_config = REQUEST_CONFIG

    endpoint_name: EndpointName
    model: ModelSelection
    instance_type: InstanceType | None = Field(
        default=None,
        description="Defaults to the registered version's recommended instance type; "
        "required with an explicit model.",
    )
    instance_count: StrictInt = Field(
        default=1, ge=1, le=100, description="Initial instance count."
    )
    variant_name: VariantName = "AllTraffic"
    autoscaling: AutoscalingConfig | None = Field(
        default=None, description="Autoscaling bounds; none keeps the count fixed."
    )
    expires_at: FutureDatetime | None = Field(
        default=None,
        description="Time-to-live: when the endpoint is torn down automatically (ISO 8601 "
        "with a zone).",
    )
    idle_timeout_minutes: StrictInt | None = Field(
        default=None,
        ge=IDLE_TIMEOUT_MIN_MINUTES,
        le=IDLE_TIMEOUT_MAX_MINUTES,
        description="Idle limit: the endpoint is torn down once it has served no invocation "
        f"for this many minutes ({IDLE_TIMEOUT_MIN_MINUTES} to {IDLE_TIMEOUT_MAX_MINUTES}, "
        "a day); none keeps it however idle.",
        examples=[60],
    )
    hours: OperatingHours | None = Field(
        default=None,
        description="On/off hours: cron schedules that stop the endpoint (its model and "
        "configuration kept) and start it again; none keeps it in service.",
        examples=[OFFICE_HOURS_EXAMPLE],
    )

    @model_validator(mode="after")
    def _count_within_bounds(self) -> Self:
        scaling = self.autoscaling
        if scaling and not scaling.min_capacity <= self.instance_count <= scaling.max_capacity:
            raise ValueError(
                f"instance_count ({self.instance_count}) is outside the autoscaling bounds "
                f"[{scaling.min_capacity}, {scaling.max_capacity}]"
            )
        return self


class DeploymentRequest(DeploymentSpec):
    """Deploy a model version on a SageMaker real-time endpoint of a tenant."""

    tenant_id: TenantId


class TeardownRequest(BaseModel):
    """Tear an endpoint down: scaling, schedules, endpoint, configuration, and the model."""

    model_config = REQUEST_CONFIG

    tenant_id: TenantId
    endpoint_name: EndpointName
    delete_model: StrictBool = Field(
        default=True, description="Delete the SageMaker model as well."
    )
