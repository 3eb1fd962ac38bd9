"""Read an endpoint's live figures: DescribeEndpoint for its instances, one GetMetricData.

Why this exists: an endpoint's state is spread over three places (the platform's registry
says whose it is, SageMaker how many instances it has, CloudWatch what they do) and each
figure has its own namespace, unit and statistic (:mod:`maas.observability.catalogue`). The
reader asks each once and returns one typed :class:`EndpointSnapshot`; it talks to whatever
boto3 is configured for, AWS or the local runtime, and knows nothing of either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from maas.aws import error_code
from maas.exceptions import ValidationError
from maas.observability.catalogue import DIMENSIONS, ENDPOINT_METRICS, endpoint_metric
from maas.observability.snapshot import EndpointSnapshot, MetricReading, VariantSnapshot
from schemas import EndpointStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from maas.endpoints.records import EndpointRegistry
    from maas.observability.catalogue import EndpointMetric
    from schemas import EndpointRecord

#: Periods CloudWatch accepts: high-resolution ones, or whole minutes.
_HIGH_RESOLUTION_PERIODS = frozenset({1, 5, 10, 30})
#: Records that claim no endpoint any more.
_GONE = frozenset({EndpointStatus.DELETED})


def _now() -> datetime:
    return datetime.now(UTC)


def _check_window(window_seconds: int, period_seconds: int) -> None:
    if period_seconds not in _HIGH_RESOLUTION_PERIODS and (
        period_seconds < 60 or period_seconds % 60
    ):
        raise ValidationError(
            f"period_seconds: {period_seconds} is not 1, 5, 10, 30 or a multiple of 60"
        )
    if window_seconds < period_seconds:
        raise ValidationError(
            f"window_seconds: {window_seconds} is shorter than one period ({period_seconds})"
        )


class EndpointMetricsReader:
    """Snapshots of a tenant's endpoints.

    Parameters
    ----------
    registry
        The endpoint registry: an endpoint is read only for the tenant its record names.
    sagemaker, cloudwatch
        boto3 clients.
    clock
        The current time (a test's fixed moment).

    Examples
    --------
    .. code-block:: python

        reader = EndpointMetricsReader(registry, client("sagemaker"), client("cloudwatch"))
        snapshot = reader.read("acme", "chat", window_seconds=300)
        snapshot.variants[0].value("ConcurrentRequestsPerModel")
    """

    def __init__(
        self,
        registry: EndpointRegistry,
        sagemaker: Any,
        cloudwatch: Any,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._registry = registry
        self._sagemaker = sagemaker
        self._cloudwatch = cloudwatch
        self._clock = clock

    def endpoint_names(self, tenant_id: str) -> list[str]:
        """The tenant's endpoints that are not deleted, by name."""
        return sorted(
            record.endpoint_name
            for record in self._registry.tenant_records(tenant_id)
            if record.status not in _GONE
        )

    def read(
        self,
        tenant_id: str,
        endpoint_name: str,
        *,
        metrics: Sequence[str] | None = None,
        window_seconds: int = 300,
        period_seconds: int = 60,
    ) -> EndpointSnapshot:
        """The endpoint's status, instances and the latest value of each metric in the window.

        Parameters
        ----------
        metrics
            Catalogue names to read; every metric of the catalogue by default.
        window_seconds
            How far back to look for the latest datapoint.
        period_seconds
            The period each value is aggregated over (60: invocations are per minute).

        Raises
        ------
        ValidationError
            An unknown metric (the message lists the known ones), or a bad window.
        NotFound
            The tenant has no endpoint of that name.
        """
        wanted = [endpoint_metric(name) for name in (metrics or ENDPOINT_METRICS)]
        _check_window(window_seconds, period_seconds)
        record = self._registry.get(tenant_id, endpoint_name)
        read_at = self._clock()
        # SageMaker and CloudWatch know the endpoint by the name derived for its tenant.
        described = self._describe(record.sagemaker_endpoint_name)
        variants = self._variants(record, described)
        readings = self._readings(
            record.sagemaker_endpoint_name,
            [variant.variant_name for variant in variants],
            wanted,
            start=read_at - timedelta(seconds=window_seconds),
            end=read_at,
            period_seconds=period_seconds,
        )
        return EndpointSnapshot(
            tenant_id=tenant_id,
            endpoint_name=endpoint_name,
            record_status=record.status,
            status=described.get("EndpointStatus") if described else None,
            failure_reason=(described or {}).get("FailureReason") or record.failure_reason,
            read_at=read_at,
            window_seconds=window_seconds,
            period_seconds=period_seconds,
            variants=tuple(
                variant.model_copy(update={"readings": readings[variant.variant_name]})
                for variant in variants
            ),
        )

    def _describe(self, endpoint_name: str) -> dict[str, Any] | None:
        try:
            return dict(self._sagemaker.describe_endpoint(EndpointName=endpoint_name))
        except ClientError as error:
            # SageMaker's answer for an endpoint it does not hold ("Could not find endpoint").
            if error_code(error) == "ValidationException":
                return None
            raise

    @staticmethod
    def _variants(
        record: EndpointRecord, described: dict[str, Any] | None
    ) -> list[VariantSnapshot]:
        variants = (described or {}).get("ProductionVariants") or []
        if not variants:
            return [VariantSnapshot(variant_name=record.variant_name)]
        return [
            VariantSnapshot(
                variant_name=variant["VariantName"],
                instance_type=(
                    record.instance_type if variant["VariantName"] == record.variant_name else None
                ),
                desired_instance_count=variant.get("DesiredInstanceCount"),
                current_instance_count=variant.get("CurrentInstanceCount"),
            )
            for variant in variants
        ]

    def _readings(
        self,
        endpoint_name: str,
        variant_names: list[str],
        wanted: list[EndpointMetric],
        *,
        start: datetime,
        end: datetime,
        period_seconds: int,
    ) -> dict[str, tuple[MetricReading, ...]]:
        queries: dict[str, tuple[str, EndpointMetric, str]] = {}
        for variant_name in variant_names:
            for metric in wanted:
                for statistic in metric.statistics:
                    queries[f"m{len(queries)}"] = (variant_name, metric, statistic)
        values = self._latest_values(
            endpoint_name, queries, start=start, end=end, period_seconds=period_seconds
        )
        readings: dict[str, list[MetricReading]] = {name: [] for name in variant_names}
        for query_id, (variant_name, metric, statistic) in queries.items():
            value, timestamp = values.get(query_id, (None, None))
            readings[variant_name].append(
                MetricReading(
                    metric=metric.name,
                    namespace=metric.namespace,
                    statistic=statistic,
                    unit=metric.unit,
                    value=value,
                    timestamp=timestamp,
                )
            )
        return {name: tuple(found) for name, found in readings.items()}

    def _latest_values(
        self,
        endpoint_name: str,
        queries: dict[str, tuple[str, EndpointMetric, str]],
        *,
        start: datetime,
        end: datetime,
        period_seconds: int,
    ) -> dict[str, tuple[float, datetime]]:
        """Query id -> the newest (value, period start), for the queries with data."""
        arguments: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": metric.namespace,
                            "MetricName": metric.name,
                            "Dimensions": [
                                {"Name": name, "Value": value}
                                for name, value in zip(
                                    DIMENSIONS, (endpoint_name, variant_name), strict=True
                                )
                            ],
                        },
                        "Period": period_seconds,
                        "Stat": statistic,
                    },
                    "ReturnData": True,
                }
                for query_id, (variant_name, metric, statistic) in queries.items()
            ],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampDescending",
        }
        latest: dict[str, tuple[float, datetime]] = {}
        while True:
            response = self._cloudwatch.get_metric_data(**arguments)
            for result in response["MetricDataResults"]:
                pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                for timestamp, value in pairs:
                    moment = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
                    known = latest.get(result["Id"])
                    if value is not None and (known is None or moment > known[1]):
                        latest[result["Id"]] = (float(value), moment)
            if not response.get("NextToken"):
                return latest
            arguments["NextToken"] = response["NextToken"]


__all__ = ["EndpointMetricsReader"]
