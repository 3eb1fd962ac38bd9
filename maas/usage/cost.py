"""An estimate of what a tenant's endpoints cost in a window, from the catalog's prices.

SageMaker bills a real-time endpoint per instance-second while it exists, whatever it
serves, so tokens are no measure of its cost. The estimate is the endpoint's instance-hours
in the window at its instance type's on-demand price (``maas/data/instance_types.json``,
the advisor's catalog, in its :func:`~maas.instances.price_region` as of its
:func:`~maas.instances.price_date`), from what the endpoint's record says now:

- it has had instances from its ``created_at`` until now, or, once ``STOPPED``, ``FAILED``
  or ``DELETED``, until its record last changed (``updated_at``);
- it had its current instance count and type throughout: scaling, updates, autoscaling and
  earlier stops are not in the record, so a window that spans them is estimated at today's
  size.

It is an estimate, and says so (:data:`COST_METHOD`): savings plans, reserved capacity,
storage and data transfer are not in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.instances import instance_catalog, price_date, price_region
from schemas.endpoint import EndpointStatus
from schemas.usage import CostBasis

if TYPE_CHECKING:
    from datetime import datetime

    from schemas.endpoint import EndpointRecord

#: How the estimate is made, as the report states it.
COST_METHOD = (
    "estimate: each endpoint's instance-hours in the window (from its creation until now, "
    "or until its record last changed once stopped, failed or deleted, at its current "
    "instance count) times its instance type's on-demand price per hour; SageMaker bills "
    "instances while they exist, not tokens; scaling history, savings plans, storage and "
    "data transfer are not included"
)

#: Statuses in which an endpoint has no instances since its record last changed.
_WITHOUT_INSTANCES = frozenset(
    {EndpointStatus.STOPPED, EndpointStatus.FAILED, EndpointStatus.DELETED}
)


def instance_hours(
    record: EndpointRecord, start: datetime, end: datetime, *, now: datetime
) -> float:
    """The endpoint's estimated instance-hours between ``start`` and ``end``.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> from schemas.endpoint import EndpointRecord
    >>> t = datetime(2026, 12, 7, 12, tzinfo=UTC)
    >>> record = EndpointRecord.model_construct(
    ...     status=EndpointStatus.IN_SERVICE, instance_count=2,
    ...     created_at=t - timedelta(minutes=30), updated_at=t)
    >>> instance_hours(record, t - timedelta(hours=1), t + timedelta(hours=1), now=t)
    1.0
    """
    gone = record.updated_at if record.status in _WITHOUT_INSTANCES else now
    overlap = (min(end, gone, now) - max(start, record.created_at)).total_seconds()
    return max(overlap, 0.0) / 3600 * record.instance_count


def estimated_cost(instance_type: str, hours: float) -> float | None:
    """``hours`` of ``instance_type`` at its on-demand price; None when it has no price."""
    known = instance_catalog().get(instance_type)
    if known is None or known.price_per_hour_usd is None:
        return None
    return round(hours * known.price_per_hour_usd, 6)


def cost_basis() -> CostBasis:
    """What the report says of its estimate."""
    return CostBasis(method=COST_METHOD, price_region=price_region(), price_date=price_date())


__all__ = ["COST_METHOD", "cost_basis", "estimated_cost", "instance_hours"]
