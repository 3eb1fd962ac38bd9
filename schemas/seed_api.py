"""Bodies of the original API (``shared/reference/seed_openapi_v1.1.yaml``), as its clients send
and read them: camelCase requests, SageMaker's PascalCase in answers.

The requests tolerate unknown fields, as the original did; every field is optional in the
original document, and the answers leave out what is not known yet (an endpoint being
created has no ARN).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from schemas.common import EndpointName
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


#: A model's name as the original's clients send it: in any case (its Postman collection sends
#: ``GLM-4-9B-Chat``; its document has no pattern), read as the registry's lower-case name.
SeedModelName = Annotated[
    str,
    StringConstraints(max_length=48, pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,47}$"),
    AfterValidator(str.lower),
    Field(
        description="The registry's name of a model, in any case (read in lower case): "
        "letters, digits and hyphens, 1 to 48 characters.",
        examples=["glm-4-9b-chat"],
    ),
]


class CreateInstanceRequest(BaseModel):
    """Deploy a model of the registry (its latest approved version) on a new endpoint.

    The endpoint's name is ``instanceName``, or ``endpointName`` as the original's Postman
    collection sends it; one of them is required.
    """

    model_config = _REQUEST

    instanceName: EndpointName | None = Field(  # noqa: N815 - the original contract's spelling
        default=None, description="The endpoint's name (required unless endpointName is sent)."
    )
    endpointName: EndpointName | None = Field(  # noqa: N815
        default=None,
        description="The endpoint's name, as the v1.1 Postman collection sends it; the same "
        "as instanceName if both are sent.",
    )
    instanceType: InstanceType | None = Field(  # noqa: N815
        default=None, description="Defaults to the version's recommended instance type."
    )
    modelName: SeedModelName  # noqa: N815


class UpdateInstanceRequest(BaseModel):
    """Move an endpoint to an endpoint configuration."""

    model_config = _REQUEST

    endpointConfigName: EndpointName  # noqa: N815


class ContainerDefinition(BaseModel):
    """A model's serving container and artifact."""

    model_config = ConfigDict(extra="ignore")

    Image: str | None = unknown()
    # An example, so that the document's example of POST /models is one the API takes.
    ModelDataUrl: str | None = Field(
        default=None,
        exclude_if=_is_unknown,
        examples=["s3://maas-artifacts-bucket-123456789012/acme/uploads/glm-4-9b-chat/"],
    )


class CreateModelRequest(BaseModel):
    """Register a model by packaging the artifact at ``primaryContainer.ModelDataUrl``."""

    model_config = _REQUEST

    modelName: SeedModelName  # noqa: N815
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
