"""A lifecycle: package a model, deploy the new version, and tear it down unless it is kept.

A :class:`LifecycleRequest` starts the ``lifecycle`` workflow, from the API, from the console,
or as the detail of a ``LifecycleRequested`` event on the bus (source
:data:`CLIENT_EVENT_SOURCE`). Its ``request_id``, with its tenant, names the execution
(:func:`maas.workflows.execution_name`), so the same request delivered twice starts one
lifecycle, and another tenant's request of the same id starts its own.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints

from schemas.common import REQUEST_CONFIG, EndpointName, FutureDatetime, TenantId
from schemas.deployment import AutoscalingConfig, InstanceType
from schemas.evaluation import EvaluationSettings
from schemas.hours import OFFICE_HOURS_EXAMPLE, OperatingHours
from schemas.packaging import PackagingSettings

#: The source of the events clients put on the bus to ask for work (``LifecycleRequested``).
CLIENT_EVENT_SOURCE: Final = "maas.client"

RequestId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(
        description="The client's id of the request; it names the lifecycle's execution "
        "(64 characters at most, so the children's names, which add a suffix, stay within "
        "Step Functions' 80).",
        examples=["3f0c9a52-6c1e-4b7e-9a43-2d1d0f7d2b11"],
    ),
]


class DeploymentSettings(BaseModel):
    """Where and how a lifecycle deploys the version it packaged."""

    model_config = REQUEST_CONFIG

    endpoint_name: EndpointName
    instance_type: InstanceType | None = Field(
        default=None, description="Defaults to the packaged version's recommended instance type."
    )
    instance_count: StrictInt = Field(
        default=1, ge=1, le=100, description="Initial instance count."
    )
    autoscaling: AutoscalingConfig | None = Field(
        default=None, description="Autoscaling bounds; none keeps the count fixed."
    )
    expires_at: FutureDatetime | None = Field(
        default=None,
        description="Time-to-live of a kept endpoint (ISO 8601 with a zone).",
    )
    hours: OperatingHours | None = Field(
        default=None,
        description="On/off hours of a kept endpoint: stopped outside them, its model and "
        "configuration kept.",
        examples=[OFFICE_HOURS_EXAMPLE],
    )


class LifecycleSpec(BaseModel):
    """Package a model, deploy the new version, and tear it down unless ``keep_endpoint``."""

    model_config = REQUEST_CONFIG

    package: PackagingSettings
    deployment: DeploymentSettings
    evaluation: EvaluationSettings | None = Field(
        default=None,
        description="Evaluate the deployed endpoint before the lifecycle goes on; a failed "
        "gate can reject the version or tear the endpoint down (on_gate_failure).",
    )
    keep_endpoint: StrictBool = Field(
        default=False,
        description="Leave the endpoint serving when the lifecycle ends (its expires_at and "
        "hours, if any, still apply); otherwise the lifecycle tears it down.",
    )


class LifecycleRequest(LifecycleSpec):
    """A lifecycle of a tenant, named by the request's id (its executions are named after it)."""

    tenant_id: TenantId
    request_id: RequestId


__all__ = [
    "CLIENT_EVENT_SOURCE",
    "DeploymentSettings",
    "LifecycleRequest",
    "LifecycleSpec",
    "RequestId",
]
