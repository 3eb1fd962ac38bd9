"""The REST API's limits of a stage: its throttle and per-tenant usage plans.

One source for both places that apply them: the stack (``stacks/api.py``, through
``stacks.config.StageConfig.api``) sets them on the API Gateway stage and its usage plans,
and ``maas local up`` (:mod:`maas.local.apigateway_limits`) applies the same ones to the
local API. Both read a stage's ``api`` from the CDK context (``cdk.json``'s
``maas:stages``); the defaults below are what a stage gets that says nothing.

Examples
--------
>>> context = {"maas:stages": {"dev": {"api": {"rate_limit": 5, "burst_limit": 10}}}}
>>> config = stage_api_config(context)
>>> config.rate_limit, config.burst_limit, config.tenant_plans
(5.0, 10, {})
>>> stage_api_config({}).rate_limit  # no stage described: the defaults
50.0
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import TenantId

if TYPE_CHECKING:
    from pathlib import Path

#: The context key that names the stage to synthesize.
STAGE_CONTEXT_KEY = "maas:stage"
#: The context key that holds every stage's configuration, by name.
STAGES_CONTEXT_KEY = "maas:stages"
#: The stage synthesized when the context names none.
DEFAULT_STAGE = "dev"


class TenantPlan(BaseModel):
    """What one tenant may call: its API key's usage plan.

    Parameters
    ----------
    rate_limit
        Steady requests per second.
    burst_limit
        Requests admitted at once above the rate.
    requests_per_day
        Requests per day; none: no daily quota.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_limit: float = Field(default=10.0, gt=0)
    burst_limit: int = Field(default=20, ge=1)
    requests_per_day: int | None = Field(default=None, ge=1)


class ApiConfig(BaseModel):
    """The REST API's edge (``stacks/api.py``).

    Parameters
    ----------
    rate_limit, burst_limit
        The stage's throttle: requests per second, and at once above it, for all callers.
    tenant_plans
        Per-tenant usage plans. When any is given, every call also needs the tenant's API
        key (``x-api-key``), which is how API Gateway tells callers apart for a plan; without
        any, the stage's throttle is the only limit.
    web_acl_arn
        A regional AWS WAF web ACL to put in front of the API; none: no WAF (the stage's
        ARN is an output, to associate one later).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_limit: float = Field(default=50.0, gt=0)
    burst_limit: int = Field(default=100, ge=1)
    tenant_plans: dict[TenantId, TenantPlan] = Field(default_factory=dict)
    web_acl_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/.+$"
    )


def read_cdk_json_context(cdk_json: Path) -> dict[str, Any]:
    """The ``context`` of a ``cdk.json``: the CLI passes it to the app, ``python app.py`` not."""
    context: dict[str, Any] = json.loads(cdk_json.read_text())["context"]
    return context


def stage_api_config(context: dict[str, Any], stage: str | None = None) -> ApiConfig:
    """The ``api`` of ``stage`` (default: the context's ``maas:stage``, else ``dev``).

    A stage the context does not describe, or one without ``api``, gets the defaults: what
    the stack gives such a stage. An invalid ``api`` raises pydantic's ``ValidationError``.
    """
    name = stage or context.get(STAGE_CONTEXT_KEY) or DEFAULT_STAGE
    described = (context.get(STAGES_CONTEXT_KEY) or {}).get(name) or {}
    return ApiConfig.model_validate(described.get("api") or {})


__all__ = [
    "DEFAULT_STAGE",
    "STAGES_CONTEXT_KEY",
    "STAGE_CONTEXT_KEY",
    "ApiConfig",
    "TenantPlan",
    "read_cdk_json_context",
    "stage_api_config",
]
