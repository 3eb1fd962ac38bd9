"""Per-tenant quotas on endpoints and instances, checked before anything is created.

A tenant's instances are counted at the most each endpoint may run: its autoscaling maximum
when it scales, its instance count otherwise, so that autoscaling can never take a tenant
past its quota. A stopped endpoint still counts (its hours start it again); failed and
deleted ones do not.

The workflows check (``PlanDeployment``, ``PlanScaling``), so a deployment started from an
event or the console is held to the quota too; the API checks the same way first, to answer
at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from maas.exceptions import QuotaExceeded
from schemas.endpoint import EndpointStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from schemas.deployment import AutoscalingConfig
    from schemas.endpoint import EndpointRecord

_RELEASED = frozenset({EndpointStatus.FAILED, EndpointStatus.DELETED})


@dataclass(frozen=True)
class TenantQuotas:
    """What one tenant may hold at once."""

    max_endpoints: int
    max_instances: int

    def check_deployment(
        self,
        records: Iterable[EndpointRecord],
        endpoint_name: str,
        instance_count: int,
        autoscaling: AutoscalingConfig | None,
    ) -> None:
        """Raise :class:`QuotaExceeded` if deploying ``endpoint_name`` would exceed a quota."""
        others = [record for record in _held(records) if record.endpoint_name != endpoint_name]
        if len(others) + 1 > self.max_endpoints:
            raise QuotaExceeded(
                f"endpoints: the tenant has {len(others)} of its {self.max_endpoints}; "
                "tear one down first"
            )
        self._check_instances(others, _most_instances(instance_count, autoscaling))

    def check_scaling(
        self,
        records: Iterable[EndpointRecord],
        endpoint_name: str,
        instance_count: int,
        autoscaling: AutoscalingConfig | None,
    ) -> None:
        """Raise :class:`QuotaExceeded` if ``endpoint_name`` scaled so would exceed a quota."""
        others = [record for record in _held(records) if record.endpoint_name != endpoint_name]
        self._check_instances(others, _most_instances(instance_count, autoscaling))

    def _check_instances(self, others: list[EndpointRecord], wanted: int) -> None:
        held = sum(_most_instances(record.instance_count, record.autoscaling) for record in others)
        if held + wanted > self.max_instances:
            raise QuotaExceeded(
                f"instances: the tenant's other endpoints may run {held} and this one {wanted}, "
                f"above its quota of {self.max_instances}"
            )


def _held(records: Iterable[EndpointRecord]) -> list[EndpointRecord]:
    return [record for record in records if record.status not in _RELEASED]


def _most_instances(instance_count: int, autoscaling: AutoscalingConfig | None) -> int:
    return max(instance_count, autoscaling.max_capacity if autoscaling else 0)


__all__ = ["TenantQuotas"]
