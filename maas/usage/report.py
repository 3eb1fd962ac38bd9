"""A tenant's usage report for a window: the counters summed, with the estimated cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from maas.exceptions import ValidationError
from maas.usage.cost import cost_basis, estimated_cost, instance_hours
from maas.usage.meter import hour_of
from schemas.usage import UsageCounts, UsageReport, UsageRow

if TYPE_CHECKING:
    from collections.abc import Iterable

    from maas.usage.meter import HourlyUsage
    from schemas.endpoint import EndpointRecord
    from schemas.usage import GroupBy

#: The longest window a report reads (a year of hourly items per endpoint at most).
MAX_WINDOW = timedelta(days=366)
#: The window when none is given: the last day.
DEFAULT_WINDOW = timedelta(days=1)


def window(
    start: datetime | None, end: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """The window in whole hours: ``start`` back to its hour, ``end`` forward to the next.

    Raises
    ------
    ValidationError
        ``from`` is not before ``to``, or the window is longer than :data:`MAX_WINDOW`.
    """
    end = end or now
    if (start is not None and start.tzinfo is None) or end.tzinfo is None:
        raise ValidationError("from: give a time zone (such as Z) with from and to")
    try:
        start = start or end - DEFAULT_WINDOW
        first, last = hour_of(start), hour_of(end)
        if last != end:
            last += timedelta(hours=1)
    except OverflowError:
        # Times at the calendar's edges (year 1, year 9999) have no hour before or after.
        raise ValidationError("from: the window is outside the years the counters hold") from None
    if start >= end:
        raise ValidationError("from: must be before to")
    if last - first > MAX_WINDOW:
        raise ValidationError(f"from: the window is at most {MAX_WINDOW.days} days")
    return first, last


def usage_report(
    usage: Iterable[HourlyUsage],
    records: Iterable[EndpointRecord],
    *,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    now: datetime,
) -> UsageReport:
    """The counters in ``usage`` summed per endpoint (or hour), with each endpoint's cost.

    ``records`` are the tenant's endpoints: each one that had instances in the window has a
    row (with its cost) even if it served nothing, as it cost all the same.
    """
    counts: dict[str, UsageCounts] = defaultdict(UsageCounts)
    by_hour: dict[datetime, UsageCounts] = defaultdict(UsageCounts)
    for hourly in usage:
        counts[hourly.endpoint_name] = _added(counts[hourly.endpoint_name], hourly.counts)
        by_hour[hourly.hour] = _added(by_hour[hourly.hour], hourly.counts)
    costs: dict[str, tuple[str, float, float | None]] = {}
    for record in records:
        hours = instance_hours(record, start, end, now=now)
        if hours > 0 or record.endpoint_name in counts:
            cost = estimated_cost(record.instance_type, hours)
            costs[record.endpoint_name] = (record.instance_type, round(hours, 6), cost)
    total = UsageCounts()
    for each in counts.values():
        total = _added(total, each)
    known_costs = [cost for _, _, cost in costs.values() if cost is not None]
    totals = UsageRow(
        **total.model_dump(),
        instance_hours=round(sum(hours for _, hours, _ in costs.values()), 6),
        estimated_cost_usd=round(sum(known_costs), 6) if costs else 0.0,
    )
    if group_by == "hour":
        items = [UsageRow(hour=hour, **by_hour[hour].model_dump()) for hour in sorted(by_hour)]
    else:
        items = []
        for name in sorted(set(counts) | set(costs)):
            known = costs.get(name)
            items.append(
                UsageRow(
                    endpoint_name=name,
                    **counts.get(name, UsageCounts()).model_dump(),
                    instance_type=known[0] if known else None,
                    instance_hours=known[1] if known else None,
                    estimated_cost_usd=known[2] if known else None,
                )
            )
    return UsageReport.model_validate(
        {
            "from": start,
            "to": end,
            "group_by": group_by,
            "items": items,
            "totals": totals,
            "cost_basis": cost_basis(),
        }
    )


def _added(one: UsageCounts, other: UsageCounts) -> UsageCounts:
    return UsageCounts.model_validate(
        {name: getattr(one, name) + getattr(other, name) for name in UsageCounts.model_fields}
    )


__all__ = ["DEFAULT_WINDOW", "MAX_WINDOW", "usage_report", "window"]
