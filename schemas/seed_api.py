"""Bodies of the original API (``shared/reference/seed_openapi_v1.1.yaml``), as its clients send
and read them: camelCase requests, SageMaker's PascalCase in answers.

The requests tolerate unknown fields, as the original did; every field is optional in the
original document, and the answers leave out what is not known yet (an endpoint being
created has no ARN).
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.common import EndpointName, ModelName
from schemas.deployment import InstanceType

_REQUEST = ConfigDict(extra="ignore")


class _Answer(BaseModel):
    """An answer of the original API."""

    model_config = ConfigDict(extra="forbid")


def _is_unknown(value: Any) -> bool:
    return value is None


def unknown() -> Any:
    """A field's default in an answer: left out when not known, as the original did (its
    document allows no null), rather than sent as null."""
    return Field(default=None, exclude_if=_is_unknown)


class CreateInstanceRequest(BaseModel):
    """Deploy a model of the registry (its latest approved version) on a new endpoint."""

    model_config = _REQUEST

    instanceName: EndpointName  # noqa: N815 - the original contract's spelling
    instanceType: InstanceType | None = Field(  # noqa: N815
        default=None, description="Defaults to the version's recommended instance type."
    )
    modelName: ModelName  # noqa: N815


class UpdateInstanceRequest(BaseModel):
    """Move an endpoint to an endpoint configuration."""

    model_config = _REQUEST

    endpointConfigName: EndpointName  # noqa: N815


class ContainerDefinition(BaseModel):
    """A model's serving container and artifact."""

    model_config = ConfigDict(extra="ignore")

    Image: str | None = unknown()
    ModelDataUrl: str | None = unknown()


class CreateModelRequest(BaseModel):
    """Register a model by packaging the artifact at ``primaryContainer.ModelDataUrl``."""

    model_config = _REQUEST

    modelName: ModelName  # noqa: N815
    primaryContainer: ContainerDefinition  # noqa: N815
    executionRoleArn: str | None = Field(  # noqa: N815
        default=None,
        description="Accepted for compatibility; the platform's own SageMaker role serves "
        "every model, so that no caller can pass a role of its choosing.",
    )


class ProductionVariant(_Answer):
    """A variant as created."""

    VariantName: str
    ModelName: str | None = unknown()
    InitialInstanceCount: int
    InstanceType: str | None = unknown()


class ProductionVariantDetails(_Answer):
    """A variant as it runs."""

    VariantName: str
    ModelName: str | None = unknown()
    CurrentInstanceCount: int | None = unknown()
    DesiredInstanceCount: int | None = unknown()
    InstanceType: str | None = unknown()


class CreateInstanceResponse(_Answer):
    """The endpoint being created."""

    EndpointArn: str | None = unknown()
    EndpointName: str
    EndpointConfigName: str | None = unknown()
    ProductionVariants: list[ProductionVariant]


class InstanceSummary(_Answer):
    """An endpoint in a list."""

    EndpointName: str
    EndpointArn: str | None = unknown()
    CreationTime: AwareDatetime | None = unknown()
    LastModifiedTime: AwareDatetime | None = unknown()
    EndpointStatus: str


class InstanceDetails(InstanceSummary):
    """An endpoint, its configuration and variants."""

    EndpointConfigName: str | None = unknown()
    ProductionVariants: list[ProductionVariantDetails] = Field(default_factory=list)


class UpdateInstanceResponse(_Answer):
    """The endpoint being updated."""

    EndpointArn: str | None = unknown()
    EndpointName: str


class CreateModelResponse(_Answer):
    """The model being registered."""

    ModelArn: str | None = unknown()
    ModelName: str


class ModelSummary(_Answer):
    """A model in a list."""

    ModelName: str
    ModelArn: str | None = unknown()
    CreationTime: AwareDatetime | None = unknown()


class ModelDetails(ModelSummary):
    """A model and its serving container (of its latest version)."""

    PrimaryContainer: ContainerDefinition | None = unknown()
    ExecutionRoleArn: str | None = unknown()


class MetricDatapoint(_Answer):
    """One datapoint of an endpoint metric."""

    Timestamp: AwareDatetime
    Average: float
    Unit: str


class Message(_Answer):
    """A sentence for the caller."""

    message: str
