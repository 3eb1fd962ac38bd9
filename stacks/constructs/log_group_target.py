"""An EventBridge rule target that copies matching events into a CloudWatch Logs group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jsii
from aws_cdk import ArnFormat, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs

from stacks import iam_policies

if TYPE_CHECKING:
    from aws_cdk.interfaces.aws_events import IRuleRef


@jsii.implements(events.IRuleTarget)
class LogGroupTarget:
    """Deliver a rule's events to a log group, allowed by a native log resource policy.

    ``aws_events_targets.CloudWatchLogGroup`` writes the resource policy through a custom
    resource (a Node.js Lambda with ``Resource: *`` permissions); CloudFormation's own
    ``AWS::Logs::ResourcePolicy`` does the same without one. The policy lets only this rule
    (``aws:SourceArn``) write, and only to this group.

    Parameters
    ----------
    log_group
        The destination. EventBridge writes the whole event as the log event's message.
    """

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._log_group = log_group

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        """Create the resource policy in the rule's stack and return the target's ARN."""
        unique_id = Names.unique_id(rule)
        logs.ResourcePolicy(
            Stack.of(rule),
            f"{unique_id}LogGroupPolicy",
            # Policy names are per account and region: the rule's unique id keeps them apart.
            resource_policy_name=f"{unique_id}-events",
            policy_statements=[
                iam_policies.rule_writes_logs(self._log_group.log_group_arn, rule.rule_ref.rule_arn)
            ],
        )
        # EventBridge wants the group's ARN without the ``:*`` that its Arn attribute has.
        return events.RuleTargetConfig(
            arn=Stack.of(rule).format_arn(
                service="logs",
                resource="log-group",
                resource_name=self._log_group.log_group_name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        )


__all__ = ["LogGroupTarget"]
