"""AWS's own events the control plane listens to, and what it keeps of them on its records.

SageMaker and Batch put their state changes on the account's default bus. The models here
read the part of each ``detail`` the registries need and ignore the rest (AWS adds fields
over time). Shapes, as AWS documents them:

- ``SageMaker Endpoint State Change`` (source ``aws.sagemaker``): ``EndpointName``,
  ``EndpointArn``, ``EndpointConfigName``, ``EndpointStatus`` in upper snake case
  (``CREATING``, ``IN_SERVICE``, ``UPDATING``, ``FAILED``, ``DELETING``, ...),
  ``FailureReason`` when it failed, ``CreationTime`` and ``LastModifiedTime`` in epoch
  milliseconds, and ``Tags`` as an object of key to value.
- ``Batch Job State Change`` (source ``aws.batch``): the job as ``DescribeJobs`` describes
  it: ``jobName``, ``jobId``, ``jobQueue``, ``status`` (``SUBMITTED`` is never announced;
  then ``PENDING``, ``RUNNABLE``, ``STARTING``, ``RUNNING``, ``SUCCEEDED`` or ``FAILED``),
  ``statusReason``, ``attempts``, and ``container`` with its ``environment`` and, once it
  stopped, ``exitCode``.

Examples
--------
>>> change = SageMakerEndpointStateChange.model_validate(
...     {
...         "EndpointName": "chat",
...         "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat",
...         "EndpointStatus": "IN_SERVICE",
...         "CreationTime": 1592411992203.0,
...         "LastModifiedTime": 1592411994287.0,
...         "Tags": {"maas:tenant": "acme"},
...     }
... )
>>> change.tenant_id, change.observation().sequence
('acme', 1592411994287)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.common import DOCUMENT_CONFIG, CorrelationId

#: The tag that names the tenant on every resource the platform creates.
TENANT_TAG = "maas:tenant"
#: The tag that carries the tenant's own name of an endpoint (its SageMaker name is derived).
ENDPOINT_TAG = "maas:endpoint"

SAGEMAKER_SOURCE = "aws.sagemaker"
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
BATCH_SOURCE = "aws.batch"
JOB_STATE_CHANGE = "Batch Job State Change"

#: Batch's job statuses in the order one attempt passes through them.
BATCH_STATUS_ORDER = (
    "SUBMITTED",
    "PENDING",
    "RUNNABLE",
    "STARTING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
)

_AWS_DETAIL = ConfigDict(extra="ignore", frozen=True)


class ServiceStatus(BaseModel):
    """What an AWS service last said about a resource of the platform, from its events."""

    model_config = DOCUMENT_CONFIG

    status: str = Field(
        description="The service's own word for the state, e.g. IN_SERVICE or RUNNABLE."
    )
    reason: str | None = Field(
        default=None, description="The service's reason (FailureReason, statusReason)."
    )
    changed_at: AwareDatetime = Field(description="When the service reported the change.")
    sequence: int = Field(
        ge=0,
        description="Orders the service's reports about one resource: a report whose "
        "sequence is not above the recorded one is older or a duplicate, and changes nothing.",
    )


class ServiceEvent(BaseModel):
    """The envelope of an event an AWS service put on the bus; ``detail`` is read apart."""

    model_config = _AWS_DETAIL

    id: CorrelationId = Field(description="EventBridge's id of the event.")
    time: AwareDatetime
    detail: dict[str, Any]


def _from_epoch_ms(milliseconds: float) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


class SageMakerEndpointStateChange(BaseModel):
    """The ``detail`` of a ``SageMaker Endpoint State Change`` event."""

    model_config = _AWS_DETAIL

    endpoint_name: str = Field(alias="EndpointName")
    endpoint_arn: str = Field(alias="EndpointArn")
    endpoint_status: str = Field(alias="EndpointStatus")
    failure_reason: str | None = Field(default=None, alias="FailureReason")
    creation_time: float = Field(alias="CreationTime", description="Epoch milliseconds.")
    last_modified_time: float = Field(alias="LastModifiedTime", description="Epoch milliseconds.")
    tags: dict[str, str] = Field(default_factory=dict, alias="Tags")

    @property
    def tenant_id(self) -> str | None:
        """The tenant the endpoint was created for, None when the platform did not create it."""
        return self.tags.get(TENANT_TAG)

    @property
    def tenant_endpoint_name(self) -> str | None:
        """The tenant's own name of the endpoint (its record's key), None when not the
        platform's."""
        return self.tags.get(ENDPOINT_TAG)

    @property
    def created_at(self) -> datetime:
        """When SageMaker created this endpoint (a later endpoint of the same name is another)."""
        return _from_epoch_ms(self.creation_time)

    def observation(self) -> ServiceStatus:
        """What to keep on the endpoint's record; the change time orders the reports."""
        return ServiceStatus(
            status=self.endpoint_status,
            reason=self.failure_reason,
            changed_at=_from_epoch_ms(self.last_modified_time),
            sequence=round(self.last_modified_time),
        )


class BatchJobStateChange(BaseModel):
    """The ``detail`` of a ``Batch Job State Change`` event."""

    model_config = _AWS_DETAIL

    job_name: str = Field(alias="jobName")
    job_id: str = Field(alias="jobId")
    job_queue: str = Field(alias="jobQueue")
    status: str
    status_reason: str | None = Field(default=None, alias="statusReason")
    attempts: list[dict[str, Any]] = Field(default_factory=list)
    container: dict[str, Any] = Field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """The container's environment variables (the job definition's and the overrides)."""
        return {
            item["name"]: item["value"]
            for item in self.container.get("environment", [])
            if "name" in item and "value" in item
        }

    def observation(self, changed_at: datetime) -> ServiceStatus:
        """What to keep on the version's record; ``changed_at`` is the event's time.

        Events carry no change time finer than the second, so the order is the job's own:
        statuses only move forward within an attempt, and each attempt adds to
        ``attempts``, so (attempts, place of the status) grows with every change, retries
        included.
        """
        rank = BATCH_STATUS_ORDER.index(self.status) if self.status in BATCH_STATUS_ORDER else 0
        reason = self.status_reason
        exit_code = self.container.get("exitCode")
        if exit_code is not None and self.status == "FAILED":
            reason = f"{reason or 'the container failed'} (exit code {exit_code})"
        return ServiceStatus(
            status=self.status,
            reason=reason,
            changed_at=changed_at,
            sequence=len(self.attempts) * len(BATCH_STATUS_ORDER) + rank,
        )


__all__ = [
    "BATCH_SOURCE",
    "BATCH_STATUS_ORDER",
    "ENDPOINT_STATE_CHANGE",
    "ENDPOINT_TAG",
    "JOB_STATE_CHANGE",
    "SAGEMAKER_SOURCE",
    "TENANT_TAG",
    "BatchJobStateChange",
    "SageMakerEndpointStateChange",
    "ServiceEvent",
    "ServiceStatus",
]
