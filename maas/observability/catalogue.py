"""The catalogue of endpoint metrics: what SageMaker publishes, where, and how to read it.

Why this exists: SageMaker puts an endpoint's figures in two CloudWatch namespaces with the
same dimensions, and a figure read with the wrong namespace, unit or statistic silently comes
back empty or meaningless (a ``Sum`` of a latency, an ``Average`` of a count). Every reader
(``maas endpoints top``, the API, dashboards) takes the names, units and statistics from here.

- ``AWS/SageMaker``, dimensions ``EndpointName`` and ``VariantName``: the invocation metrics,
  reported by SageMaker's front end for each ``InvokeEndpoint`` (``ConcurrentRequestsPerModel``
  is a high-resolution metric, reported every 10 seconds).
- ``/aws/sagemaker/Endpoints``, the same dimensions: the instance metrics, reported by the
  agent on each instance. Utilizations are percentages *summed over the instance's CPUs or
  GPUs*: 400 % is four busy cores; memory and disk are percentages of the instance's whole.

Examples
--------
>>> endpoint_metric("ModelLatency").unit
'Microseconds'
>>> endpoint_metric("GPUUtilization").namespace
'/aws/sagemaker/Endpoints'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from maas.exceptions import ValidationError

#: Where SageMaker reports invocation metrics.
INVOCATION_NAMESPACE = "AWS/SageMaker"
#: Where SageMaker reports the instances' utilization.
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
#: The dimensions of every endpoint metric, in this order.
DIMENSIONS = ("EndpointName", "VariantName")


class MetricScope(StrEnum):
    """Who reports a metric: SageMaker's front end, or the agent on each instance."""

    INVOCATION = "invocation"
    INSTANCE = "instance"


@dataclass(frozen=True)
class EndpointMetric:
    """One metric SageMaker publishes for an endpoint's production variant.

    Attributes
    ----------
    name
        The CloudWatch metric name.
    namespace
        ``AWS/SageMaker`` or ``/aws/sagemaker/Endpoints``.
    unit
        The unit SageMaker reports it in.
    statistics
        The statistics a reader asks for, the first being the headline figure (the valid
        statistic that means something for this metric).
    description
        What the figure says, in one sentence.
    """

    name: str
    namespace: str
    unit: str
    statistics: tuple[str, ...]
    description: str

    @property
    def scope(self) -> MetricScope:
        """Whether the front end or the instances report it."""
        if self.namespace == INSTANCE_NAMESPACE:
            return MetricScope.INSTANCE
        return MetricScope.INVOCATION


def _invocation(name: str, unit: str, statistics: tuple[str, ...], text: str) -> EndpointMetric:
    return EndpointMetric(name, INVOCATION_NAMESPACE, unit, statistics, text)


def _instance(name: str, text: str) -> EndpointMetric:
    return EndpointMetric(name, INSTANCE_NAMESPACE, "Percent", ("Average", "Maximum"), text)


#: Every metric the platform reads, by name.
ENDPOINT_METRICS: dict[str, EndpointMetric] = {
    metric.name: metric
    for metric in (
        _invocation("Invocations", "None", ("Sum",), "InvokeEndpoint requests sent to the model."),
        _invocation(
            "InvocationsPerInstance",
            "None",
            ("Sum",),
            "Invocations divided by the variant's instance count at the time of each request.",
        ),
        _invocation(
            "Invocation4XXErrors",
            "None",
            ("Sum",),
            "Requests the model answered with a 4xx status.",
        ),
        _invocation(
            "Invocation5XXErrors",
            "None",
            ("Sum",),
            "Requests the model answered with a 5xx status, timed out or could not reach.",
        ),
        _invocation(
            "ModelLatency",
            "Microseconds",
            ("Average", "p50", "p99"),
            "Time the model took to answer, as SageMaker saw it.",
        ),
        _invocation(
            "OverheadLatency",
            "Microseconds",
            ("Average",),
            "Time SageMaker added on top of the model's latency.",
        ),
        _invocation(
            "ConcurrentRequestsPerModel",
            "None",
            ("Maximum",),
            "Requests in flight to the model's container (high resolution, every 10 s).",
        ),
        _instance("CPUUtilization", "CPU used, summed over the instance's cores."),
        _instance("MemoryUtilization", "Memory used by the containers, of the instance's."),
        _instance("GPUUtilization", "GPU used, summed over the instance's GPUs."),
        _instance("GPUMemoryUtilization", "GPU memory used, summed over the instance's GPUs."),
        _instance("DiskUtilization", "Disk space used, of the instance's volume."),
    )
}


def endpoint_metric(name: str) -> EndpointMetric:
    """The catalogue's entry for ``name``.

    Raises
    ------
    ValidationError
        ``name`` is not an endpoint metric; the message lists the known ones.

    Examples
    --------
    >>> try:
    ...     endpoint_metric("Latency")
    ... except ValidationError as error:
    ...     print(error.message.split("; ")[0])
    metrics: unknown endpoint metric 'Latency'
    """
    try:
        return ENDPOINT_METRICS[name]
    except KeyError:
        known = ", ".join(sorted(ENDPOINT_METRICS))
        raise ValidationError(
            f"metrics: unknown endpoint metric {name!r}; known: {known}"
        ) from None


__all__ = [
    "DIMENSIONS",
    "ENDPOINT_METRICS",
    "INSTANCE_NAMESPACE",
    "INVOCATION_NAMESPACE",
    "EndpointMetric",
    "MetricScope",
    "endpoint_metric",
]
