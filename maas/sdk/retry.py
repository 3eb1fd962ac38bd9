"""Retries: 429, 5xx and connection errors, with exponential backoff, jitter and Retry-After.

A request is retried only when sending it twice cannot do a thing twice: a ``GET`` or
``HEAD``, or any request that carries an ``Idempotency-Key`` (the API answers a repeated key
with the execution the first request started). :class:`~maas.sdk.client.MaasClient` sends a
key it generates on every request that starts a workflow, so those are retried safely too.
Any other request (an invoke, which runs the model) is sent again only when it certainly did
not run: a connection that was never made, or a 429 (throttled before it reached the
function). A 5xx, a timeout or a dropped connection may have come after it ran (API Gateway
answers 504 after 29 s while the function goes on), so it is reported, never repeated.

The delay before retry ``n`` (from 0) is drawn uniformly from ``[0, min(cap, base * 2**n)]``
("full jitter", so that many clients throttled at once do not come back in step), unless the
response says how long to wait (``Retry-After``, seconds or an HTTP date), which is honoured
up to :attr:`RetryPolicy.max_retry_after`.

Examples
--------
>>> import random
>>> policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0)
>>> 0 <= policy.backoff(2, random.Random(0)) <= 4.0
True
>>> policy.delay(0, retry_after="2", rng=random.Random(0))
2.0
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

#: The header whose presence makes a request safe to repeat.
IDEMPOTENCY_HEADER = "Idempotency-Key"

#: Methods that never change anything, so are always safe to repeat.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Statuses worth another try: throttling, and the server's (or the gateway's) failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Statuses that say the request did not run: worth another try even for one that must not
#: run twice.
NOT_RUN_STATUSES = frozenset({429})

#: Transport errors that say the request never left: the connection was not made.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try a request and how long to wait between tries.

    Parameters
    ----------
    attempts
        Tries in all, the first included (1: never retry).
    base_delay
        Seconds of the first backoff's ceiling; it doubles with each retry.
    max_delay
        The backoff's ceiling, however many retries.
    max_retry_after
        The longest ``Retry-After`` honoured; a longer one is cut to this.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (from 0), with full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        return (rng or random).uniform(0, ceiling)

    def delay(
        self, retry: int, *, retry_after: str | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait: what ``Retry-After`` asks for, else the jittered backoff."""
        asked = parse_retry_after(retry_after) if retry_after else None
        if asked is not None:
            return min(asked, self.max_retry_after)
        return self.backoff(retry, rng)


def parse_retry_after(value: str, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait: delta-seconds or an HTTP date.

    Examples
    --------
    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT",
    ...                   now=datetime(2015, 10, 21, 7, 28, tzinfo=UTC))
    5.0
    >>> parse_retry_after("soon") is None
    True
    """
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_replayable(request: httpx.Request) -> bool:
    """Whether sending ``request`` again cannot do anything twice."""
    return request.method in SAFE_METHODS or IDEMPOTENCY_HEADER in request.headers


def send_with_retries(
    send: Callable[[httpx.Request], httpx.Response],
    request: httpx.Request,
    policy: RetryPolicy,
    *,
    replayable: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> httpx.Response:
    """Send ``request`` until it gets an answer worth returning, or the tries run out.

    ``replayable`` says whether the request may be sent again; None decides by
    :func:`is_replayable`. One that may not is sent again only when it did not run (a
    connection never made, a 429). The last response is returned whatever its status (the
    caller turns an error status into an exception); a connection error on the last try, or
    one after which a request that may not be replayed might have run, is raised.
    """
    if replayable is None:
        replayable = is_replayable(request)
    statuses = RETRYABLE_STATUSES if replayable else NOT_RUN_STATUSES
    tries = policy.attempts
    for retry in range(tries):
        last = retry == tries - 1
        try:
            response = send(request)
        except httpx.TransportError as exc:
            # Timeouts and refused or dropped connections: the request may not have arrived,
            # or may have arrived and run (a read timeout): only the first kind is safe to
            # repeat for a request that must not run twice.
            if last or not (replayable or isinstance(exc, _NOT_SENT)):
                raise
            sleep(policy.delay(retry, rng=rng))
            continue
        if response.status_code not in statuses or last:
            return response
        retry_after = response.headers.get("Retry-After")
        response.close()
        sleep(policy.delay(retry, retry_after=retry_after, rng=rng))
    raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover


__all__ = [
    "IDEMPOTENCY_HEADER",
    "NOT_RUN_STATUSES",
    "RETRYABLE_STATUSES",
    "SAFE_METHODS",
    "RetryPolicy",
    "is_replayable",
    "parse_retry_after",
    "send_with_retries",
]
