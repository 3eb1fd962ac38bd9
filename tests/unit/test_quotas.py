"""Tenant quotas: endpoints held, instances counted at their autoscaling maximum, atomically."""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.dynamodb import to_item
from maas.endpoints import EndpointRegistry
from maas.endpoints.quotas import LEDGER_SORT_KEY, QuotaLedger, TenantQuotas
from maas.endpoints.records import table_arguments
from maas.exceptions import Conflict, QuotaExceeded
from maas.local import dynamodb
from schemas.deployment import AutoscalingConfig
from schemas.endpoint import EndpointRecord, EndpointStatus
from tests.factories import ARTIFACTS_BUCKET, deployment_request, lambda_context

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

QUOTAS = TenantQuotas(max_endpoints=2, max_instances=4)


def record(
    name: str, status: EndpointStatus = EndpointStatus.IN_SERVICE, **extra: Any
) -> EndpointRecord:
    now = datetime.now(UTC)
    return EndpointRecord.model_validate(
        {
            "tenant_id": "acme",
            "endpoint_name": name,
            "status": status,
            "correlation_id": f"deploy-{name}",
            "model": deployment_request()["model"],
            "model_name": f"{name}-model",
            "endpoint_config_name": f"{name}-config",
            "variant_name": "AllTraffic",
            "instance_type": "ml.g5.xlarge",
            "instance_count": 1,
            "created_at": now,
            "updated_at": now,
            **extra,
        }
    )


def test_a_deployment_within_both_quotas_passes() -> None:
    QUOTAS.check_deployment([record("a")], "b", 3, None)


def test_one_endpoint_too_many_is_refused() -> None:
    with pytest.raises(QuotaExceeded, match="endpoints: the tenant has 2 of its 2"):
        QUOTAS.check_deployment([record("a"), record("b")], "c", 1, None)


def test_failed_and_deleted_endpoints_do_not_count_but_stopped_ones_do() -> None:
    released = [record("a", EndpointStatus.FAILED), record("b", EndpointStatus.DELETED)]
    QUOTAS.check_deployment(released, "c", 1, None)
    with pytest.raises(QuotaExceeded):
        QUOTAS.check_deployment([record("a", EndpointStatus.STOPPED), record("b")], "c", 1, None)


def test_redeploying_an_endpoint_does_not_count_it_twice() -> None:
    QUOTAS.check_deployment([record("a"), record("b")], "b", 1, None)


def test_instances_count_at_the_autoscaling_maximum() -> None:
    scaling = {"min_capacity": 1, "max_capacity": 3, "target_concurrent_requests": 4}
    held = [record("a", autoscaling=scaling)]

    with pytest.raises(QuotaExceeded, match="may run 3 and this one 2, above its quota of 4"):
        QUOTAS.check_deployment(held, "b", 2, None)
    with pytest.raises(QuotaExceeded):
        QUOTAS.check_deployment(
            [], "b", 1, AutoscalingConfig.model_validate({**scaling, "max_capacity": 5})
        )


# -- the ledger: holds taken and given back atomically -------------------------------------

LEDGER_QUOTAS = TenantQuotas(max_endpoints=10, max_instances=20)
TABLE = "endpoints"

CONTEXT = lambda_context()


@pytest.fixture
def registry(aws: None) -> Iterator[EndpointRegistry]:
    """The endpoints table, with moto's DynamoDB as atomic as the local runtime makes it."""
    boto3.client("dynamodb").create_table(**table_arguments(TABLE))
    with ExitStack() as stack:
        dynamodb.install(stack)
        yield EndpointRegistry(TABLE, boto3.client("dynamodb"))


@pytest.fixture
def ledger(registry: EndpointRegistry) -> QuotaLedger:
    return QuotaLedger(LEDGER_QUOTAS, registry, boto3.client("dynamodb"))


def store(registry: EndpointRegistry, *records: EndpointRecord) -> None:
    """Write records into the registry's table as it keeps them, without holding anything."""
    for item in records:
        item_key = {"pk": f"TENANT#{item.tenant_id}", "sk": f"ENDPOINT#{item.endpoint_name}"}
        boto3.client("dynamodb").put_item(
            TableName=registry.table_name, Item=to_item(item, item_key)
        )


def counts(tenant_id: str = "acme") -> tuple[int, int]:
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": LEDGER_SORT_KEY}}
    )["Item"]
    return int(item["endpoints"]["N"]), int(item["instances"]["N"])


def load(module: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import a handler afresh on the endpoints table, with a quota of 10 endpoints."""
    monkeypatch.setenv("TENANT_ROLE_ARN", "arn:aws:iam::123456789012:role/step-tenant-role")
    for name, value in {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "ENDPOINT_POLL_SECONDS": "1",
        "ENDPOINT_MAX_STATUS_CHECKS": "5",
        "ARTIFACTS_BUCKET_NAME": ARTIFACTS_BUCKET,
        "MODELS_TABLE_NAME": "models",
        "ENDPOINTS_TABLE_NAME": TABLE,
        "TENANT_MAX_ENDPOINTS": "10",
        "TENANT_MAX_INSTANCES": "20",
    }.items():
        monkeypatch.setenv(name, value)
    return importlib.reload(importlib.import_module(f"functions.{module}"))


def test_twelve_deployments_planned_at_once_admit_exactly_ten(
    registry: EndpointRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the ledger each plan counted the same records, none yet written: all 12 passed."""
    handler = load("plan_deployment", monkeypatch).handler
    start = threading.Barrier(12)

    def deploy(index: int) -> str:
        event = {
            "request": deployment_request(endpoint_name=f"chat-{index}"),
            "correlation_id": f"deploy-{index}",
        }
        start.wait()
        try:
            handler(event, CONTEXT)
        except QuotaExceeded:
            return "refused"
        return "admitted"

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(deploy, range(12)))

    assert outcomes.count("admitted") == 10
    assert outcomes.count("refused") == 2
    assert counts() == (10, 10)


def test_a_retried_plan_holds_once_and_a_held_name_is_not_held_twice(
    ledger: QuotaLedger,
) -> None:
    ledger.reserve("acme", "chat", 2, owner="deploy-1")
    ledger.reserve("acme", "chat", 2, owner="deploy-1")
    assert counts() == (1, 2)

    # Another deployment of the name: recording it decides which wins; the hold covers both.
    ledger.reserve("acme", "chat", 3, owner="deploy-2")
    assert counts() == (1, 3)
    ledger.release("acme", "chat", owner="deploy-2")  # the loser has no hold of its own
    assert counts() == (1, 3)


def test_the_quota_is_per_tenant(ledger: QuotaLedger) -> None:
    for index in range(10):
        ledger.reserve("acme", f"chat-{index}", 1, owner=f"deploy-{index}")
    with pytest.raises(QuotaExceeded, match="endpoints: the tenant has 10 of its 10"):
        ledger.reserve("acme", "one-more", 1, owner="deploy-10")
    ledger.reserve("globex", "chat-0", 1, owner="deploy-0")
    assert counts("globex") == (1, 1)


def test_instances_are_held_at_the_autoscaling_maximum(ledger: QuotaLedger) -> None:
    ledger.reserve("acme", "big", 15, owner="deploy-1")
    with pytest.raises(QuotaExceeded, match="may run 15 and this one 6, above its quota of 20"):
        ledger.reserve("acme", "small", 6, owner="deploy-2")
    assert counts() == (1, 15)


def test_a_failed_deployment_and_a_teardown_give_their_holds_back(
    registry: EndpointRegistry, ledger: QuotaLedger
) -> None:
    ledger.reserve("acme", "a", 1, owner="deploy-a")
    ledger.reserve("acme", "b", 3, owner="deploy-b")
    store(registry, record("a", EndpointStatus.FAILED, correlation_id="deploy-a"))
    ledger.settle(registry.get("acme", "a"))
    assert counts() == (1, 3)

    store(registry, record("b", EndpointStatus.DELETED, correlation_id="teardown-b"))
    ledger.settle(registry.get("acme", "b"))
    assert counts() == (0, 0)


def test_a_record_older_than_the_hold_does_not_release_a_deployment_being_planned(
    registry: EndpointRegistry, ledger: QuotaLedger
) -> None:
    """A FAILED record of the name, settled late, leaves the hold of its next deployment."""
    store(registry, record("chat", EndpointStatus.FAILED))
    ledger.reserve("acme", "chat", 1, owner="deploy-2")
    ledger.settle(registry.get("acme", "chat"))
    ledger.release("acme", "chat", owner="someone-else")
    assert counts() == (1, 1)

    ledger.release("acme", "chat", owner="deploy-2")  # refused when it came to record it
    assert counts() == (0, 0)


def test_a_refused_deployment_keeps_the_hold_of_the_live_endpoint(
    registry: EndpointRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load("plan_deployment", monkeypatch).handler
    status = load("record_endpoint_status", monkeypatch).handler
    deployment = plan({"request": deployment_request(), "correlation_id": "deploy-1"}, CONTEXT)
    status({"transition": "begin_deployment", "plan": deployment}, CONTEXT)
    status(
        {
            "transition": "mark_in_service",
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "correlation_id": "deploy-1",
            "endpoint_arn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat",
        },
        CONTEXT,
    )
    with pytest.raises(Conflict):  # the same step again, long after: the name is live
        status({"transition": "begin_deployment", "plan": deployment}, CONTEXT)
    assert counts() == (1, 1)


def test_recording_a_failed_deployment_gives_its_hold_back(
    registry: EndpointRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load("plan_deployment", monkeypatch).handler
    status = load("record_endpoint_status", monkeypatch).handler
    deployment = plan({"request": deployment_request(), "correlation_id": "deploy-1"}, CONTEXT)
    status({"transition": "begin_deployment", "plan": deployment}, CONTEXT)
    assert counts() == (1, 1)
    status(
        {
            "transition": "mark_failed",
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "correlation_id": "deploy-1",
            "error": "Maas.EndpointFailed",
            "cause": "no capacity",
        },
        CONTEXT,
    )
    assert counts() == (0, 0)


def test_scaling_grows_the_hold_first_and_settles_it_when_done(
    registry: EndpointRegistry, ledger: QuotaLedger
) -> None:
    live = record("chat", instance_count=4, correlation_id="deploy-1")
    ledger.reserve("acme", "chat", 4, owner="deploy-1")
    store(registry, live)
    ledger.reserve("acme", "other", 10, owner="deploy-2")

    with pytest.raises(QuotaExceeded, match="may run 10 and this one 11, above its quota of 20"):
        ledger.grow(live, 11)
    ledger.grow(live, 10)
    assert counts() == (2, 20)

    scaled_down = record("chat", instance_count=2, correlation_id="scale-1")
    store(registry, scaled_down)
    ledger.settle(scaled_down)
    assert counts() == (2, 12)


def test_a_changing_record_keeps_its_hold_until_the_change_ends(
    registry: EndpointRegistry, ledger: QuotaLedger
) -> None:
    live = record("chat", instance_count=1)
    store(registry, live)
    ledger.grow(live, 5)  # no hold yet (deployed before the ledger): takes one
    assert counts() == (1, 5)

    updating = record("chat", EndpointStatus.UPDATING, instance_count=1)
    ledger.settle(updating)
    assert counts() == (1, 5)
    ledger.settle(record("chat", EndpointStatus.IN_SERVICE, instance_count=1))  # abandoned
    assert counts() == (1, 1)


def test_the_ledger_opens_with_the_endpoints_deployed_before_it(
    registry: EndpointRegistry, ledger: QuotaLedger
) -> None:
    scaling = {"min_capacity": 1, "max_capacity": 3, "target_concurrent_requests": 4}
    store(
        registry,
        record("a", autoscaling=scaling),
        record("b", EndpointStatus.STOPPED),
        record("c", EndpointStatus.FAILED),
    )
    ledger.reserve("acme", "d", 1, owner="deploy-d")
    assert counts() == (3, 5)


def test_a_refused_deployment_first_gives_back_holds_no_record_justifies(
    registry: EndpointRegistry, ledger: QuotaLedger
) -> None:
    """A release that never ran (an execution stopped from outside) is caught up on."""
    for index in range(10):
        ledger.reserve("acme", f"chat-{index}", 1, owner=f"deploy-{index}")
        store(registry, record(f"chat-{index}", correlation_id=f"deploy-{index}"))
    store(registry, record("chat-3", EndpointStatus.FAILED))  # its settle was lost

    ledger.reserve("acme", "one-more", 1, owner="deploy-10")
    assert counts() == (10, 10)
