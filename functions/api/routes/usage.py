"""``/v1/usage``: what the tenant's requests used, per endpoint or hour, with an estimated cost.

The counters are written as requests pass (:func:`functions.api.routes.pipelines.run_pipeline`
meters every request to a served model: ``invoke`` and the OpenAI-compatible path) and read
here from the tenant's own partition, so a tenant sees only its own. The cost is an estimate
of the endpoints' instance-hours at the catalog's prices (:mod:`maas.usage.cost`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import services, tenant_of
from maas.usage import UsageMeter, usage_report, window
from schemas.usage import GroupBy, UsageReport

router = APIGatewayRouter()

From = Annotated[
    datetime | None,
    Query(
        alias="from",
        description="The window's start (ISO 8601 with a time zone), taken back to its hour; "
        "default: a day before `to`.",
    ),
]
To = Annotated[
    datetime | None,
    Query(
        alias="to",
        description="The window's end, exclusive, taken forward to the next hour; default: now.",
    ),
]
GroupByParam = Annotated[
    GroupBy, Query(description="A row per endpoint (with its cost), or per hour.")
]


@router.get("/usage", summary="The tenant's usage and estimated cost", tags=["Usage"])
def get_usage(
    start: From = None, end: To = None, group_by: GroupByParam = "endpoint"
) -> UsageReport:
    """Requests, errors, guardrail blocks and tokens in the window, per endpoint (with each
    endpoint's estimated instance cost) or per hour, and their totals."""
    tenant = tenant_of(router)
    found = services(tenant)
    now = datetime.now(UTC)
    first, last = window(start, end, now=now)
    meter = UsageMeter(os.environ["MODELS_TABLE_NAME"], found.client("dynamodb"))
    return usage_report(
        meter.read(tenant, first, last),
        found.endpoints.tenant_records(tenant),
        start=first,
        end=last,
        group_by=group_by,
        now=now,
    )


__all__ = ["router"]
