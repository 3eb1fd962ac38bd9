"""An aspect that holds every function, state machine and log group to the observability bar.

Each Lambda function traces actively and logs to a log group of its own; each state machine
traces and logs every event; each log group expires its events. A resource that does not is
reported as a validation error, which stops synthesis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import IAspect, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn

if TYPE_CHECKING:
    from constructs import IConstruct


@jsii.implements(IAspect)
class ObservabilityChecks:
    """Report functions, state machines and log groups that are not observable enough."""

    def visit(self, node: IConstruct) -> None:
        """Check ``node`` if it is a function, a state machine or a log group."""
        problems: list[str] = []
        if isinstance(node, lambda_.CfnFunction):
            if _resolved(node, node.tracing_config).get("mode") != "Active":
                problems.append("Lambda function without active X-Ray tracing")
            if not _resolved(node, node.logging_config).get("logGroup"):
                problems.append("Lambda function without a log group of its own")
        elif isinstance(node, sfn.CfnStateMachine):
            if not _resolved(node, node.tracing_configuration).get("enabled"):
                problems.append("state machine without X-Ray tracing")
            if _resolved(node, node.logging_configuration).get("level") != "ALL":
                problems.append("state machine that does not log every event")
        elif isinstance(node, logs.CfnLogGroup) and node.retention_in_days is None:
            problems.append("log group that keeps events forever")
        for problem in problems:
            Validations.of(node).add_error("MaasObservability", f"{problem}: {node.node.path}")


def _resolved(node: IConstruct, value: Any) -> dict[str, Any]:
    """An L1 property as a plain dict (empty when unset)."""
    resolved = Stack.of(node).resolve(value)
    return resolved if isinstance(resolved, dict) else {}


__all__ = ["ObservabilityChecks"]
