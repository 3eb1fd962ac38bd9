"""The contract: pydantic v2 models for requests, records and event details.

The JSON Schema files under ``schemas/json/`` are generated from these models
(``python -m schemas.export``); a test fails when they drift.
"""

from schemas.common import CorrelationId, EndpointName, S3Uri, TenantId
from schemas.deployment import (
    AutoscalingConfig,
    DeploymentRequest,
    ModelReference,
    ScalingMetric,
    TeardownRequest,
)
from schemas.endpoint import EndpointRecord, EndpointStatus
from schemas.events import (
    EVENT_DETAIL_MODELS,
    EVENT_SOURCE,
    EndpointDeleted,
    EndpointDeploymentFailed,
    EndpointInService,
    EndpointScaled,
    EndpointUpdateFailed,
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
from schemas.scaling import ScaleRequest

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
    "EndpointScaled",
    "EndpointStatus",
    "EndpointUpdateFailed",
    "EventDetail",
    "ModelPackaged",
    "ModelPackagingFailed",
    "ModelReference",
    "ModelVersionRecord",
    "PackageManifest",
    "PackagingJob",
    "PackagingRequest",
    "S3Uri",
    "ScaleRequest",
    "ScalingMetric",
    "TeardownRequest",
    "TenantId",
]
