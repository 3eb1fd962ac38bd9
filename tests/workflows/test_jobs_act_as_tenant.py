"""Batch jobs act as their tenant on the local runtime too: the packaging job assumes its
tenant role (the job definition's ``TENANT_ROLE_ARN``) with the tenant as its session tag
before it touches anything (``containers/packager/entrypoint.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.local.batch import BATCH_LOG_GROUP
from tests.factories import packaging_request
from tests.fixtures.models import write_tiny_llama
from tests.workflows.test_package_model import package

if TYPE_CHECKING:
    import pytest

    from maas.local import LocalRuntime


def test_the_packaging_job_works_under_its_tenants_session(
    runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model = write_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
    document = packaging_request(
        tenant_id="acme",
        model_name="session-check",
        source={"kind": "local", "path": str(model)},
        serving={"context_tokens": 2048, "concurrent_requests": 4},
    )
    assert package(runtime, document).status == "SUCCEEDED"
    events = runtime.client("logs").filter_log_events(logGroupName=BATCH_LOG_GROUP)["events"]
    role = runtime.resources.roles["PackagerTenantRole"]
    assert any(event["message"] == f"tenant  acme: acting through {role}" for event in events), [
        event["message"] for event in events
    ][:5]
