"""The contract: pydantic v2 models for requests, records and event details.

The JSON Schema files under ``schemas/json/`` are generated from these models
(``python -m schemas.export``); a test fails when they drift.
"""

from schemas.common import CorrelationId, EndpointName, S3Uri, TenantId
from schemas.deployment import (
    AutoscalingConfig,
    DeploymentRequest,
    ModelReference,
    TeardownRequest,
)
from schemas.endpoint import EndpointRecord, EndpointStatus
from schemas.events import (
    EVENT_DETAIL_MODELS,
    EVENT_SOURCE,
    EndpointDeleted,
    EndpointDeploymentFailed,
    EndpointInService,
    EventDetail,
    ModelPackaged,
    ModelPackagingFailed,
)
from schemas.packaging import (
    ModelVersionRecord,
    PackageManifest,
    PackagingJob,
    PackagingRequest,
)

__all__ = [
    "EVENT_DETAIL_MODELS",
    "EVENT_SOURCE",
    "AutoscalingConfig",
    "CorrelationId",
    "DeploymentRequest",
    "EndpointDeleted",
    "EndpointDeploymentFailed",
    "EndpointInService",
    "EndpointName",
    "EndpointRecord",
    "EndpointStatus",
    "EventDetail",
    "ModelPackaged",
    "ModelPackagingFailed",
    "ModelReference",
    "ModelVersionRecord",
    "PackageManifest",
    "PackagingJob",
    "PackagingRequest",
    "S3Uri",
    "TeardownRequest",
    "TenantId",
]
