"""Packaging a model into a registered version: the request, the job, and what it produced.

A :class:`PackagingRequest` starts the ``package_model`` workflow. The workflow allocates a
version and hands the Batch job a :class:`PackagingJob`; the job writes the serving files
and a :class:`PackageManifest` under the version's prefix, and the workflow registers that
manifest as a :class:`ModelVersionRecord`.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from schemas.aws_events import ServiceStatus
from schemas.common import (
    DOCUMENT_CONFIG,
    REQUEST_CONFIG,
    CorrelationId,
    ModelName,
    S3Uri,
    TenantId,
)
from schemas.deployment import InstanceType
from schemas.lineage import VersionLineage

HuggingFaceModelId = Annotated[
    str,
    StringConstraints(
        max_length=96, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$"
    ),
    Field(description="A Hugging Face model id, owner/name.", examples=["THUDM/glm-4-9b-chat"]),
]


class HuggingFaceSource(BaseModel):
    """A model on the Hugging Face Hub, at a branch, tag or commit."""

    model_config = REQUEST_CONFIG

    kind: Literal["huggingface"] = "huggingface"
    model_id: HuggingFaceModelId
    revision: str = Field(
        default="main",
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="Branch, tag or commit; the job pins it to the commit it resolves to.",
    )
    token_secret_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
        description="A Secrets Manager secret holding a Hub token, for gated models.",
    )


class S3Source(BaseModel):
    """A model already in S3: a prefix with a Hugging Face folder, or one GGUF object."""

    model_config = REQUEST_CONFIG

    kind: Literal["s3"] = "s3"
    uri: S3Uri


class LocalSource(BaseModel):
    """A directory or a GGUF file on the packaging machine, for offline use.

    Only for the CLI and tests, which run the workflow on their own machine: the HTTP API
    refuses it (422 on ``source.kind``), as the packaging machine there is the platform's.
    """

    model_config = REQUEST_CONFIG

    kind: Literal["local"] = "local"
    path: str = Field(min_length=1, max_length=4096, pattern=r"^/", description="Absolute path.")


ModelSource = Annotated[HuggingFaceSource | S3Source | LocalSource, Field(discriminator="kind")]


class ServingPreferences(BaseModel):
    """What the serving-size advisor optimises the package's serving configuration for."""

    model_config = REQUEST_CONFIG

    context_tokens: StrictInt = Field(default=4096, ge=128, le=1_048_576)
    prompt_tokens: StrictInt = Field(default=512, ge=1, le=1_048_576)
    concurrent_requests: StrictInt = Field(default=8, ge=1, le=4096)
    preference: Literal["cost", "latency"] = "cost"
    instance_types: list[InstanceType] | None = Field(
        default=None, description="Consider only these instance types."
    )


class ApprovalStatus(StrEnum):
    """A model package's approval, as SageMaker names it: only approved versions deploy."""

    APPROVED = "Approved"
    PENDING = "PendingManualApproval"
    REJECTED = "Rejected"


class PackagingSettings(BaseModel):
    """What to package and how: a packaging request without its tenant (a lifecycle's part)."""

    model_config = REQUEST_CONFIG

    model_name: ModelName | None = None
    source: ModelSource
    serving: ServingPreferences = Field(default_factory=ServingPreferences)
    approval_status: Literal[ApprovalStatus.APPROVED, ApprovalStatus.PENDING] = (
        ApprovalStatus.PENDING
    )
    description: str | None = Field(default=None, max_length=1024)


class PackagingRequest(PackagingSettings):
    """Package a model for SageMaker and register it as a new version."""

    tenant_id: TenantId


class RegistrationRetry(BaseModel):
    """Register again a version whose package is complete but whose registration failed.

    Starts ``package_model`` on the version (``REGISTRATION_FAILED``): it skips packaging
    and registers the package already under the version's prefix.
    """

    model_config = REQUEST_CONFIG

    tenant_id: TenantId
    model_name: ModelName
    version: int = Field(ge=1)


def default_model_name(source: HuggingFaceSource | S3Source | LocalSource) -> str:
    """The registry name a source gets when the request names none.

    Examples
    --------
    >>> default_model_name(HuggingFaceSource(model_id="THUDM/glm-4-9b-chat"))
    'glm-4-9b-chat'
    >>> default_model_name(LocalSource(path="/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    'smollm2-135m-instruct-q4-1'
    """
    if isinstance(source, HuggingFaceSource):
        tail = source.model_id.rsplit("/", 1)[-1]
    elif isinstance(source, S3Source):
        tail = source.uri.rstrip("/").rsplit("/", 1)[-1]
    else:
        tail = source.path.rstrip("/").rsplit("/", 1)[-1]
    tail = re.sub(r"\.(gguf|safetensors)$", "", tail, flags=re.IGNORECASE)
    slug = re.sub(r"[^a-z0-9]+", "-", tail.lower()).strip("-")[:48].rstrip("-")
    return slug or "model"


class PackagingJob(BaseModel):
    """What the packaging Batch job is asked to do (environment variable ``MAAS_PACKAGING_JOB``)."""

    model_config = REQUEST_CONFIG

    tenant_id: TenantId
    model_name: ModelName
    version: int = Field(ge=1)
    correlation_id: CorrelationId
    source: ModelSource
    serving: ServingPreferences
    artifact_uri: S3Uri = Field(description="The version's prefix, ending in '/'.")
    lineage: VersionLineage | None = Field(
        default=None,
        description="Make the version from its source, a parent version's package, with this "
        "technique (a quantization) before sizing it.",
    )


class PackagedFile(BaseModel):
    """One file of a package, as uploaded."""

    model_config = DOCUMENT_CONFIG

    path: str = Field(description="Relative to the package's prefix.")
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


#: Where a package's manifest lies, relative to its prefix.
MANIFEST_FILE = "maas-manifest.json"


class PackageManifest(BaseModel):
    """What a packaging job produced; written last, so its presence means the upload is whole."""

    model_config = DOCUMENT_CONFIG

    tenant_id: TenantId
    model_name: ModelName
    version: int = Field(ge=1)
    correlation_id: CorrelationId
    source: ModelSource
    resolved_revision: str | None = Field(
        default=None, description="The commit the source's revision resolved to (Hub sources)."
    )
    architecture: str = Field(description="The config's model_type, for example 'llama'.")
    licence: str | None = Field(default=None, description="From the model card, when it says.")
    artifact_uri: S3Uri
    files: list[PackagedFile]
    total_bytes: int = Field(ge=0)
    image_uri: str = Field(description="The serving image, from the SageMaker SDK's lookup.")
    instance_type: InstanceType = Field(description="The advisor's recommendation.")
    environment: dict[str, str] = Field(
        default_factory=dict, description="Environment the serving container needs."
    )
    serving_properties: str = Field(description="The LMI serving.properties text.")
    advisor_report: dict[str, Any] = Field(description="The serving-size advisor's report.")
    lineage: VersionLineage | None = Field(
        default=None, description="The parent version and technique, with its measurements."
    )
    created_at: datetime


class VersionStatus(StrEnum):
    """Where a model version is in its life.

    ``REGISTRATION_FAILED``: the package is whole under ``artifact_uri`` and only registering
    it failed (``error``, ``cause``); the registration can be retried without packaging
    again (``docs/packaging.md``). ``FAILED``: packaging failed and nothing was kept.
    """

    PACKAGING = "PACKAGING"
    REGISTERED = "REGISTERED"
    REGISTRATION_FAILED = "REGISTRATION_FAILED"
    FAILED = "FAILED"


class VersionProgress(BaseModel):
    """What the packaging job is doing now, for people watching a long download."""

    model_config = DOCUMENT_CONFIG

    stage: str = Field(examples=["downloading", "converting", "uploading"])
    done_bytes: int = Field(default=0, ge=0)
    total_bytes: int | None = Field(default=None, ge=0)
    message: str | None = None


class ModelVersionRecord(BaseModel):
    """The platform's record of one model version (DynamoDB); immutable once REGISTERED."""

    model_config = DOCUMENT_CONFIG

    tenant_id: TenantId
    model_name: ModelName
    version: int = Field(ge=1)
    status: VersionStatus
    source: ModelSource
    serving: ServingPreferences
    correlation_id: CorrelationId = Field(description="The execution that made this version.")
    execution_arn: str | None = None
    artifact_uri: S3Uri
    progress: VersionProgress | None = None
    resolved_revision: str | None = None
    image_uri: str | None = None
    instance_type: str | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    advisor_report: dict[str, Any] | None = None
    model_package_arn: str | None = None
    approval_status: ApprovalStatus | None = None
    approval_reason: str | None = Field(
        default=None, description="Why the approval changed, for example a failed gate."
    )
    error: str | None = None
    cause: str | None = None
    packaging_job: ServiceStatus | None = Field(
        default=None,
        description="What Batch last said about the packaging job (RUNNABLE: waiting for "
        "capacity, STARTING, RUNNING, ...), from its state change events.",
    )
    lineage: VersionLineage | None = Field(
        default=None,
        description="Set when the version was made from another one (a quantization): the "
        "parent version, the technique, its settings and the measured size and quality.",
    )
    created_at: datetime
    updated_at: datetime


__all__ = [
    "MANIFEST_FILE",
    "ApprovalStatus",
    "HuggingFaceSource",
    "LocalSource",
    "ModelSource",
    "ModelVersionRecord",
    "PackageManifest",
    "PackagedFile",
    "PackagingJob",
    "PackagingRequest",
    "PackagingSettings",
    "RegistrationRetry",
    "S3Source",
    "ServingPreferences",
    "VersionProgress",
    "VersionStatus",
    "default_model_name",
]
