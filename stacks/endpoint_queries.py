"""CloudWatch expressions over every endpoint's metrics, written from the metric catalogue.

Endpoints are created at run time by the workflows, under names their tenants choose, so a
stack cannot list them: alarms and dashboards ask CloudWatch for "every endpoint" instead.

- Alarms use **Metrics Insights** queries (``SELECT FUNCTION(metric) FROM SCHEMA(...)``).
  Their functions are AVG, COUNT, MAX, MIN and SUM (no percentiles), and their ``WHERE``
  takes ``=``, ``!=`` and ``AND`` only (no ``LIKE``, no prefix): a query can name one
  endpoint or all of them, nothing in between. ``SEARCH`` is not allowed in alarms.
- Dashboards use ``SEARCH`` expressions, which draw one line per endpoint variant and take
  any statistic, percentiles included.

Both are restricted to the schema ``(namespace, EndpointName, VariantName)``, so they see
exactly the per-variant metrics the catalogue describes.

Examples
--------
>>> from maas.observability.catalogue import endpoint_metric
>>> insights_query(endpoint_metric("Invocation5XXErrors"), "Sum")
'SELECT SUM(Invocation5XXErrors) FROM SCHEMA("AWS/SageMaker", EndpointName, VariantName)'
>>> search_expression(endpoint_metric("ModelLatency"), "p99", period_seconds=300)
'SEARCH(\\'{"AWS/SageMaker",EndpointName,VariantName} MetricName="ModelLatency"\\', \\'p99\\', 300)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.observability.catalogue import DIMENSIONS

if TYPE_CHECKING:
    from maas.observability.catalogue import EndpointMetric

#: CloudWatch statistics that Metrics Insights can compute, and its function for each.
INSIGHTS_FUNCTIONS = {
    "Average": "AVG",
    "SampleCount": "COUNT",
    "Maximum": "MAX",
    "Minimum": "MIN",
    "Sum": "SUM",
}


def _checked(metric: EndpointMetric, statistic: str) -> str:
    # The catalogue lists the statistics that mean something for a metric (a Sum of a
    # latency, an Average of a count do not): refuse the others rather than chart nonsense.
    if statistic not in metric.statistics:
        raise ValueError(
            f"{statistic} of {metric.name} means nothing; the catalogue allows "
            f"{', '.join(metric.statistics)}"
        )
    return statistic


def insights_query(metric: EndpointMetric, statistic: str, *, per_variant: bool = False) -> str:
    """A Metrics Insights query of ``statistic`` of ``metric`` over every endpoint variant.

    Parameters
    ----------
    metric
        The catalogue's entry.
    statistic
        One of the metric's statistics that Metrics Insights computes (not a percentile).
    per_variant
        False: one series, the statistic over all matching metrics. True: one series per
        endpoint variant (``GROUP BY`` with the ``ORDER BY`` that an alarm on several series
        needs), each a contributor of the alarm.

    Raises
    ------
    ValueError
        When the statistic means nothing for the metric or Metrics Insights lacks it.
    """
    function = INSIGHTS_FUNCTIONS.get(_checked(metric, statistic))
    if function is None:
        raise ValueError(
            f"Metrics Insights has no {statistic}; it computes {', '.join(INSIGHTS_FUNCTIONS)}"
        )
    query = (
        f'SELECT {function}({metric.name}) FROM SCHEMA("{metric.namespace}", '
        f"{', '.join(DIMENSIONS)})"
    )
    if per_variant:
        query += f" GROUP BY {', '.join(DIMENSIONS)} ORDER BY {function}() DESC"
    return query


def search_expression(metric: EndpointMetric, statistic: str, *, period_seconds: int) -> str:
    """A ``SEARCH`` of ``metric`` with one series per endpoint variant, for dashboards."""
    schema = ",".join((f'"{metric.namespace}"', *DIMENSIONS))
    return (
        f"SEARCH('{{{schema}}} MetricName=\"{metric.name}\"', "
        f"'{_checked(metric, statistic)}', {period_seconds})"
    )


__all__ = ["INSIGHTS_FUNCTIONS", "insights_query", "search_expression"]
