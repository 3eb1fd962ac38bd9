"""The observability stack: the stage's alarms, the topic they notify, and its dashboard.

Alarms watch the endpoints (5xx rate, model latency, GPU memory), every workflow (failed
executions) and the rules' dead-letter queue; each tells the stage's SNS topic when it goes
into ALARM and when it is OK again. Thresholds come from the stage configuration
(:class:`stacks.config.AlarmsConfig`). The dashboard is :class:`StageDashboard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from maas.naming import kebab
from maas.observability.catalogue import endpoint_metric
from stacks import iam_policies
from stacks.constructs.stage_dashboard import StageDashboard
from stacks.endpoint_queries import insights_query

if TYPE_CHECKING:
    from aws_cdk import Environment
    from constructs import Construct

    from stacks.config import StageConfig
    from stacks.lifecycle import LifecycleStack

#: The period every alarm evaluates; SageMaker's invocation metrics are per minute.
ALARM_PERIOD = Duration.minutes(5)
#: Microseconds (ModelLatency's unit) in a millisecond (the configuration's).
_US_PER_MS = 1000


class ObservabilityStack(Stack):
    """Alarm topic, alarms and dashboard of one stage.

    Parameters
    ----------
    scope, id
        Where the stack lives.
    config
        The stage configuration (thresholds under ``alarms``).
    lifecycle
        The stage's lifecycle stack: its functions, state machines and dead-letter queue.
    env
        The target account and region, or None for an environment-agnostic template.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        lifecycle: LifecycleStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name("observability"),
            description="maas control plane: alarms, their SNS topic, and the stage dashboard.",
            env=env,
        )
        self._config = config
        #: Every alarm's name starts with this; the topic admits only their notifications.
        self.alarm_name_prefix = f"maas-{config.name}-"

        # --- Where alarms go ------------------------------------------------------------
        # A key of its own: CloudWatch may use it (the key policy must say so), and the
        # foundation's key, which encrypts the data, stays out of the service's reach.
        self.topic_key = kms.Key(
            self,
            "AlarmTopicKey",
            alias=f"maas/{config.name}/alarms",
            description="Encrypts the maas alarm topic; CloudWatch may use it to publish.",
            enable_key_rotation=True,
            removal_policy=config.cdk_removal_policy,
        )
        self.topic_key.add_to_resource_policy(iam_policies.alarms_use_key())
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"maas-{config.name}-alarms",
            display_name=f"maas {config.name} alarms",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam_policies.alarms_publish(self.topic.topic_arn, self.alarm_name_prefix)
        )
        for address in config.alarms.notify_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))

        # --- Alarms ---------------------------------------------------------------------
        self.alarms: dict[str, cloudwatch.Alarm] = {
            "EndpointErrorRate": self._endpoint_error_rate(),
            "EndpointModelLatency": self._endpoint_model_latency(),
            "EndpointGpuMemory": self._endpoint_gpu_memory(),
        }
        for machine_id, machine in lifecycle.state_machines.items():
            self.alarms[f"{machine_id}Failed"] = self._alarm(
                f"{machine_id}Failed",
                machine.state_machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
                threshold=config.alarms.failed_executions,
                evaluation_periods=1,
                description=f"Executions of the {machine_id} workflow failed.",
            )
        queue = lifecycle.dead_letter_queue
        if queue is not None:
            self.alarms["UndeliveredEvents"] = self._alarm(
                "UndeliveredEvents",
                queue.metric_approximate_number_of_messages_visible(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
                threshold=config.alarms.dead_letters,
                evaluation_periods=1,
                description="Events a rule could not deliver wait in the dead-letter queue.",
            )

        # --- Dashboard ------------------------------------------------------------------
        self.dashboard = StageDashboard(
            self,
            "Dashboard",
            dashboard_name=f"maas-{config.name}",
            lifecycle=lifecycle,
            alarms=list(self.alarms.values()),
        )

        # --- Outputs --------------------------------------------------------------------
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.topic.topic_arn,
            description="The SNS topic every alarm of the stage notifies (ALARM and OK).",
        )
        CfnOutput(
            self,
            "DashboardName",
            value=self.dashboard.dashboard.dashboard_name,
            description="The stage's CloudWatch dashboard.",
        )

    # --- Endpoint alarms (every endpoint of the account and region, see below) -----------

    def _endpoint_error_rate(self) -> cloudwatch.Alarm:
        """5xx answers in percent of invocations, over every endpoint together.

        Two Metrics Insights sums and their ratio: one figure for the service, not per
        endpoint (a ratio of two per-endpoint series cannot be grouped in one query).
        """
        errors = endpoint_metric("Invocation5XXErrors")
        invocations = endpoint_metric("Invocations")
        rate = cloudwatch.MathExpression(
            expression="100 * errors / invocations",
            using_metrics={
                "errors": _insights(insights_query(errors, "Sum"), "5xx errors"),
                "invocations": _insights(insights_query(invocations, "Sum"), "invocations"),
            },
            label="5xx errors, % of invocations",
            period=ALARM_PERIOD,
        )
        return self._alarm(
            "EndpointErrorRate",
            rate,
            threshold=self._config.alarms.error_rate_percent,
            evaluation_periods=self._config.alarms.evaluation_periods,
            description="Endpoints answer too many requests with 5xx.",
        )

    def _endpoint_model_latency(self) -> cloudwatch.Alarm:
        """The average ModelLatency of each endpoint variant, each a contributor.

        Not a p90 or p99: Metrics Insights, the only way to alarm on endpoints made at run
        time, computes no percentiles. Per variant, so one slow endpoint is not averaged away
        by fast ones; the dashboard shows each variant's p50 and p99.
        """
        latency = endpoint_metric("ModelLatency")
        return self._alarm(
            "EndpointModelLatency",
            _insights(insights_query(latency, "Average", per_variant=True), "model latency"),
            threshold=self._config.alarms.model_latency_ms * _US_PER_MS,
            evaluation_periods=self._config.alarms.evaluation_periods,
            description=(
                f"An endpoint variant's average model latency is above "
                f"{self._config.alarms.model_latency_ms} ms."
            ),
        )

    def _endpoint_gpu_memory(self) -> cloudwatch.Alarm:
        """The fullest GPU memory of any instance (SageMaker sums it over the GPUs)."""
        memory = endpoint_metric("GPUMemoryUtilization")
        return self._alarm(
            "EndpointGpuMemory",
            _insights(insights_query(memory, "Maximum"), "GPU memory"),
            threshold=self._config.alarms.gpu_memory_percent,
            evaluation_periods=self._config.alarms.evaluation_periods,
            description="An endpoint instance's GPU memory is nearly full.",
        )

    def _alarm(
        self,
        id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        evaluation_periods: int,
        description: str,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            f"{id}Alarm",
            alarm_name=f"{self.alarm_name_prefix}{kebab(id)}",
            alarm_description=f"maas {self._config.name}: {description}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No endpoint, no traffic, no failure: no data is good news, never an alarm.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = cloudwatch_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        return alarm


def _insights(query: str, label: str) -> cloudwatch.MathExpression:
    # The endpoints a query covers are those of the account and region: Metrics Insights
    # filters only on exact dimension values, and endpoint names (the tenants' choice) do
    # not carry the stage. Deploy one stage per account to keep its alarms its own.
    return cloudwatch.MathExpression(expression=query, label=label, period=ALARM_PERIOD)


__all__ = ["ALARM_PERIOD", "ObservabilityStack"]
