"""/v1/usage over the counters: windows in whole hours, atomic counts, tenants apart.

The counters are written here as the API writes them (:class:`maas.usage.UsageMeter`, through
the tenant's own session, which IAM holds to the tenant's partition), so that hours other than
the present one can be read; tests/api/test_api_openai.py meters real requests end to end.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from maas.tenancy import TenantSessions
from maas.usage import UsageMeter
from schemas.usage import UsageCounts

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import ApiCaller

HOUR = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def meter(runtime: LocalRuntime) -> UsageMeter:
    """The meter as the API function has it: acme's session on the models table."""
    role = runtime.resources.roles["TenantAccessRole"]
    session = TenantSessions(role, runtime.client("sts")).for_tenant("acme")
    return UsageMeter(runtime.resources.tables["ModelsTable"], session.client("dynamodb"))


@pytest.fixture(scope="module")
def recorded(meter: UsageMeter) -> None:
    # 40 requests at once on one hour's item: ADD loses none of them.
    one = UsageCounts(requests=1, tokens_in=7, tokens_out=3)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: meter.record("acme", "chat", one, at=HOUR), range(40)))
    meter.record("acme", "chat", UsageCounts(requests=1, errors=1), at=HOUR + timedelta(hours=1))
    meter.record("acme", "embed", UsageCounts(requests=2, tokens_in=5), at=HOUR)


def _usage(api: ApiCaller, query: str, tenant: str = "acme") -> dict[str, object]:
    answer = api("GET", f"/v1/usage?{query}", tenant=tenant)
    assert answer.status == 200, answer.body
    body: dict[str, object] = answer.body
    return body


@pytest.mark.usefixtures("recorded")
def test_concurrent_requests_are_all_counted(api: ApiCaller) -> None:
    report = _usage(api, "from=2026-03-02T10:00:00Z&to=2026-03-02T11:00:00Z")

    assert report["from"] == "2026-03-02T10:00:00Z"
    assert report["to"] == "2026-03-02T11:00:00Z"
    rows = {row["endpoint_name"]: row for row in report["items"]}  # type: ignore[attr-defined]
    assert (rows["chat"]["requests"], rows["chat"]["tokens_in"], rows["chat"]["tokens_out"]) == (
        40,
        280,
        120,
    )
    assert rows["chat"]["errors"] == 0  # the next hour's error is outside the window
    assert rows["embed"]["requests"] == 2
    assert report["totals"]["requests"] == 42  # type: ignore[index]


@pytest.mark.usefixtures("recorded")
def test_a_window_is_read_in_whole_hours_and_by_hour(api: ApiCaller) -> None:
    report = _usage(api, "from=2026-03-02T10:30:00Z&to=2026-03-02T11:05:00Z&group_by=hour")

    assert (report["from"], report["to"]) == ("2026-03-02T10:00:00Z", "2026-03-02T12:00:00Z")
    hours = [(row["hour"], row["requests"], row["errors"]) for row in report["items"]]  # type: ignore[attr-defined]
    assert hours == [("2026-03-02T10:00:00Z", 42, 0), ("2026-03-02T11:00:00Z", 1, 1)]


@pytest.mark.usefixtures("recorded")
def test_another_tenant_sees_none_of_it(api: ApiCaller) -> None:
    report = _usage(api, "from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z", tenant="globex")

    assert report["items"] == []
    assert report["totals"]["requests"] == 0  # type: ignore[index]


def test_the_session_cannot_count_for_another_tenant(meter: UsageMeter) -> None:
    with pytest.raises(ClientError, match="AccessDenied"):
        meter.record("globex", "chat", UsageCounts(requests=1), at=HOUR)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-02T10:00:00", "from"),
        ("from=2026-03-02T12:00:00Z&to=2026-03-02T10:00:00Z", "from"),
        ("from=2024-01-01T00:00:00Z&to=2026-03-02T10:00:00Z", "from"),
        ("group_by=model", "group_by"),
    ],
)
def test_a_bad_window_is_a_422_naming_the_field(api: ApiCaller, query: str, field: str) -> None:
    answer = api("GET", f"/v1/usage?{query}")

    assert answer.status == 422, answer.body
    assert answer.problem_fields == [field]
