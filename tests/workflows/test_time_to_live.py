"""A deployment's time-to-live fires on the local runtime: the endpoint tears itself down."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.workflows.conftest import published, record

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


#: Long enough for the deployment to finish first, on two busy cores too (a deployment took
#: more than 8 s there, and the schedule had fired and gone before it was looked for): a
#: schedule due while the endpoint is still being created would find it not yet in service.
LIFETIME_SECONDS = 20


def test_an_expired_endpoint_is_torn_down_by_its_schedule(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    expires_at = datetime.now(UTC) + timedelta(seconds=LIFETIME_SECONDS)
    deployed = deploy(endpoint_name="short-lived", expires_at=expires_at.isoformat())
    assert deployed.status == "SUCCEEDED", deployed.cause
    schedules = runtime.client("scheduler").list_schedules()["Schedules"]
    assert any(schedule["Name"].startswith("maas-ttl-short-lived") for schedule in schedules)

    deadline = time.monotonic() + LIFETIME_SECONDS + 20
    while time.monotonic() < deadline and not published(runtime, "EndpointDeleted", "short-lived"):
        time.sleep(0.5)

    [deleted] = published(runtime, "EndpointDeleted", "short-lived")
    assert deleted["detail"]["model_deleted"] is True
    item = record(runtime, "acme", "short-lived")
    assert item is not None and item["status"]["S"] == "DELETED"
    endpoints = runtime.client("sagemaker").list_endpoints()["Endpoints"]
    assert "short-lived" not in [endpoint["EndpointName"] for endpoint in endpoints]
    schedules = runtime.client("scheduler").list_schedules()["Schedules"]
    assert not any(schedule["Name"].startswith("maas-ttl-short-lived") for schedule in schedules)
    assert runtime.scheduler.failed_deliveries == []
