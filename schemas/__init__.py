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
    EndpointHoursFailed,
    EndpointInService,
    EndpointScaled,
    EndpointStopped,
    EndpointUpdated,
    EndpointUpdateFailed,
    EventDetail,
    ModelPackaged,
    ModelPackagingFailed,
)
from schemas.hours import OperatingHours, StartEndpointRequest, StopEndpointRequest
from schemas.packaging import (
    ModelVersionRecord,
    PackageManifest,
    PackagingJob,
    PackagingRequest,
)
from schemas.scaling import ScaleRequest
from schemas.update import BlueGreenPolicy, RollbackAlarms, TrafficRouting, UpdateRequest

__all__ = [
    "EVENT_DETAIL_MODELS",
    "EVENT_SOURCE",
    "AutoscalingConfig",
    "BlueGreenPolicy",
    "CorrelationId",
    "DeploymentRequest",
    "EndpointDeleted",
    "EndpointDeploymentFailed",
    "EndpointHoursFailed",
    "EndpointInService",
    "EndpointName",
    "EndpointRecord",
    "EndpointScaled",
    "EndpointStatus",
    "EndpointStopped",
    "EndpointUpdateFailed",
    "EndpointUpdated",
    "EventDetail",
    "ModelPackaged",
    "ModelPackagingFailed",
    "ModelReference",
    "ModelVersionRecord",
    "OperatingHours",
    "PackageManifest",
    "PackagingJob",
    "PackagingRequest",
    "RollbackAlarms",
    "S3Uri",
    "ScaleRequest",
    "ScalingMetric",
    "StartEndpointRequest",
    "StopEndpointRequest",
    "TeardownRequest",
    "TenantId",
    "TrafficRouting",
    "UpdateRequest",
]
