"""``MaasClient.usage`` and ``maas usage``: the tenant's usage report, typed and as a table.

Counters are written as the API writes them (the tenant's session, :class:`UsageMeter`) at a
fixed hour, so that the window, its time zones and the sums are known;
tests/api/test_api_openai.py meters real requests to a served model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from maas.cli.main import app
from maas.sdk import MaasApiError, MaasClient
from maas.tenancy import TenantSessions
from maas.usage import UsageMeter
from schemas.usage import UsageCounts

if TYPE_CHECKING:
    from pathlib import Path

    from tests.sdk.conftest import ServedApi

HOUR = datetime(2026, 5, 4, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def recorded(served: ServedApi) -> None:
    runtime = served.runtime
    session = TenantSessions(
        runtime.resources.roles["TenantAccessRole"], runtime.client("sts")
    ).for_tenant("acme")
    meter = UsageMeter(runtime.resources.tables["ModelsTable"], session.client("dynamodb"))
    meter.record("acme", "chat", UsageCounts(requests=3, tokens_in=30, tokens_out=12), at=HOUR)
    meter.record("acme", "chat", UsageCounts(requests=1, errors=1), at=HOUR + timedelta(hours=2))


@pytest.fixture
def no_user_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))


@pytest.mark.usefixtures("recorded")
def test_the_sdk_reads_a_window_in_any_time_zone(maas: MaasClient) -> None:
    # 10:00 at +02:00 is 08:00 UTC: the window is 08:00 to 11:00 UTC.
    plus_two = timezone(timedelta(hours=2))
    report = maas.usage(
        start=datetime(2026, 5, 4, 10, 15, tzinfo=plus_two),
        end=datetime(2026, 5, 4, 12, 30, tzinfo=plus_two),
    )
    by_hour = maas.usage(start=HOUR, end=HOUR + timedelta(hours=3), group_by="hour")

    assert (report.from_, report.to) == (HOUR, HOUR + timedelta(hours=3))
    (row,) = report.items
    assert (row.endpoint_name, row.requests, row.errors, row.tokens_in, row.tokens_out) == (
        "chat",
        4,
        1,
        30,
        12,
    )
    assert report.cost_basis.estimate is True
    assert [(item.hour, item.requests) for item in by_hour.items] == [
        (HOUR, 3),
        (HOUR + timedelta(hours=2), 1),
    ]


@pytest.mark.usefixtures("recorded")
def test_another_tenant_reads_nothing(served: ServedApi) -> None:
    with MaasClient(served.url, served.tokens.issue("globex")) as theirs:
        report = theirs.usage(start=HOUR, end=HOUR + timedelta(hours=3))

    assert report.items == []
    assert report.totals.requests == 0


def test_a_window_backwards_is_refused_naming_from(maas: MaasClient) -> None:
    with pytest.raises(MaasApiError) as refused:
        maas.usage(start=HOUR, end=HOUR - timedelta(hours=1))

    assert refused.value.status == 422
    assert list(refused.value.field_errors) == ["from"]


@pytest.mark.usefixtures("recorded", "no_user_profile")
def test_the_cli_prints_the_usage_and_how_cost_is_estimated(served: ServedApi) -> None:
    connection = ["--api-url", served.url, "--token", served.token]
    window = ["--from", "2026-05-04T08:00:00+00:00", "--to", "2026-05-04T11:00:00+00:00"]

    shown = CliRunner().invoke(app, ["usage", *window, *connection])
    as_json = CliRunner().invoke(app, ["usage", *window, "--by-hour", "--json", *connection])

    assert shown.exit_code == 0, shown.output
    assert "chat" in shown.output
    assert "instance-hours" in shown.output
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["group_by"] == "hour"
    assert document["totals"]["requests"] == 4
