"""The reconciler: the endpoint registry against what SageMaker really holds.

Records drift when something changes outside the control plane (an endpoint deleted in the
console, an endpoint that failed after it came into service); resources are orphaned when a
workflow died before its compensation ran. The reconciler compares the two, repairs the
records it can prove wrong, and reports (or, when asked, deletes) the SageMaker endpoints,
endpoint configurations and models that carry the product's tags but that no live record
claims. Whatever is younger than the grace period is left alone: a workflow may be creating
it right now.

Two repairs finish what a workflow could not:

- a record stuck in ``CREATING`` past the grace period (the deployment's status write timed
  out, or its execution died) becomes ``IN_SERVICE`` when SageMaker serves the endpoint that
  deployment created, and ``FAILED`` when it does not;
- what a failed deployment created and its clean-up left behind (a ``FAILED`` record, and
  resources tagged with that deployment's ``maas:correlation-id``) is deleted, on every run
  until it is gone, whether or not orphans are to be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from maas.aws import error_code
from maas.endpoints.cleanup import CORRELATION_TAG
from maas.exceptions import Conflict
from schemas import EndpointStatus
from schemas.aws_events import TENANT_TAG

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maas.endpoints.records import EndpointRegistry
    from schemas import EndpointRecord

#: Statuses in which a record says its endpoint exists and serves.
_LIVE = frozenset({EndpointStatus.IN_SERVICE, EndpointStatus.UPDATING})
#: Statuses a running execution holds; only a record stuck in one for long is reported.
_IN_FLIGHT = frozenset(
    {
        EndpointStatus.CREATING,
        EndpointStatus.DELETING,
        EndpointStatus.STOPPING,
        EndpointStatus.STARTING,
    }
)
#: SageMaker's statuses of an endpoint that is still being worked on.
_SAGEMAKER_BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
#: Statuses with no endpoint by design, whose model and configuration are kept for later.
_KEPT = frozenset({EndpointStatus.STOPPED})


@dataclass(frozen=True)
class Finding:
    """One difference between the registry and SageMaker, and what was done about it."""

    tenant_id: str
    kind: Literal["drifted_record", "stuck_record", "orphan"]
    resource: str
    detail: str
    action: Literal["repaired", "deleted", "reported"]


@dataclass(frozen=True)
class TaggedResource:
    """A SageMaker resource that carries the product's tenant tag."""

    kind: Literal["endpoint", "endpoint-config", "model"]
    name: str
    tenant_id: str
    created_at: datetime
    status: str | None = None
    failure_reason: str | None = None
    correlation_id: str | None = None


#: (kind, list operation, result key, name key, ARN key).
_KINDS: tuple[tuple[Literal["endpoint", "endpoint-config", "model"], str, str, str, str], ...] = (
    ("endpoint", "list_endpoints", "Endpoints", "EndpointName", "EndpointArn"),
    (
        "endpoint-config",
        "list_endpoint_configs",
        "EndpointConfigs",
        "EndpointConfigName",
        "EndpointConfigArn",
    ),
    ("model", "list_models", "Models", "ModelName", "ModelArn"),
)


def tagged_resources(sagemaker: Any) -> Iterator[TaggedResource]:
    """Every endpoint, endpoint configuration and model with a ``maas:tenant`` tag."""
    for kind, operation, key, name_key, arn_key in _KINDS:
        for page in sagemaker.get_paginator(operation).paginate():
            for item in page[key]:
                tags = {
                    tag["Key"]: tag["Value"]
                    for tag in sagemaker.list_tags(ResourceArn=item[arn_key]).get("Tags", [])
                }
                if TENANT_TAG not in tags:
                    continue
                status = reason = None
                if kind == "endpoint":
                    described = sagemaker.describe_endpoint(EndpointName=item[name_key])
                    status, reason = described["EndpointStatus"], described.get("FailureReason")
                yield TaggedResource(
                    kind=kind,
                    name=item[name_key],
                    tenant_id=tags[TENANT_TAG],
                    created_at=item["CreationTime"],
                    status=status,
                    failure_reason=reason,
                    correlation_id=tags.get(CORRELATION_TAG),
                )


class Reconciler:
    """Compares the registry with SageMaker, repairs records, reports or deletes orphans.

    Parameters
    ----------
    registry
        The endpoint registry.
    sagemaker
        A boto3 SageMaker client.
    grace
        How old a resource or an in-flight record must be before it is judged.
    """

    def __init__(
        self, registry: EndpointRegistry, sagemaker: Any, *, grace: timedelta = timedelta(hours=1)
    ) -> None:
        self._registry = registry
        self._sagemaker = sagemaker
        self._grace = grace

    def run(self, *, correlation_id: str, delete_orphans: bool = False) -> list[Finding]:
        """One pass over the whole account; returns what was found and done."""
        now = datetime.now(UTC)
        records = self._registry.list_records()
        resources = list(tagged_resources(self._sagemaker))
        endpoints = {(r.tenant_id, r.name): r for r in resources if r.kind == "endpoint"}
        findings = [
            finding
            for record in records
            if (finding := self._check_record(record, endpoints, now, correlation_id))
        ]
        repaired = {f.resource for f in findings if f.action == "repaired"}
        records = [
            self._registry.get(r.tenant_id, r.endpoint_name)
            if f"record/{r.tenant_id}/{r.endpoint_name}" in repaired
            else r
            for r in records
        ]
        claimed = _claimed_names(records)
        leftovers = _leftovers(records)
        for resource in resources:
            if resource.name in claimed.get((resource.kind, resource.tenant_id), set()):
                continue
            failed_deployment = leftovers.get((resource.tenant_id, resource.correlation_id))
            if failed_deployment is not None:
                findings.append(self._clean_up_after(failed_deployment, resource))
                continue
            if now - resource.created_at < self._grace:
                continue
            deleted = delete_orphans and self._delete(resource)
            findings.append(
                Finding(
                    tenant_id=resource.tenant_id,
                    kind="orphan",
                    resource=f"{resource.kind}/{resource.name}",
                    detail=f"tagged for tenant {resource.tenant_id!r}; no live record claims it",
                    action="deleted" if deleted else "reported",
                )
            )
        return findings

    def _check_record(
        self,
        record: EndpointRecord,
        endpoints: dict[tuple[str, str], TaggedResource],
        now: datetime,
        correlation_id: str,
    ) -> Finding | None:
        resource = f"record/{record.tenant_id}/{record.endpoint_name}"
        if record.status in _IN_FLIGHT:
            if now - record.updated_at < self._grace:
                return None
            return self._check_stuck(record, endpoints, correlation_id)
        if record.status not in _LIVE:
            return None
        endpoint = endpoints.get((record.tenant_id, record.sagemaker_endpoint_name))
        if endpoint is None:
            reason = "the endpoint no longer exists in SageMaker (deleted outside the platform)"
        elif endpoint.status == "Failed":
            reason = f"SageMaker reports the endpoint Failed: {endpoint.failure_reason}"
        else:
            return None
        try:
            self._registry.repair(
                record, status=EndpointStatus.FAILED, reason=reason, correlation_id=correlation_id
            )
        except Conflict:
            return None  # a workflow moved the record on since it was read: it knows better
        return Finding(
            tenant_id=record.tenant_id,
            kind="drifted_record",
            resource=resource,
            detail=f"was {record.status.value}; {reason}",
            action="repaired",
        )

    def _check_stuck(
        self,
        record: EndpointRecord,
        endpoints: dict[tuple[str, str], TaggedResource],
        correlation_id: str,
    ) -> Finding:
        """A record an execution has held past the grace period: settled when it was left
        ``CREATING`` and SageMaker tells the outcome, reported otherwise."""
        if record.status is EndpointStatus.CREATING:
            endpoint = endpoints.get((record.tenant_id, record.sagemaker_endpoint_name))
            settled = self._settle_creation(record, endpoint, correlation_id)
            if settled is not None:
                return settled
        return Finding(
            tenant_id=record.tenant_id,
            kind="stuck_record",
            resource=f"record/{record.tenant_id}/{record.endpoint_name}",
            detail=f"{record.status.value} since {record.updated_at.isoformat()}, owned "
            f"by execution {record.correlation_id}",
            action="reported",
        )

    def _settle_creation(
        self, record: EndpointRecord, endpoint: TaggedResource | None, correlation_id: str
    ) -> Finding | None:
        """A deployment's outcome, for a record its execution left ``CREATING``; None while
        SageMaker is still creating the endpoint."""
        ours = endpoint is not None and endpoint.correlation_id == record.correlation_id
        if ours and endpoint is not None and endpoint.status in _SAGEMAKER_BUSY:
            return None
        if ours and endpoint is not None and endpoint.status == "InService":
            status, reason = (
                EndpointStatus.IN_SERVICE,
                f"SageMaker serves the endpoint deployment {record.correlation_id} created; "
                "its status write was lost",
            )
        else:
            status, reason = (
                EndpointStatus.FAILED,
                f"deployment {record.correlation_id} ended without recording its outcome and "
                "SageMaker serves no endpoint it created",
            )
        try:
            self._registry.repair(
                record, status=status, reason=reason, correlation_id=correlation_id
            )
        except Conflict:
            return None  # the deployment wrote its outcome after all
        return Finding(
            tenant_id=record.tenant_id,
            kind="stuck_record",
            resource=f"record/{record.tenant_id}/{record.endpoint_name}",
            detail=f"was CREATING since {record.updated_at.isoformat()}; {reason}",
            action="repaired",
        )

    def _clean_up_after(self, record: EndpointRecord, resource: TaggedResource) -> Finding:
        """Delete what failed deployment ``record.correlation_id`` left behind, as its clean-up
        should have; a failed attempt is reported and tried again on the next run."""
        deleted = self._delete(resource)
        return Finding(
            tenant_id=resource.tenant_id,
            kind="orphan",
            resource=f"{resource.kind}/{resource.name}",
            detail=f"left behind by failed deployment {record.correlation_id} of endpoint "
            f"{record.endpoint_name!r}, whose clean-up did not finish",
            action="deleted" if deleted else "reported",
        )

    def _delete(self, resource: TaggedResource) -> bool:
        operation, argument = {
            "endpoint": ("delete_endpoint", "EndpointName"),
            "endpoint-config": ("delete_endpoint_config", "EndpointConfigName"),
            "model": ("delete_model", "ModelName"),
        }[resource.kind]
        try:
            getattr(self._sagemaker, operation)(**{argument: resource.name})
        except Exception as exc:
            if error_code(exc) != "ValidationException":
                raise
            return False
        return True


def report_details(findings: list[Finding], *, correlation_id: str) -> list[dict[str, Any]]:
    """One ``ReconcileReport`` detail per tenant with findings, for that tenant's subscribers."""
    by_tenant: dict[str, list[Finding]] = {}
    for finding in findings:
        by_tenant.setdefault(finding.tenant_id, []).append(finding)
    return [
        {
            "tenant_id": tenant_id,
            "correlation_id": correlation_id,
            "findings": [
                {
                    "kind": f.kind,
                    "resource": f.resource,
                    "detail": f.detail,
                    "action": f.action,
                }
                for f in tenant_findings
            ],
        }
        for tenant_id, tenant_findings in sorted(by_tenant.items())
    ]


def _leftovers(records: list[EndpointRecord]) -> dict[tuple[str, str | None], EndpointRecord]:
    """(tenant, deployment) -> the FAILED record of that deployment: what it created is its
    leftover (its correlation id tags everything it created)."""
    return {
        (record.tenant_id, record.correlation_id): record
        for record in records
        if record.status is EndpointStatus.FAILED
    }


def _claimed_names(records: list[EndpointRecord]) -> dict[tuple[str, str], set[str]]:
    """(kind, tenant) -> the names of what live, in-flight or stopped records hold.

    A FAILED or DELETED record claims nothing: what is left of it is left over.
    """
    claimed: dict[tuple[str, str], set[str]] = {}
    for record in records:
        if record.status not in _LIVE | _IN_FLIGHT | _KEPT:
            continue
        for kind, name in (
            ("endpoint", record.sagemaker_endpoint_name),
            ("endpoint-config", record.endpoint_config_name),
            ("model", record.model_name),
        ):
            claimed.setdefault((kind, record.tenant_id), set()).add(name)
    return claimed


__all__ = [
    "TENANT_TAG",
    "Finding",
    "Reconciler",
    "TaggedResource",
    "report_details",
    "tagged_resources",
]
