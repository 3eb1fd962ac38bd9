"""The lifecycle stack: the manifest's functions, state machines, roles and rules.

Everything here is built from :data:`maas.manifest.MANIFEST`: handlers and environments,
ASL files and their substitutions, the roles services assume, the rules on the bus. What
the manifest cannot say, the permissions, is the table of :mod:`stacks.rights` (what each
function, workflow and role may do), built into statements from the grants of
:mod:`stacks.iam_policies`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs

from maas.manifest import (
    MANIFEST,
    PROJECT_ROOT,
    Ref,
    RefKind,
    RuleBus,
    job_definition_arn,
    job_queue_arn,
    resolve_refs,
    tenant_role_id,
)
from maas.workflow_roles import ACTS_FOR_TENANTS_TAG
from stacks import iam_policies, rights
from stacks.constructs.log_group_target import LogGroupTarget
from stacks.constructs.manifest_function import (
    ManifestFunction,
    function_code,
    image_function_code,
    powertools_layer_arn,
)
from stacks.constructs.state_machine_from_file import StateMachineFromFile
from stacks.foundation import bucket_arn
from stacks.nag import acknowledge, acknowledge_wildcards
from stacks.refs import UnresolvedRefError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from aws_cdk import Environment
    from constructs import Construct

    from maas.manifest import FunctionSpec, RoleSpec, RuleSpec, ScheduleSpec, StateMachineSpec
    from stacks.config import StageConfig
    from stacks.foundation import FoundationStack
    from stacks.refs import RefResolver

#: How EventBridge retries a state machine or function target before dead-lettering.
_DELIVERY_RETRIES = 8
_DELIVERY_MAX_AGE = Duration.hours(24)


class LifecycleStack(Stack):
    """Functions, state machines, service roles and event rules of one stage.

    Parameters
    ----------
    scope, id
        Where the stack lives.
    config
        The stage configuration.
    refs
        The register of manifest refs, already holding the foundation's and the packaging
        stack's resources; this stack registers its roles, functions and state machines in it.
    foundation
        The stage's foundation stack (key, buckets, tables, bus, log groups).
    env
        The target account and region, or None for an environment-agnostic template.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        refs: RefResolver,
        foundation: FoundationStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name("lifecycle"),
            description="maas control plane: lifecycle functions, workflows, roles and rules.",
            env=env,
        )
        self._config = config
        self._refs = refs
        self._foundation = foundation

        # --- Roles that AWS services assume -----------------------------------------------
        self.roles = {
            spec.id: self._service_role(spec) for spec in MANIFEST.roles if spec.service_principal
        }
        # A role a function assumes is built after that function, to trust its role; the
        # function's environment names it by its fixed name's ARN meanwhile.
        for role_spec in MANIFEST.roles:
            if role_spec.assumed_by_function:
                self._refs.register(
                    Ref(kind=RefKind.ROLE_ARN, target=role_spec.id),
                    self.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name=config.resource_name(role_spec.id),
                    ),
                )

        # Filled below, once the functions they call exist.
        self.state_machines: dict[str, StateMachineFromFile] = {}

        # --- What the tenants' workflow roles may do (maas.workflow_roles) -------------------
        # Named before the functions: ActForTenant's environment names both.
        self._tenant_workflow_prefix = config.resource_name("TenantWorkflows")
        # What the grants of stacks.rights name, resolved as each role is built.
        self._scope = iam_policies.Scope(
            stage=config.name,
            key=foundation.key.key_arn,
            artifacts=self._artifacts_bucket_arn(),
            resolve=self._resolve,
            name_of=lambda machine: self.state_machines[machine].state_machine.state_machine_name,
            workflow_role_prefix=self._tenant_workflow_prefix,
        )
        self.tenant_workflow_policy = self._tenant_workflow_policy()
        for prefix in MANIFEST.name_prefixes:
            self._refs.register(
                Ref(kind=RefKind.RESOURCE_NAME, target=prefix.id),
                config.resource_name(prefix.id),
            )
        self._refs.register(
            Ref(kind=RefKind.POLICY_ARN, target="TenantWorkflowPolicy"),
            self.tenant_workflow_policy.managed_policy_arn,
        )

        # --- Functions ------------------------------------------------------------------
        self._code = function_code(PROJECT_ROOT)
        self._powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", powertools_layer_arn()
        )
        self.functions = {
            spec.id: self._function(spec)
            for spec in MANIFEST.functions
            if not _starts_workflows(spec)
        }

        # --- State machines (in manifest order: a machine refers only to earlier ones) ---
        for spec in MANIFEST.state_machines:
            self.state_machines[spec.id] = self._state_machine(spec)

        # --- Functions that start workflows (their environment names the machines) ------
        for function_spec in MANIFEST.functions:
            if _starts_workflows(function_spec):
                self.functions[function_spec.id] = self._function(function_spec)

        # --- Roles that functions assume for one tenant ------------------------------------
        for role_spec in MANIFEST.roles:
            if role_spec.assumed_by_function:
                self.roles[role_spec.id] = self._tenant_role(role_spec)

        # --- What the roles may do (some refer to the state machines) -------------------
        for role_id, statements in self._role_permissions().items():
            role = self.roles[role_id]
            for statement in statements:
                role.add_to_policy(statement)
            acknowledge_wildcards(role, statements, extra_reasons=self._wildcard_reasons())

        # --- Rules on the bus -------------------------------------------------------------
        self._dead_letter_queue: sqs.Queue | None = None
        self.rules = {spec.id: self._rule(spec) for spec in MANIFEST.rules}

        # --- Schedules (the reconciler) -----------------------------------------------------
        self.schedules = {spec.id: self._schedule(spec) for spec in MANIFEST.schedules}

        # --- Outputs --------------------------------------------------------------------
        for spec in MANIFEST.state_machines:
            CfnOutput(
                self,
                f"{spec.id}StateMachineArn",
                value=self.state_machines[spec.id].state_machine_arn,
                description=spec.description,
            )

    @property
    def dead_letter_queue(self) -> sqs.Queue | None:
        """The queue of undelivered events, or None when no rule needed one."""
        return self._dead_letter_queue

    # --- Builders -------------------------------------------------------------------------

    def _service_role(self, spec: RoleSpec) -> iam.Role:
        assert spec.service_principal is not None
        role = iam.Role(
            self,
            spec.id,
            assumed_by=iam.ServicePrincipal(
                spec.service_principal,
                conditions=iam_policies.trust_conditions(spec.service_principal),
            ),
            description=spec.description,
        )
        self._refs.register(Ref(kind=RefKind.ROLE_ARN, target=spec.id), role.role_arn)
        return role

    def _tenant_role(self, spec: RoleSpec) -> iam.Role:
        """A role its function assumes with the tenant as a session tag (maas.tenancy)."""
        assert spec.assumed_by_function is not None
        function_role = self.functions[spec.assumed_by_function].role
        role = iam.Role(
            self,
            spec.id,
            role_name=self._config.resource_name(spec.id),
            assumed_by=iam_policies.tenant_session_principal(function_role.role_arn),
            description=spec.description,
            max_session_duration=Duration.hours(1),
        )
        function_role.add_to_policy(iam_policies.assume_for_tenants(role.role_arn))
        return role

    def _function(self, spec: FunctionSpec) -> ManifestFunction:
        function = ManifestFunction(
            self,
            spec.id,
            spec=spec,
            code=self._code if spec.image is None else image_function_code(PROJECT_ROOT, spec),
            environment=self._refs.resolve_all(spec.environment),
            layers=[self._powertools],
            log_retention=self._config.retention,
            encryption_key=self._foundation.key,
            removal_policy=self._config.cdk_removal_policy,
        )
        statements = self._function_permissions(spec.id)
        function.add_to_role_policy(*statements)
        acknowledge_wildcards(function.role, statements, extra_reasons=self._wildcard_reasons())
        self._refs.register(
            Ref(kind=RefKind.FUNCTION_ARN, target=spec.id), function.function.function_arn
        )
        return function

    def _state_machine(self, spec: StateMachineSpec) -> StateMachineFromFile:
        statements = [
            *self._called_by(spec),
            *self._state_machine_permissions(spec.id),
        ]
        machine = StateMachineFromFile(
            self,
            spec.id,
            definition_file=spec.definition_path,
            substitutions=self._refs.resolve_all(spec.substitutions),
            permissions=statements,
            log_group_name=f"/aws/vendedlogs/states/maas-{self._config.name}-{spec.id}",
            log_retention=self._config.retention,
            encryption_key=self._foundation.key,
            removal_policy=self._config.cdk_removal_policy,
        )
        acknowledge_wildcards(
            machine,
            statements,
            extra_reasons={**self._wildcard_reasons(), **self._child_execution_reasons()},
        )
        if rights.WORKFLOWS[spec.id].tenant:
            # What the tenants' workflow roles trust (maas.workflow_roles.trust_policy).
            Tags.of(machine.state_machine.role).add(
                ACTS_FOR_TENANTS_TAG, self._tenant_workflow_prefix
            )
        self._refs.register(
            Ref(kind=RefKind.STATE_MACHINE_ARN, target=spec.id), machine.state_machine_arn
        )
        return machine

    def _schedule(self, spec: ScheduleSpec) -> scheduler.CfnSchedule:
        return scheduler.CfnSchedule(
            self,
            spec.id,
            name=self._config.resource_name(spec.id),
            description=spec.description,
            schedule_expression=spec.expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self._refs.resolve(spec.target),
                role_arn=self.roles["SchedulerRole"].role_arn,
                input=json.dumps(spec.input),
            ),
        )

    def _rule(self, spec: RuleSpec) -> events.Rule:
        # No bus given: the account's default bus, where AWS services put their events.
        bus = self._foundation.event_bus if spec.bus is RuleBus.CONTROL_PLANE else None
        rule = events.Rule(
            self,
            spec.id,
            event_bus=bus,
            description=spec.description,
            event_pattern=events.EventPattern(
                **_event_pattern_fields(resolve_refs(spec.event_pattern, self._refs.resolve))
            ),
        )
        for target in spec.targets:
            rule.add_target(self._rule_target(spec, target))
        return rule

    def _rule_target(self, rule: RuleSpec, target: Ref) -> events.IRuleTarget:
        if target.kind is RefKind.LOG_GROUP_ARN:
            return LogGroupTarget(self._foundation.log_groups[target.target])
        # A workflow or function that cannot be reached gets the event in the dead-letter
        # queue after EventBridge's retries, instead of losing it.
        delivery: dict[str, Any] = {
            "dead_letter_queue": self._dead_letters(),
            "retry_attempts": _DELIVERY_RETRIES,
            "max_event_age": _DELIVERY_MAX_AGE,
        }
        if target.kind is RefKind.STATE_MACHINE_ARN:
            machine = self.state_machines[target.target].state_machine
            return targets.SfnStateMachine(machine, **delivery)
        if target.kind is RefKind.FUNCTION_ARN:
            return targets.LambdaFunction(self.functions[target.target].function, **delivery)
        raise ValueError(
            f"rule {rule.id}: a {target.kind.value} cannot receive events; targets are log "
            "groups, state machines and functions"
        )

    def _dead_letters(self) -> sqs.Queue:
        """The queue of events a rule could not deliver, made when a rule first needs it."""
        if self._dead_letter_queue is None:
            self._dead_letter_queue = sqs.Queue(
                self,
                "UndeliveredEvents",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            acknowledge(
                self._dead_letter_queue,
                "AwsSolutions-SQS3",
                "This queue is the dead-letter queue of the bus's rule targets; a queue of "
                "undelivered events has nowhere further to send them.",
            )
        return self._dead_letter_queue

    # --- Permissions ----------------------------------------------------------------------

    def _called_by(self, spec: StateMachineSpec) -> list[iam.PolicyStatement]:
        """What a machine's substitutions imply: invoke its functions, pass its roles."""
        functions = [
            ref.target for ref in spec.substitutions.values() if ref.kind is RefKind.FUNCTION_ARN
        ]
        grants = [iam_policies.invoke_functions(*functions)] if functions else []
        for ref in spec.substitutions.values():
            if ref.kind is RefKind.ROLE_ARN:
                role_spec = next(role for role in MANIFEST.roles if role.id == ref.target)
                if role_spec.service_principal:
                    grants.append(iam_policies.pass_role(ref.target, role_spec.service_principal))
        return iam_policies.statements(grants, self._scope)

    def _function_permissions(self, function_id: str) -> list[iam.PolicyStatement]:
        """What each function calls, beyond its own log group and X-Ray (stacks.rights)."""
        return iam_policies.statements(rights.FUNCTIONS[function_id].own, self._scope)

    def _state_machine_permissions(self, state_machine_id: str) -> list[iam.PolicyStatement]:
        """The service integrations each machine's states call as its own role."""
        return iam_policies.statements(rights.WORKFLOWS[state_machine_id].own, self._scope)

    def _tenant_workflow_policy(self) -> iam.ManagedPolicy:
        """The one policy of every tenant's workflow role (maas.workflow_roles): what the
        endpoint workflows' SageMaker, Application Auto Scaling and CloudWatch states do,
        held to the session's tenant (the role's own ``maas:tenant`` tag)."""
        statements = _unique(
            iam_policies.statements(
                (grant for workflow in rights.WORKFLOWS.values() for grant in workflow.tenant),
                self._scope,
                iam_policies.Owner.SESSION_TENANT,
            )
        )
        policy = iam.ManagedPolicy(
            self,
            "TenantWorkflowPolicy",
            managed_policy_name=self._config.resource_name("TenantWorkflowPolicy"),
            description="What the endpoint workflows do for one tenant: its tagged endpoints, "
            "configurations, models, alarms and scaling.",
            statements=statements,
        )
        acknowledge_wildcards(policy, statements, extra_reasons=self._wildcard_reasons())
        return policy

    def _role_permissions(self) -> dict[str, list[iam.PolicyStatement]]:
        """What each role lets its service, or its function for one tenant, do."""
        tenant = iam_policies.Owner.SESSION_TENANT
        return {
            **{
                role_id: [
                    *iam_policies.statements(role.own, self._scope),
                    *iam_policies.statements(role.tenant, self._scope, tenant),
                ]
                for role_id, role in rights.ROLES.items()
            },
            **{
                tenant_role_id(function_id): iam_policies.statements(
                    function.tenant, self._scope, tenant
                )
                for function_id, function in rights.FUNCTIONS.items()
                if function.tenant
            },
        }

    def _resolve(self, resource: str) -> str:
        """The ARN of a resource the grants name by its manifest id (iam_policies.Scope)."""
        if resource in self._foundation.tables:
            return self._foundation.tables[resource].table_arn
        if resource in self._foundation.log_groups:
            return self._foundation.log_groups[resource].log_group_arn
        if resource == "EventBus":
            return self._foundation.event_bus.event_bus_arn
        if resource in self.state_machines:
            return self.state_machines[resource].state_machine_arn
        job, _, part = resource.partition(":")
        if part:
            return self._refs.resolve(
                job_queue_arn(job) if part == "queue" else job_definition_arn(job)
            )
        kinds = (RefKind.FUNCTION_ARN, RefKind.ROLE_ARN, RefKind.POLICY_ARN)
        for kind in kinds:
            try:
                return self._refs.resolve(Ref(kind=kind, target=resource))
            except UnresolvedRefError:
                continue
        raise UnresolvedRefError(f"no resource {resource!r} for a grant to name")

    def _artifacts_bucket_arn(self) -> str:
        # Built from the bucket's derived name, not imported from the foundation: a
        # cross-stack reference only takes its final form at synthesis, after the
        # acknowledgment of the IAM5 finding for the bucket's objects has to be written.
        return bucket_arn(self._config, "ArtifactsBucket")

    def _child_execution_reasons(self) -> dict[str, str]:
        """IAM5 reasons for following the executions of the machines built so far (a parent
        follows only its children's, ``iam_policies.run_children``)."""
        reasons = {}
        for child, machine in self.state_machines.items():
            name = machine.state_machine.state_machine_name
            reasons[iam_policies.executions_of(name)] = (
                f"Every execution of {child}: its parent workflow names each child "
                "execution after its own, so the names are known only when it starts "
                "them."
            )
        return reasons

    def _wildcard_reasons(self) -> dict[str, str]:
        """IAM5 reasons for the wildcard resources that depend on this stage's names."""
        reasons = iam_policies.artifact_object_reasons(self._artifacts_bucket_arn())
        reasons.update(iam_policies.guardrail_parameter_reasons(self._config.name))
        for machine in self.state_machines.values():
            name = machine.state_machine.state_machine_name
            reasons[iam_policies.tenant_executions_of(name)] = (
                f"The executions of {name} that the session's tenant started: the API names "
                "each after the tenant and a digest of the request (<tenant>_<digest>)."
            )
        reasons[iam_policies.tenant_workflow_roles(self._tenant_workflow_prefix)] = (
            "The tenants' workflow roles: one per tenant, made when the tenant's first "
            "workflow runs (maas.workflow_roles), so no fixed name holds; only this stage's "
            "prefix, created with the maas:tenant tag and holding only the tenant workflow "
            "policy."
        )
        for spec in MANIFEST.jobs:
            definition = self._refs.resolve(job_definition_arn(spec.id))
            reasons[iam_policies.job_definition_revisions(definition)] = (
                f"Every revision of the {spec.id} job definition: a new image is a new "
                "revision, and the workflow submits to the latest active one."
            )
        return reasons


def _starts_workflows(spec: FunctionSpec) -> bool:
    """Whether the function's environment names a state machine (so it is built after them)."""
    return any(
        isinstance(value, Ref) and value.kind is RefKind.STATE_MACHINE_ARN
        for value in spec.environment.values()
    )


def _event_pattern_fields(pattern: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge pattern's top-level fields as ``events.EventPattern`` arguments."""
    return {key.replace("-", "_"): value for key, value in pattern.items()}


def _unique(statements: Iterable[iam.PolicyStatement]) -> list[iam.PolicyStatement]:
    """``statements`` without repeats (two workflows often need the same statement)."""
    kept: dict[str, iam.PolicyStatement] = {}
    for statement in statements:
        kept.setdefault(json.dumps(statement.to_json(), sort_keys=True), statement)
    return list(kept.values())


__all__ = ["LifecycleStack"]
