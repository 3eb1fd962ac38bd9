"""What an endpoint looks like at one moment: its status, instances and latest figures."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas import EndpointStatus

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class MetricReading(BaseModel):
    """The latest value of one statistic of one metric over the window read."""

    model_config = _FROZEN

    metric: str
    namespace: str
    statistic: str
    unit: str
    value: float | None = Field(
        description="The value of the most recent period with data; None when no datapoint "
        "was reported in the window (not the same as zero)."
    )
    timestamp: AwareDatetime | None = Field(description="The start of that period.")


class VariantSnapshot(BaseModel):
    """One production variant: its instances and its readings."""

    model_config = _FROZEN

    variant_name: str
    instance_type: str | None = None
    desired_instance_count: int | None = Field(
        default=None, description="DescribeEndpoint's DesiredInstanceCount; None when unknown."
    )
    current_instance_count: int | None = Field(
        default=None, description="DescribeEndpoint's CurrentInstanceCount; None when unknown."
    )
    readings: tuple[MetricReading, ...] = ()

    def value(self, metric: str, statistic: str | None = None) -> float | None:
        """The reading of ``metric`` (its first statistic unless one is named), or None.

        Examples
        --------
        >>> variant = VariantSnapshot(variant_name="AllTraffic", readings=(MetricReading(
        ...     metric="Invocations", namespace="AWS/SageMaker", statistic="Sum", unit="None",
        ...     value=3.0, timestamp=None),))
        >>> variant.value("Invocations"), variant.value("ModelLatency")
        (3.0, None)
        """
        for reading in self.readings:
            if reading.metric == metric and statistic in (None, reading.statistic):
                return reading.value
        return None


class EndpointSnapshot(BaseModel):
    """An endpoint of a tenant as SageMaker and CloudWatch describe it at ``read_at``."""

    model_config = _FROZEN

    tenant_id: str
    endpoint_name: str
    record_status: EndpointStatus = Field(description="The platform's registry record's status.")
    status: str | None = Field(
        description="SageMaker's EndpointStatus; None when SageMaker holds no such endpoint "
        "(a stopped endpoint, or one deleted outside the platform)."
    )
    failure_reason: str | None = None
    read_at: AwareDatetime
    window_seconds: int
    period_seconds: int
    variants: tuple[VariantSnapshot, ...]


__all__ = ["EndpointSnapshot", "MetricReading", "VariantSnapshot"]
