"""The CloudWatch dashboard of one stage: endpoints, workflows, functions, dead letters.

Endpoint graphs draw one line per endpoint variant through ``SEARCH`` expressions (the
endpoints are made at run time), with the metric names and statistics of the catalogue
(:mod:`maas.observability.catalogue`); the rest uses the stacks' own resources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from maas.observability.catalogue import endpoint_metric
from stacks.endpoint_queries import search_expression

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from stacks.lifecycle import LifecycleStack

#: The period of every graph.
PERIOD = Duration.minutes(5)
#: Endpoint graphs, each a title and the catalogue metrics with the statistics drawn.
ENDPOINT_GRAPHS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Invocations", (("Invocations", "Sum"),)),
    ("4xx and 5xx answers", (("Invocation4XXErrors", "Sum"), ("Invocation5XXErrors", "Sum"))),
    ("Model latency p50 / p99 (µs)", (("ModelLatency", "p50"), ("ModelLatency", "p99"))),
    ("Requests in flight per model", (("ConcurrentRequestsPerModel", "Maximum"),)),
    ("CPU (% summed over cores)", (("CPUUtilization", "Average"),)),
    ("Memory (%)", (("MemoryUtilization", "Average"),)),
    ("GPU (% summed over GPUs)", (("GPUUtilization", "Average"),)),
    ("GPU memory (% summed over GPUs)", (("GPUMemoryUtilization", "Average"),)),
)
#: How a line of a SEARCH is named: its endpoint and variant (CloudWatch dynamic labels).
_VARIANT_LABEL = "${PROP('Dim.EndpointName')}/${PROP('Dim.VariantName')}"
_WIDTH = 12
_HEIGHT = 6


class StageDashboard(Construct):
    """A dashboard named ``dashboard_name`` over the stage's endpoints and lifecycle.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    dashboard_name
        The dashboard's name.
    lifecycle
        The stage's lifecycle stack: workflows, functions and dead-letter queue to chart.
    alarms
        Alarms shown, with their state, at the top.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dashboard_name: str,
        lifecycle: LifecycleStack,
        alarms: Sequence[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.hours(3)
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24)
        )
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown="## Endpoints", width=24))
        self.dashboard.add_widgets(*(_endpoint_graph(t, m) for t, m in ENDPOINT_GRAPHS))

        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown="## Workflows", width=24))
        machines = lifecycle.state_machines
        outcomes: tuple[tuple[str, Callable[[str], cloudwatch.IMetric]], ...] = (
            ("started", lambda i: machines[i].state_machine.metric_started(label=i)),
            ("succeeded", lambda i: machines[i].state_machine.metric_succeeded(label=i)),
            ("failed", lambda i: machines[i].state_machine.metric_failed(label=i)),
        )
        self.dashboard.add_widgets(
            *(
                _graph(f"Executions {outcome}", [metric(i) for i in machines], width=8)
                for outcome, metric in outcomes
            )
        )

        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown="## Functions", width=24))
        functions = lifecycle.functions
        self.dashboard.add_widgets(
            _graph("Errors", [f.function.metric_errors(label=i) for i, f in functions.items()]),
            _graph(
                "Throttles", [f.function.metric_throttles(label=i) for i, f in functions.items()]
            ),
        )
        queue = lifecycle.dead_letter_queue
        if queue is not None:
            self.dashboard.add_widgets(
                _graph(
                    "Undelivered events (dead-letter queue)",
                    [
                        queue.metric_approximate_number_of_messages_visible(
                            label="waiting", statistic="Maximum"
                        )
                    ],
                )
            )


def _endpoint_graph(title: str, metrics: tuple[tuple[str, str], ...]) -> cloudwatch.GraphWidget:
    period = int(PERIOD.to_seconds())
    expressions: list[cloudwatch.IMetric] = [
        cloudwatch.MathExpression(
            expression=search_expression(endpoint_metric(name), statistic, period_seconds=period),
            # A dynamic label: one line per endpoint variant, each named after it.
            label=f"{name} {statistic} {_VARIANT_LABEL}",
            period=PERIOD,
        )
        for name, statistic in metrics
    ]
    return _graph(title, expressions)


def _graph(
    title: str, metrics: Sequence[cloudwatch.IMetric], *, width: int = _WIDTH
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title, left=list(metrics), width=width, height=_HEIGHT, period=PERIOD
    )


__all__ = ["ENDPOINT_GRAPHS", "PERIOD", "StageDashboard"]
