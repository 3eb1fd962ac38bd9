"""Checks at the door: what a workflow's planning step would refuse, refused before it starts.

A deployment, an update or a scaling request is planned here exactly as its workflow's first
step plans it (:func:`~maas.endpoints.plan.plan_deployment`,
:func:`~maas.endpoints.update.plan_update`, :func:`~maas.endpoints.scaling.plan_scaling`),
and the plan thrown away: an unknown instance type, a version that does not exist or cannot
deploy, a count outside the bounds, a tenant past its quota is answered at once (422, 404,
409, 403, naming the field) instead of a 202 whose workflow fails a minute later. The
workflow plans again when it runs (what was checked may have moved on), and its quota ledger
is what holds a quota for real: these checks only spare the caller a doomed workflow.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from functions.api.context import services
from maas.endpoints.plan import plan_deployment, resolve_model
from maas.endpoints.quotas import most_instances
from maas.endpoints.scaling import plan_scaling
from maas.endpoints.update import plan_update
from maas.instances import get_instance_type

if TYPE_CHECKING:
    from schemas.deployment import DeploymentRequest
    from schemas.scaling import ScaleRequest
    from schemas.update import UpdateRequest

#: The execution name the throw-away plans are made for (names derived from it are unused).
_PLANNED_FOR = "api-check"
#: Polling settings of the throw-away plans: they are not used either.
_POLL_SECONDS, _STATUS_CHECKS = 30, 1


def check_deployment(request: DeploymentRequest) -> DeploymentRequest:
    """Refuse what ``deploy_endpoint`` would refuse; the request with its version resolved.

    Raises ``Maas.NotFound`` for a version the tenant does not have, ``Maas.Conflict`` for
    one that cannot deploy, ``Maas.ValidationError`` naming ``instance_type`` for a type
    not in the catalog, ``Maas.QuotaExceeded`` for a tenant past its quotas.
    """
    found = services(request.tenant_id)
    resolved = resolve_model(request, found.models)
    plan_deployment(
        resolved,
        correlation_id=_PLANNED_FOR,
        artifacts_bucket=os.environ["ARTIFACTS_BUCKET_NAME"],
        poll_interval_seconds=_POLL_SECONDS,
        max_status_checks=_STATUS_CHECKS,
    )
    found.quotas.check_deployment(
        found.endpoints.tenant_records(request.tenant_id),
        resolved.endpoint_name,
        resolved.instance_count,
        resolved.autoscaling,
    )
    return resolved


def check_update(request: UpdateRequest) -> None:
    """Refuse what ``update_endpoint`` would refuse: an unknown or undeployable version
    (404, 409), an instance type not in the catalog or too small for the version (422), an
    endpoint not in service (409), a change to nothing (422)."""
    # The catalog first, naming the field plainly (the fit check below words it for the version).
    check_instance_type(request.instance_type, field="instance_type")
    found = services(request.tenant_id)
    plan_update(
        found.endpoints.get(request.tenant_id, request.endpoint_name),
        request,
        models=found.models,
        correlation_id=_PLANNED_FOR,
        artifacts_bucket=os.environ["ARTIFACTS_BUCKET_NAME"],
        poll_interval_seconds=_POLL_SECONDS,
        max_status_checks=_STATUS_CHECKS,
    )


def check_scaling(request: ScaleRequest) -> None:
    """Refuse what ``scale_endpoint`` would refuse: a count outside the autoscaling bounds in
    force afterwards (422), more instances than the tenant's quota leaves it (403)."""
    found = services(request.tenant_id)
    record = found.endpoints.get(request.tenant_id, request.endpoint_name)
    plan = plan_scaling(
        record,
        request,
        correlation_id=_PLANNED_FOR,
        poll_interval_seconds=_POLL_SECONDS,
        max_status_checks=_STATUS_CHECKS,
    )
    wanted = most_instances(plan.instance_count, plan.autoscaling)
    if wanted <= most_instances(record.instance_count, record.autoscaling):
        return  # a scale-in, or no change in what the quota counts: never refused
    # As for a deployment of it: the tenant's other endpoints beside this one, as it will be
    # (the endpoint itself counted once, as it already is).
    found.quotas.check_deployment(
        found.endpoints.tenant_records(request.tenant_id),
        request.endpoint_name,
        plan.instance_count,
        plan.autoscaling,
    )


def check_instance_type(instance_type: str | None, *, field: str) -> None:
    """Refuse (422 naming ``field``) an instance type that is not in the catalog."""
    if instance_type is not None:
        get_instance_type(instance_type, field=field)


__all__ = ["check_deployment", "check_instance_type", "check_scaling", "check_update"]
