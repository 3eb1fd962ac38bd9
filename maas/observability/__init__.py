"""Endpoint observability: the catalogue of SageMaker's endpoint metrics and a live reader."""

from maas.observability.catalogue import (
    DIMENSIONS,
    ENDPOINT_METRICS,
    INSTANCE_NAMESPACE,
    INVOCATION_NAMESPACE,
    EndpointMetric,
    MetricScope,
    endpoint_metric,
)
from maas.observability.reader import EndpointMetricsReader
from maas.observability.snapshot import EndpointSnapshot, MetricReading, VariantSnapshot

__all__ = [
    "DIMENSIONS",
    "ENDPOINT_METRICS",
    "INSTANCE_NAMESPACE",
    "INVOCATION_NAMESPACE",
    "EndpointMetric",
    "EndpointMetricsReader",
    "EndpointSnapshot",
    "MetricReading",
    "MetricScope",
    "VariantSnapshot",
    "endpoint_metric",
]
