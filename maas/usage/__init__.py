"""Usage metering: what each tenant's requests to its endpoints used, and what it may cost.

:class:`UsageMeter` keeps one counter item per tenant, endpoint and hour in the tenant's
partition of the models table, changed only by atomic ``ADD`` updates as requests pass;
:func:`usage_report` reads a window of them back and adds an estimate of the endpoints'
instance cost (:mod:`maas.usage.cost`).
"""

from __future__ import annotations

from maas.usage.cost import COST_METHOD, cost_basis, instance_hours
from maas.usage.meter import HourlyUsage, UsageMeter, hour_of
from maas.usage.report import usage_report, window

__all__ = [
    "COST_METHOD",
    "HourlyUsage",
    "UsageMeter",
    "cost_basis",
    "hour_of",
    "instance_hours",
    "usage_report",
    "window",
]
