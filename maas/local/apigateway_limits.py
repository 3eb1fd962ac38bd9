"""The stage's throttle and usage plans on the local API, as API Gateway applies them.

The same :class:`maas.api_limits.ApiConfig` the stack deploys (``stacks/api.py``: the
stage's ``throttling_rate_limit``/``throttling_burst_limit``, one usage plan and API key
per tenant of ``tenant_plans``) is applied here, read from the same ``cdk.json`` stage by
``maas local up``:

- **The stage's throttle**: a token bucket of ``rate_limit`` tokens a second holding at
  most ``burst_limit``; a request past it is answered ``429 {"message":"Too Many
  Requests"}`` (the ``THROTTLED`` gateway response,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
- **Usage plans**: with any, every method needs an API key (``x-api-key``); a request
  without one, or with a key no plan has, is ``403 {"message":"Forbidden"}``
  (``API_KEY_INVALID``,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
  Each key has its plan's own bucket (429 as above) and, with ``requests_per_day``, a
  quota of requests per UTC day, past which it is ``429 {"message":"Limit Exceeded"}``
  (``QUOTA_EXCEEDED``). AWS applies "per-client ... throttling limits that you set for an
  API stage in a usage plan" before the stage's, and so does this
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html).

On AWS the stack lets API Gateway generate each tenant's key; here each is generated when
the API is served (:meth:`GatewayLimits.from_config`) and ``maas local up`` prints them.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from maas.api_limits import ApiConfig

#: What API Gateway answers past a throttle (the THROTTLED gateway response).
TOO_MANY_REQUESTS = {"message": "Too Many Requests"}
#: What it answers past a usage plan's quota (QUOTA_EXCEEDED).
LIMIT_EXCEEDED = {"message": "Limit Exceeded"}
#: What it answers without a valid API key where one is required (API_KEY_INVALID).
FORBIDDEN = {"message": "Forbidden"}

#: API Gateway's generated keys: 40 letters and digits.
_KEY_ALPHABET = string.ascii_letters + string.digits
_KEY_LENGTH = 40


class TokenBucket:
    """API Gateway's throttle: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Whether a request may pass now (it takes a token if so)."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


@dataclass
class _DailyQuota:
    """Requests per UTC day (a usage plan's ``DAY`` period starts at 00:00 UTC)."""

    limit: int
    day: str = ""
    used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        today = datetime.now(UTC).date().isoformat()
        with self.lock:
            if today != self.day:
                self.day, self.used = today, 0
            if self.used >= self.limit:
                return False
            self.used += 1
            return True


@dataclass
class UsagePlan:
    """One tenant's plan, as its API key sees it."""

    tenant: str
    bucket: TokenBucket
    quota: _DailyQuota | None = None


@dataclass(frozen=True)
class Refusal:
    """A request the limits turn away: its status, body and ``x-amzn-ErrorType``."""

    status: int
    body: Mapping[str, str]
    error_type: str
    reason: str


class GatewayLimits:
    """The stage's throttle and the usage plans (by API key) the local API applies.

    Parameters
    ----------
    rate, burst
        The stage's throttle.
    plans
        API key -> its usage plan; empty: no key is required.
    """

    def __init__(self, rate: float, burst: int, plans: Mapping[str, UsagePlan] | None = None):
        self.stage = TokenBucket(rate, burst)
        self.plans = dict(plans or {})

    @classmethod
    def from_config(cls, config: ApiConfig, keys: Mapping[str, str] | None = None) -> GatewayLimits:
        """The limits ``config`` sets, with ``keys`` (tenant -> API key; default generated)."""
        given = dict(keys or {})
        plans: dict[str, UsagePlan] = {}
        for tenant, plan in sorted(config.tenant_plans.items()):
            key = given.get(tenant) or "".join(
                secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_LENGTH)
            )
            plans[key] = UsagePlan(
                tenant=tenant,
                bucket=TokenBucket(plan.rate_limit, plan.burst_limit),
                quota=_DailyQuota(plan.requests_per_day) if plan.requests_per_day else None,
            )
        return cls(config.rate_limit, config.burst_limit, plans)

    @property
    def api_keys(self) -> dict[str, str]:
        """Tenant -> its API key (what a caller sends as ``x-api-key``)."""
        return {plan.tenant: key for key, plan in self.plans.items()}

    def check(self, api_key: str | None) -> Refusal | None:
        """Whether a request with ``api_key`` may pass now: None, else why not.

        In API Gateway's order: the key, its plan's throttle, the stage's throttle; the
        plan's quota last, so that it counts the requests that were let through.
        """
        plan: UsagePlan | None = None
        if self.plans:
            plan = self.plans.get(api_key or "")
            if plan is None:
                return Refusal(403, FORBIDDEN, "ForbiddenException", "no valid API key")
            if not plan.bucket.take():
                return Refusal(
                    429,
                    TOO_MANY_REQUESTS,
                    "TooManyRequestsException",
                    f"past tenant {plan.tenant}'s usage plan throttle",
                )
        if not self.stage.take():
            return Refusal(
                429, TOO_MANY_REQUESTS, "TooManyRequestsException", "past the stage's throttle"
            )
        if plan is not None and plan.quota is not None and not plan.quota.take():
            return Refusal(
                429, LIMIT_EXCEEDED, "LimitExceededException", f"past tenant {plan.tenant}'s quota"
            )
        return None


__all__ = [
    "FORBIDDEN",
    "LIMIT_EXCEEDED",
    "TOO_MANY_REQUESTS",
    "GatewayLimits",
    "Refusal",
    "TokenBucket",
    "UsagePlan",
]
