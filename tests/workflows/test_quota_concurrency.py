"""Quotas on the local runtime: deployments started at once are held to them exactly.

Before the quota ledger, each ``PlanDeployment`` counted the tenant's records, which none of
the concurrent deployments had written yet, and all twelve deployments against a quota of ten
came into service.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from maas.executions import wait_for_execution
from tests.factories import ARTIFACTS_BUCKET, deployment_request
from tests.workflows.conftest import run, upload_artifact

if TYPE_CHECKING:
    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime

TENANT = "busy"
#: One more than the tenant may hold twice over.
DEPLOYMENTS = 12


def test_twelve_deployments_at_once_against_a_quota_of_ten_admit_exactly_ten(
    runtime: LocalRuntime,
) -> None:
    assert runtime.settings.tenant_max_endpoints == 10
    requests = [
        deployment_request(
            tenant_id=TENANT,
            endpoint_name=f"crowd-{index}",
            model=deployment_request()["model"]
            | {"model_data_url": f"s3://{ARTIFACTS_BUCKET}/{TENANT}/smollm2/1/"},
        )
        for index in range(DEPLOYMENTS)
    ]
    upload_artifact(runtime, requests[0])
    started = [runtime.start_execution("DeployEndpoint", json.dumps(r)) for r in requests]

    def finished(arn: str) -> ExecutionSnapshot:
        return wait_for_execution(runtime.client("stepfunctions"), arn, timeout_seconds=180)

    with ThreadPoolExecutor(DEPLOYMENTS) as pool:
        snapshots = list(pool.map(finished, started))

    outcomes = sorted((snapshot.status, snapshot.error) for snapshot in snapshots)
    assert outcomes == [("FAILED", "Maas.QuotaExceeded")] * 2 + [("SUCCEEDED", None)] * 10
    refused = [snapshot for snapshot in snapshots if snapshot.status == "FAILED"]
    assert all("Create model" not in snapshot.path for snapshot in refused)

    # A teardown gives its endpoint's place back, for the next deployment to take.
    admitted = next(
        request
        for request, snapshot in zip(requests, snapshots, strict=True)
        if snapshot.status == "SUCCEEDED"
    )
    torn_down = run(
        runtime, "Teardown", {"tenant_id": TENANT, "endpoint_name": admitted["endpoint_name"]}
    )
    assert torn_down.status == "SUCCEEDED", torn_down.cause
    again = run(runtime, "DeployEndpoint", requests[-1] | {"endpoint_name": "crowd-late"})
    assert again.status == "SUCCEEDED", again.cause
