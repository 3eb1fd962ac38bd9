"""What ``GET /v1/usage`` answers: a tenant's requests, errors and tokens, with a cost estimate.

The counters are hourly per endpoint (:mod:`maas.usage`), so a window is read in whole
hours: ``from`` is taken back to the start of its hour and ``to`` forward to the end of its
own. The cost is an *estimate* of what the endpoints' instances cost in the window, not a
price per token: SageMaker bills real-time endpoints per instance-second whatever they
serve. :class:`CostBasis` says how it was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from schemas.common import EndpointName

#: How a report groups its rows.
GroupBy = Literal["endpoint", "hour"]


class UsageCounts(BaseModel):
    """What requests did: how many, how many failed or were blocked, tokens read and written."""

    requests: int = 0
    errors: int = Field(default=0, description="Requests answered with an error (4xx or 5xx).")
    blocked: int = Field(default=0, description="Requests the guardrail blocked (200s).")
    tokens_in: int = Field(default=0, description="Prompt tokens, as the engine counted them.")
    tokens_out: int = Field(default=0, description="Generated tokens, as the engine counted them.")


class UsageRow(UsageCounts):
    """One endpoint's usage in the window (``group_by=endpoint``), or one hour's."""

    endpoint_name: EndpointName | None = Field(
        default=None, description="The endpoint (group_by=endpoint)."
    )
    hour: datetime | None = Field(default=None, description="The hour's start (group_by=hour).")
    instance_type: str | None = Field(default=None, description="The endpoint's instance type.")
    instance_hours: float | None = Field(
        default=None, description="Estimated instance-hours of the endpoint in the window."
    )
    estimated_cost_usd: float | None = Field(
        default=None,
        description="instance_hours at the instance type's on-demand price; null when the "
        "catalog has no price for it.",
    )


class CostBasis(BaseModel):
    """How the cost estimate is made, and from which prices."""

    estimate: Literal[True] = True
    method: str
    price_region: str
    price_date: str


class UsageReport(BaseModel):
    """A tenant's usage in a window."""

    from_: datetime = Field(alias="from", description="The window's start (an hour's start).")
    to: datetime = Field(description="The window's end, exclusive (an hour's start).")
    group_by: GroupBy
    items: list[UsageRow]
    totals: UsageRow = Field(description="The sums over the window; the cost of every endpoint.")
    cost_basis: CostBasis

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


__all__ = ["CostBasis", "GroupBy", "UsageCounts", "UsageReport", "UsageRow"]
