"""A Standard state machine defined by an ASL file with ``${Name}`` substitution slots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.nag import IAM5_ANY_RESOURCE, acknowledge

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms

#: Why a state machine's role holds ``Resource: *`` statements that CDK adds for it.
_ANY_RESOURCE_REASON = (
    "Step Functions delivers execution logs through CloudWatch Logs vended log delivery "
    "(logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, "
    "ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and "
    "sends traces to X-Ray (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, "
    "GetSamplingTargets); none of these actions supports resource-level permissions."
)


class StateMachineFromFile(Construct):
    """Loads an ASL file, fills its slots and grants its role what the states call.

    The machine is of the Standard type, logs every event with execution data to its own
    log group, and is traced with X-Ray.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    definition_file
        The ASL file, loaded as it is: the slots are filled by Step Functions at deployment
        (``DefinitionSubstitutions``), so the template holds the file's very text.
    substitutions
        The value of every slot the file uses.
    permissions
        What the states call: Lambda functions, service integrations, roles they pass.
    log_group_name
        The execution log group's name. Under ``/aws/vendedlogs/`` so that log delivery
        does not grow the account's CloudWatch Logs resource policy.
    log_retention, encryption_key, removal_policy
        The execution log group's retention, key and removal policy.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        definition_file: Path,
        substitutions: Mapping[str, str],
        permissions: Sequence[iam.PolicyStatement],
        log_group_name: str,
        log_retention: logs.RetentionDays,
        encryption_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            retention=log_retention,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_file(str(definition_file)),
            definition_substitutions=dict(substitutions),
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
            tracing_enabled=True,
        )
        for statement in permissions:
            self.state_machine.add_to_role_policy(statement)
        acknowledge(self, IAM5_ANY_RESOURCE, _ANY_RESOURCE_REASON)

    @property
    def state_machine_arn(self) -> str:
        """The state machine's ARN."""
        return self.state_machine.state_machine_arn


__all__ = ["StateMachineFromFile"]
