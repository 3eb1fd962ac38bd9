"""Tenant quotas: endpoints held, instances counted at their autoscaling maximum."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from maas.endpoints.quotas import TenantQuotas
from maas.exceptions import QuotaExceeded
from schemas.deployment import AutoscalingConfig
from schemas.endpoint import EndpointRecord, EndpointStatus
from tests.factories import deployment_request

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


def test_scaling_is_held_to_the_instance_quota() -> None:
    QUOTAS.check_scaling([record("a"), record("b")], "b", 3, None)
    with pytest.raises(QuotaExceeded):
        QUOTAS.check_scaling([record("a"), record("b")], "b", 4, None)
