"""Create the manifest's resources in the emulated account, as the CDK stacks do on AWS.

Names are derived from the manifest ids (``PlanDeployment`` -> ``maas-plan-deployment``),
ARNs from the names, so every ``Ref`` resolves before anything exists and the order of
creation does not matter.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from maas.endpoints.records import table_arguments
from maas.local.awslambda import LocalFunction
from maas.local.events import DEFAULT_EVENT_BUS
from maas.local.iam_roles import managed_policy_documents, read_export
from maas.manifest import MANIFEST, Manifest, Ref, RefKind, RoleSpec, RuleBus, resolve_refs
from maas.naming import kebab
from schemas.streaming import RESPONSE_STREAMING_ENV

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from maas.local.awslambda import LocalLambda
    from maas.local.settings import LocalSettings

_STATE_MACHINE_ROLE = "StateMachineRole"
_SLOT = re.compile(r"\$\{([A-Za-z0-9]+)\}")


@dataclass
class LocalResources:
    """Names and ARNs of what was provisioned, by manifest id."""

    settings: LocalSettings
    manifest: Manifest = MANIFEST
    functions: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    log_groups: dict[str, str] = field(default_factory=dict)
    job_queues: dict[str, str] = field(default_factory=dict)
    job_definitions: dict[str, str] = field(default_factory=dict)
    schedules: dict[str, str] = field(default_factory=dict)
    event_bus: str = ""

    def name(self, identifier: str) -> str:
        """The local name of the resource with manifest id ``identifier``."""
        return f"{self.settings.name_prefix}-{kebab(identifier)}"

    def arn(self, service: str, resource: str) -> str:
        """An ARN in the local account and region."""
        region = "" if service == "iam" else self.settings.region
        return f"arn:aws:{service}:{region}:{self.settings.account_id}:{resource}"

    def resolve(self, ref: Ref | str) -> str:
        """The value of ``ref`` here (a literal stays as it is)."""
        if isinstance(ref, str):
            return ref
        resolved: dict[RefKind, Any] = {
            RefKind.FUNCTION_ARN: lambda: self.arn("lambda", f"function:{self.name(ref.target)}"),
            RefKind.STATE_MACHINE_ARN: lambda: self.arn(
                "states", f"stateMachine:{self.name(ref.target)}"
            ),
            RefKind.TABLE_NAME: lambda: self.name(ref.target),
            RefKind.BUCKET_NAME: lambda: f"{self.name(ref.target)}-{self.settings.account_id}",
            RefKind.EVENT_BUS_NAME: lambda: self.settings.name_prefix,
            RefKind.ROLE_ARN: lambda: self.arn("iam", f"role/{self.name(ref.target)}"),
            RefKind.LOG_GROUP_ARN: lambda: self.arn(
                "logs", f"log-group:{self.log_group_name(ref.target)}"
            ),
            RefKind.JOB_QUEUE_ARN: lambda: self.arn(
                "batch", f"job-queue/{self.name(f'{ref.target}Queue')}"
            ),
            # The first revision: the local account registers each definition once.
            RefKind.JOB_DEFINITION_ARN: lambda: self.arn(
                "batch", f"job-definition/{self.name(ref.target)}:1"
            ),
            RefKind.SETTING: lambda: self.settings.setting_values()[ref.target],
            RefKind.POLICY_ARN: lambda: self.arn("iam", f"policy/{self.name(ref.target)}"),
            RefKind.RESOURCE_NAME: lambda: self.name(ref.target),
        }
        return str(resolved[ref.kind]())

    def log_group_name(self, identifier: str) -> str:
        """The local name of the manifest's log group ``identifier``: ``/<prefix>/<name>``."""
        spec = next(spec for spec in self.manifest.log_groups if spec.id == identifier)
        return f"/{self.settings.name_prefix}/{spec.name}"

    def definition(self, state_machine_id: str) -> str:
        """The state machine's ASL with every ``${Slot}`` filled, as Step Functions gets it."""
        spec = self.manifest.state_machine(state_machine_id)
        values = {slot: self.resolve(ref) for slot, ref in spec.substitutions.items()}
        missing = spec.slots() - set(values)
        if missing:
            raise ValueError(f"{spec.definition}: no value for slots {sorted(missing)}")
        return _SLOT.sub(lambda match: values[match.group(1)], spec.definition_text())


def _trust_policy(principal: dict[str, str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": principal, "Action": "sts:TagSession"},
            ],
        }
    )


def _assuming_role(
    spec: RoleSpec,
    function_roles: Mapping[str, str],
    job_roles: Mapping[str, str],
    role_arn: Callable[[str], str],
) -> str:
    """The ARN of the role that assumes ``spec``: its function's or its job's (FunctionRole
    where a test's narrowed manifest left that function or job out)."""
    assuming = function_roles.get(spec.assumed_by_function or "") or job_roles.get(
        spec.assumed_by_job or ""
    )
    return role_arn(assuming or "FunctionRole")


def _placeholder_code() -> bytes:
    # The emulated Lambda service wants a deployment package; the handler actually run is
    # the one in this checkout (see maas.local.awslambda).
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("README.txt", "Runs from the local checkout.\n")
    return archive.getvalue()


def provision(resources: LocalResources, clients: Any, local_lambda: LocalLambda) -> LocalResources:
    """Create everything in ``resources.manifest``; ``clients(service)`` gives boto3 clients."""
    manifest = resources.manifest
    iam, s3, dynamodb = clients("iam"), clients("s3"), clients("dynamodb")
    events, logs = clients("events"), clients("logs")
    lambda_, sfn = clients("lambda"), clients("stepfunctions")

    # Each function and each job runs as its own role, as the stacks give it, and a role a
    # function or a job assumes trusts that function's or job's role. moto does not evaluate
    # trust policies.
    def role_arn(role_id: str) -> str:
        return resources.resolve(Ref(kind=RefKind.ROLE_ARN, target=role_id))

    function_roles = {spec.id: spec.role_id for spec in manifest.functions}
    roles = [
        (_STATE_MACHINE_ROLE, {"Service": "states.amazonaws.com"}),
        ("FunctionRole", {"Service": "lambda.amazonaws.com"}),
        *((role_id, {"Service": "lambda.amazonaws.com"}) for role_id in function_roles.values()),
        # Each state machine runs as its own role, as the stacks give it.
        *((spec.role_id, {"Service": "states.amazonaws.com"}) for spec in manifest.state_machines),
        # A job's container runs as the job definition's role (an ECS task role).
        *((spec.role_id, {"Service": "ecs-tasks.amazonaws.com"}) for spec in manifest.jobs),
    ]
    job_roles = {spec.id: spec.role_id for spec in manifest.jobs}
    roles += [
        (
            spec.id,
            {"Service": spec.service_principal}
            if spec.service_principal
            else {"AWS": _assuming_role(spec, function_roles, job_roles, role_arn)},
        )
        for spec in manifest.roles
    ]
    for role_id, principal in roles:
        iam.create_role(
            RoleName=resources.name(role_id), AssumeRolePolicyDocument=_trust_policy(principal)
        )
        resources.roles[role_id] = resources.resolve(Ref(kind=RefKind.ROLE_ARN, target=role_id))
    # The managed policies roles made at run time hold (the tenants' workflow roles:
    # maas.workflow_roles), as the stacks create them.
    exported = read_export()
    for policy_id in exported["ManagedPolicies"]:
        (document,) = managed_policy_documents(policy_id, resources, exported)
        iam.create_policy(PolicyName=resources.name(policy_id), PolicyDocument=json.dumps(document))

    for bucket in manifest.buckets:
        name = resources.resolve(Ref(kind=RefKind.BUCKET_NAME, target=bucket.id))
        s3.create_bucket(Bucket=name)
        resources.buckets[bucket.id] = name

    for table in manifest.tables:
        name = resources.resolve(Ref(kind=RefKind.TABLE_NAME, target=table.id))
        dynamodb.create_table(**table_arguments(name))
        if table.time_to_live_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": table.time_to_live_attribute,
                },
            )
        resources.tables[table.id] = name

    resources.event_bus = resources.settings.name_prefix
    bus_arn = events.create_event_bus(Name=resources.event_bus)["EventBusArn"]
    events.create_archive(ArchiveName=f"{resources.event_bus}-archive", EventSourceArn=bus_arn)

    for group in manifest.log_groups:
        name = resources.log_group_name(group.id)
        logs.create_log_group(logGroupName=name)
        resources.log_groups[group.id] = name

    code = _placeholder_code()
    for spec in manifest.functions:
        name = resources.name(spec.id)
        environment = {key: resources.resolve(value) for key, value in spec.environment.items()}
        created = lambda_.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=resources.roles[spec.role_id],
            Handler=spec.handler,
            Code={"ZipFile": code},
            Timeout=spec.timeout_seconds,
            MemorySize=spec.memory_mb,
            Environment={"Variables": environment},
            Description=spec.description,
        )
        local_lambda.register(
            LocalFunction(
                name=name,
                handler=spec.handler,
                # The X-Ray daemon is not emulated yet: keep Powertools' tracer quiet. The
                # local Lambda streams an answer that is an iterator (maas.local.awslambda).
                environment={
                    **environment,
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    RESPONSE_STREAMING_ENV: "true",
                },
                timeout_seconds=spec.timeout_seconds,
                memory_mb=spec.memory_mb,
                arn=created["FunctionArn"],
                role_arn=resources.roles[spec.role_id],
            )
        )
        resources.functions[spec.id] = created["FunctionArn"]

    if manifest.jobs:
        _provision_jobs(resources, clients("batch"))

    for machine in manifest.state_machines:
        created = sfn.create_state_machine(
            name=resources.name(machine.id),
            definition=resources.definition(machine.id),
            roleArn=resources.roles[machine.role_id],
            type="STANDARD",
            tracingConfiguration={"enabled": True},
        )
        resources.state_machines[machine.id] = created["stateMachineArn"]

    for rule in manifest.rules:
        bus = DEFAULT_EVENT_BUS if rule.bus is RuleBus.DEFAULT else resources.event_bus
        events.put_rule(
            Name=resources.name(rule.id),
            EventBusName=bus,
            EventPattern=json.dumps(resolve_refs(rule.event_pattern, resources.resolve)),
            Description=rule.description,
        )
        events.put_targets(
            Rule=resources.name(rule.id),
            EventBusName=bus,
            Targets=[
                {"Id": f"target-{index}", "Arn": resources.resolve(target)}
                for index, target in enumerate(rule.targets)
            ],
        )

    scheduler = clients("scheduler")
    for schedule in manifest.schedules:
        scheduler.create_schedule(
            Name=resources.name(schedule.id),
            Description=schedule.description,
            ScheduleExpression=schedule.expression,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": resources.resolve(schedule.target),
                "RoleArn": resources.roles["SchedulerRole"],
                "Input": json.dumps(schedule.input),
            },
        )
        resources.schedules[schedule.id] = resources.name(schedule.id)
    return resources


def _provision_jobs(resources: LocalResources, batch: Any) -> None:
    # Jobs run as subprocesses here (maas.local.batch), so one unmanaged environment serves
    # every queue; AWS gets Fargate and EC2 environments from the packaging stack.
    environment = batch.create_compute_environment(
        computeEnvironmentName=resources.name("ComputeEnvironment"),
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=resources.roles[_STATE_MACHINE_ROLE],
    )
    for job in resources.manifest.jobs:
        queue = batch.create_job_queue(
            jobQueueName=resources.name(f"{job.id}Queue"),
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
            ],
        )
        definition = batch.register_job_definition(
            jobDefinitionName=resources.name(job.id),
            type="container",
            containerProperties={
                "image": f"{resources.name(job.id)}:local",
                "command": list(job.command),
                "jobRoleArn": resources.roles[job.role_id],
                "environment": [
                    {"name": key, "value": resources.resolve(value)}
                    for key, value in job.environment.items()
                ],
                "resourceRequirements": [
                    {"type": "VCPU", "value": f"{job.vcpus:g}"},
                    {"type": "MEMORY", "value": str(job.memory_mib)},
                ],
            },
            timeout={"attemptDurationSeconds": job.timeout_seconds},
            retryStrategy={"attempts": job.attempts},
        )
        resources.job_queues[job.id] = queue["jobQueueArn"]
        resources.job_definitions[job.id] = definition["jobDefinitionArn"]


__all__ = ["LocalResources", "provision"]
