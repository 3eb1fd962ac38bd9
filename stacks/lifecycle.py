"""The lifecycle stack: the manifest's functions, state machines, roles and rules.

Everything here is built from :data:`maas.manifest.MANIFEST`: handlers and environments,
ASL files and their substitutions, the roles services assume, the rules on the bus. What
the manifest cannot say, the permissions, is written out below per principal, one
statement per permission from :mod:`stacks.iam_policies`.
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
from schemas.api import Workflow
from stacks import iam_policies
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

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

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
        if spec.id in _tenant_workflow_statements():
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
        function_arns = [
            self._refs.resolve(ref)
            for ref in spec.substitutions.values()
            if ref.kind is RefKind.FUNCTION_ARN
        ]
        statements = [iam_policies.invoke_functions(function_arns)] if function_arns else []
        for ref in spec.substitutions.values():
            if ref.kind is RefKind.ROLE_ARN:
                role_spec = next(role for role in MANIFEST.roles if role.id == ref.target)
                if role_spec.service_principal:
                    statements.append(
                        iam_policies.pass_role(self._refs.resolve(ref), role_spec.service_principal)
                    )
        return statements

    def _function_permissions(self, function_id: str) -> list[iam.PolicyStatement]:
        """What each function calls, beyond its own log group and X-Ray."""
        if function_id == "StartLifecycle":
            # Built after the state machines (see _starts_workflows), unlike the others.
            machine = self.state_machines["Lifecycle"]
            return [iam_policies.start_execution(machine.state_machine_arn)]
        key = self._foundation.key.key_arn
        endpoints = self._foundation.tables["EndpointsTable"].table_arn
        if function_id == "Api":
            # Nothing of its own: it acts as the caller's tenant (see _tenant_role).
            return []
        if function_id == "TearDownIdleEndpoint":
            # maas.endpoints.idle: the alarm and its tags, the endpoint's record, teardown.
            teardown = self.state_machines["Teardown"]
            return [
                iam_policies.judge_idle_alarms(),
                iam_policies.restart_idle_clocks(),
                iam_policies.read_items(endpoints),
                iam_policies.decrypt_via(key, "dynamodb"),
                iam_policies.start_execution(teardown.state_machine_arn),
            ]
        models = self._foundation.tables["ModelsTable"].table_arn
        artifacts = self._artifacts_bucket_arn()
        # functions.common.idempotency: the answers of the handlers that create things.
        idempotency = iam_policies.keep_idempotency_records(
            self._foundation.tables["IdempotencyTable"].table_arn
        )
        permissions = {
            # The workflows' steps that act for the tenant their input names: each does
            # that through its tenant role (see _function_tenant_permissions); what stays
            # with the function's own role is what takes no tenant: its idempotency records,
            # and the deployment's clean-up of what cannot be tagged (the scalable target and
            # its alarms, the schedules).
            "PlanDeployment": [],
            "PlanTeardown": [idempotency],
            "PlanScaling": [idempotency],
            "PlanStop": [idempotency],
            "PlanStart": [idempotency],
            "PlanUpdate": [idempotency],
            "RecordEndpointStatus": [],
            "CleanupDeployment": [
                iam_policies.deregister_endpoint_scaling(),
                iam_policies.delete_scaling_alarms(),
                iam_policies.delete_ttl_schedules(),
                iam_policies.delete_hours_schedules(),
            ],
            "PlanPackaging": [idempotency],
            "PlanQuantization": [idempotency],
            "RegisterModelVersion": [idempotency],
            "FailModelVersion": [idempotency],
            # maas.workflow_roles.TenantWorkflowRoles: find or create the tenant's role.
            "ActForTenant": iam_policies.create_tenant_workflow_roles(
                self._tenant_workflow_prefix, self.tenant_workflow_policy.managed_policy_arn
            ),
            "PublishEvent": [
                iam_policies.put_events(self._foundation.event_bus.event_bus_arn),
                idempotency,
                iam_policies.encrypt_decrypt_via(key, "dynamodb"),
            ],
            # maas.endpoints.reconcile: every record against every tagged resource; drifted
            # records repaired (guarded puts), orphans deleted only when a run asks.
            "ReconcileEndpoints": [
                iam_policies.read_write_items(endpoints),
                iam_policies.scan_items(endpoints),
                iam_policies.encrypt_decrypt_via(key, "dynamodb"),
                iam_policies.list_sagemaker_hosting(),
                iam_policies.read_hosting_tags(),
                iam_policies.describe_endpoints(),
                iam_policies.delete_endpoints(),
                iam_policies.delete_endpoint_configs(),
                iam_policies.delete_models(),
                iam_policies.put_events(self._foundation.event_bus.event_bus_arn),
            ],
            # maas.endpoints.records.EndpointRegistry.observe_sagemaker: read the record,
            # then conditional updates of SageMaker's word (and of the status, rarely).
            "EndpointStateChanged": [
                iam_policies.read_items(endpoints),
                iam_policies.update_items(endpoints),
                iam_policies.encrypt_decrypt_via(key, "dynamodb"),
            ],
            # maas.registry.ModelRegistry.observe_packaging_job: one conditional update.
            "PackagingJobChanged": [
                iam_policies.update_items(models),
                iam_policies.encrypt_decrypt_via(key, "dynamodb"),
            ],
            # The evaluation's steps act for its tenant (see _function_tenant_permissions).
            **{
                function_id: []
                for function_id in (
                    "PlanEvaluation",
                    "AggregateEvaluation",
                    "RequestEvaluationReview",
                    "FinishEvaluation",
                    "RecordEvaluationFailure",
                )
            },
            # maas.evaluation.shard: one shard of a small evaluation, as the Evaluator job.
            "EvaluateShard": iam_policies.score_evaluation_shards(
                artifacts=artifacts, key=key, models=models, stage=self._config.name
            ),
        }
        return permissions[function_id]

    def _function_tenant_permissions(self) -> dict[str, list[iam.PolicyStatement]]:
        """What each workflow step does through its tenant role, by function: only the
        tenant's records (their partition), files (its prefix) and SageMaker resources (its
        tag), whatever the step was asked (maas.tenancy.from_environment)."""
        key = self._foundation.key.key_arn
        endpoints = self._foundation.tables["EndpointsTable"].table_arn
        models = self._foundation.tables["ModelsTable"].table_arn
        artifacts = self._artifacts_bucket_arn()
        tenant = iam_policies.Owner.SESSION_TENANT
        # maas.endpoints.records: a read, then guarded updates (not puts, so SageMaker's latest
        # word, written by EndpointStateChanged at any moment, is never put back older).
        endpoint_records = [
            iam_policies.read_items(endpoints, tenant),
            iam_policies.update_items(endpoints, tenant),
            iam_policies.encrypt_decrypt_via(key, "dynamodb"),
        ]
        # maas.registry.ModelRegistry: guarded puts of version records; the model's counter
        # is an update, and opening a version queries the model's versions first.
        version_records = [
            iam_policies.read_write_items(models, tenant),
            iam_policies.update_items(models, tenant),
            iam_policies.query_items(models, tenant),
            iam_policies.encrypt_decrypt_via(key, "dynamodb"),
        ]
        # maas.evaluation.store: reads, and puts guarded by the status they expect.
        evaluation_records = [
            iam_policies.read_write_items(models, tenant),
            iam_policies.encrypt_decrypt_via(key, "dynamodb"),
        ]
        # Each plan takes the endpoint's record after reading the SageMaker endpoint's
        # maas:tenant tag (maas.endpoints.ownership): any endpoint's, to tell another
        # tenant's (refused as missing) from none.
        owner_check = iam_policies.inspect_endpoints()
        return {
            # The version to deploy, and the tenant's quota ledger (maas.endpoints.quotas): a
            # read and guarded updates of its counter item, and a query of the tenant's
            # endpoints when the ledger opens or a refused request sweeps it.
            "PlanDeployment": [
                iam_policies.read_items(models, tenant),
                iam_policies.query_items(endpoints, tenant),
                *endpoint_records,
            ],
            "PlanTeardown": [*endpoint_records, owner_check],
            # Scaling also queries the tenant's endpoints, for its instance quota.
            "PlanScaling": [
                *endpoint_records,
                owner_check,
                iam_policies.query_items(endpoints, tenant),
            ],
            "PlanStop": [*endpoint_records, owner_check],
            "PlanStart": [*endpoint_records, owner_check],
            # maas.endpoints.update: the endpoint's record, and the version it moves to.
            "PlanUpdate": [
                *endpoint_records,
                owner_check,
                iam_policies.read_items(models, tenant),
            ],
            "RecordEndpointStatus": endpoint_records,
            # maas.endpoints.cleanup: the tagged resources a failed deployment made (the
            # endpoint only if its tag says this deployment's tenant), and the idle alarm.
            "CleanupDeployment": [
                owner_check,
                iam_policies.delete_endpoints(tenant),
                iam_policies.delete_endpoint_configs(tenant),
                iam_policies.delete_models(tenant),
                iam_policies.delete_idle_alarms(tenant),
            ],
            "PlanPackaging": version_records,
            # maas.quantization.steps.plan_quantization: read the parent version, then open
            # the next one as PlanPackaging does.
            "PlanQuantization": version_records,
            # maas.registry.packaging_steps.register_version: read the job's manifest and
            # list what it uploaded, then the model package and the REGISTERED record.
            "RegisterModelVersion": [
                *version_records,
                iam_policies.read_version_objects(artifacts, tenant),
                iam_policies.list_version_prefixes(artifacts, tenant),
                iam_policies.decrypt_via(key, "s3"),
                iam_policies.create_tagged_model_packages(tenant),
                iam_policies.describe_model_packages(),
                iam_policies.list_model_packages(),
            ],
            # maas.registry.packaging_steps.fail_version: clear the version's prefix.
            "FailModelVersion": [
                *version_records,
                iam_policies.list_version_prefixes(artifacts, tenant),
                iam_policies.delete_version_objects(artifacts, tenant),
            ],
            # maas.evaluation.plan: the endpoint's record, the question set (in the tenant's
            # folder: another tenant's, or a missing one, is a NotFound), the shards and job
            # document, the EVALUATION# record (create, or find it).
            "PlanEvaluation": [
                iam_policies.read_items(endpoints, tenant),
                *evaluation_records,
                iam_policies.read_tenant_artifacts(artifacts),
                iam_policies.write_evaluation_plans(artifacts, tenant),
                iam_policies.encrypt_decrypt_via(key, "s3"),
            ],
            # maas.evaluation.outcome.gather: every shard's results; then the record.
            "AggregateEvaluation": [
                *evaluation_records,
                iam_policies.read_evaluation_objects(artifacts, tenant),
                iam_policies.decrypt_via(key, "s3"),
            ],
            "RequestEvaluationReview": evaluation_records,
            # maas.evaluation.finish: the results again, the report and summary, the record;
            # a failed gate that rejects the version: its record and its model package.
            "FinishEvaluation": [
                *evaluation_records,
                iam_policies.read_evaluation_objects(artifacts, tenant),
                iam_policies.write_evaluation_reports(artifacts, tenant),
                iam_policies.encrypt_decrypt_via(key, "s3"),
                iam_policies.reject_tagged_model_packages(tenant),
            ],
            "RecordEvaluationFailure": evaluation_records,
        }

    def _state_machine_permissions(self, state_machine_id: str) -> list[iam.PolicyStatement]:
        """The service integrations each machine's states call (``aws-sdk:*`` tasks)."""
        if state_machine_id in _CHILDREN:
            # Children are built before their parent (manifest order), so these are not in
            # the table below, which refers to no machine.
            children = self._child_permissions(_CHILDREN[state_machine_id])
            if state_machine_id == "Evaluate":
                # A Map of batch:submitJob.sync, one Evaluator job per shard.
                return [*self._batch_job_permissions("Evaluator"), *children]
            return children
        act = iam_policies.assume_tenant_workflow_roles(self._tenant_workflow_prefix)
        permissions = {
            # Schedules cannot be tagged: the machine's own role keeps them, by name prefix.
            "Teardown": [
                act,
                iam_policies.delete_ttl_schedules(),
                iam_policies.delete_hours_schedules(),
            ],
            "DeployEndpoint": [
                act,
                iam_policies.create_ttl_schedules(),
                iam_policies.create_hours_schedules(),
            ],
            "StopEndpoint": [act],
            "StartEndpoint": [act],
            "UpdateEndpoint": [act],
            "ScaleEndpoint": [act],
            "PackageModel": self._batch_job_permissions("Packager"),
            # The packaging job quantizes the parent's package (maas.quantization.package).
            "QuantizeModel": self._batch_job_permissions("Packager"),
        }
        return permissions[state_machine_id]

    def _tenant_workflow_policy(self) -> iam.ManagedPolicy:
        """The one policy of every tenant's workflow role (maas.workflow_roles): what the
        endpoint workflows' SageMaker, Application Auto Scaling and CloudWatch states do,
        held to the session's tenant (the role's own ``maas:tenant`` tag)."""
        statements = _unique(
            [
                *(
                    statement
                    for machine_statements in _tenant_workflow_statements().values()
                    for statement in machine_statements
                ),
                # CreateModel names the role SageMaker runs the model with.
                iam_policies.pass_role(
                    self.roles["SageMakerExecutionRole"].role_arn, "sagemaker.amazonaws.com"
                ),
            ]
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

    def _batch_job_permissions(self, job_id: str) -> list[iam.PolicyStatement]:
        """batch:submitJob.sync of one manifest job: submit (with the workflow's maas: tags),
        follow the job through the managed events rule and DescribeJobs, terminate it when
        the task is stopped."""
        return [
            iam_policies.submit_batch_jobs(
                self._refs.resolve(job_queue_arn(job_id)),
                self._refs.resolve(job_definition_arn(job_id)),
            ),
            iam_policies.tag_batch_jobs(),
            iam_policies.describe_batch_jobs(),
            iam_policies.terminate_batch_jobs(),
            iam_policies.manage_batch_job_events_rule(),
        ]

    def _child_permissions(self, child_ids: Sequence[str]) -> list[iam.PolicyStatement]:
        """states:startExecution.sync:2 of child machines: start each, follow it through the
        managed events rule and DescribeExecution, stop it when the parent is stopped."""
        children = [self.state_machines[child] for child in child_ids]
        return [
            *(iam_policies.start_execution(child.state_machine_arn) for child in children),
            iam_policies.follow_child_executions(
                [child.state_machine.state_machine_name for child in children]
            ),
            iam_policies.manage_execution_events_rule(),
        ]

    def _role_permissions(self) -> dict[str, list[iam.PolicyStatement]]:
        """What each role lets its service, or its function, do."""
        artifacts = self._artifacts_bucket_arn()
        return {
            "TenantAccessRole": self._tenant_access_permissions(),
            **{
                tenant_role_id(function_id): statements
                for function_id, statements in self._function_tenant_permissions().items()
            },
            "SageMakerExecutionRole": [
                iam_policies.read_artifacts(artifacts),
                iam_policies.decrypt_via(self._foundation.key.key_arn, "s3"),
                iam_policies.pull_serving_images(),
                iam_policies.get_registry_token(),
                iam_policies.write_sagemaker_logs(),
                iam_policies.put_sagemaker_metrics(),
            ],
            "SchedulerRole": [
                *(
                    iam_policies.start_execution(self.state_machines[target].state_machine_arn)
                    for target in ("Teardown", "StopEndpoint", "StartEndpoint")
                ),
                iam_policies.invoke_functions(
                    [
                        self._refs.resolve(schedule.target)
                        for schedule in MANIFEST.schedules
                        if schedule.target.kind is RefKind.FUNCTION_ARN
                    ]
                ),
            ],
        }

    def _artifacts_bucket_arn(self) -> str:
        # Built from the bucket's derived name, not imported from the foundation: a
        # cross-stack reference only takes its final form at synthesis, after the
        # acknowledgment of the IAM5 finding for the bucket's objects has to be written.
        return bucket_arn(self._config, "ArtifactsBucket")

    def _child_execution_reasons(self) -> dict[str, str]:
        """IAM5 reasons for following the executions of the children built so far."""
        reasons = {}
        for children in _CHILDREN.values():
            for child in children:
                if child in self.state_machines:
                    name = self.state_machines[child].state_machine.state_machine_name
                    reasons[iam_policies.executions_of(name)] = (
                        f"Every execution of {child}: its parent workflow names each child "
                        "execution after its own, so the names are known only when it starts "
                        "them."
                    )
        return reasons

    def _tenant_access_permissions(self) -> list[iam.PolicyStatement]:
        """What the API may do for one tenant: read that tenant's records, endpoints,
        executions and evaluation files, start workflows, grade an evaluation, read endpoint
        metrics (maas.tenancy)."""
        key = self._foundation.key.key_arn
        tables = [self._foundation.tables[table] for table in ("EndpointsTable", "ModelsTable")]
        machines = [self.state_machines[workflow.state_machine_id] for workflow in Workflow]
        models = self._foundation.tables["ModelsTable"].table_arn
        return [
            iam_policies.read_tenant_items([table.table_arn for table in tables]),
            # maas.evaluation.review.submit_review: the grades on the evaluation's record;
            # EvalGen's sessions (maas.evaluation.evalgen.session_table) and the assertion
            # sets stored with versions: puts only, in the tenant's partition.
            iam_policies.write_tenant_items(models),
            # maas.usage.UsageMeter: each request ADDs to its hour's counters, an update in
            # the tenant's partition (USAGE#<hour>#<endpoint>).
            iam_policies.update_tenant_items(models),
            iam_policies.encrypt_decrypt_via(key, "dynamodb"),
            # maas.evaluation.review.review_items: the answers to grade; maas.pipeline: the
            # tenant's knowledge corpora.
            iam_policies.read_tenant_evaluation_objects(self._artifacts_bucket_arn()),
            iam_policies.decrypt_via(key, "s3"),
            # ... and the grades resume the workflow through the record's task token.
            iam_policies.send_task_success(),
            *(iam_policies.start_execution(machine.state_machine_arn) for machine in machines),
            iam_policies.read_tenant_executions(
                [machine.state_machine.state_machine_name for machine in machines]
            ),
            iam_policies.describe_tenant_endpoints(),
            # The invoke route (maas.pipeline): the tenant's endpoints and the stage's
            # guardrails (endpoints' pipelines are items of the models table, written above).
            iam_policies.invoke_tenant_endpoints(),
            # ... a Bedrock embedding model, when the pipeline names one.
            iam_policies.invoke_foundation_models(),
            iam_policies.apply_stage_guardrails(self._config.name),
            iam_policies.read_guardrail_parameters(self._config.name),
            iam_policies.read_endpoint_metrics(),
            # An execution's events; the API keeps only those naming the session's tenant.
            iam_policies.read_log_events(self._foundation.log_groups["EventLog"].log_group_arn),
        ]

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


#: The state machines the lifecycle runs as children.
_LIFECYCLE_CHILDREN = ("PackageModel", "DeployEndpoint", "Evaluate", "Teardown")
#: Each parent workflow's children (``states:startExecution.sync:2``).
_CHILDREN: dict[str, tuple[str, ...]] = {
    "Lifecycle": _LIFECYCLE_CHILDREN,
    # A gate that fails with on_gate_failure=teardown tears the endpoint down.
    "Evaluate": ("Teardown",),
}


def _starts_workflows(spec: FunctionSpec) -> bool:
    """Whether the function's environment names a state machine (so it is built after them)."""
    return any(
        isinstance(value, Ref) and value.kind is RefKind.STATE_MACHINE_ARN
        for value in spec.environment.values()
    )


def _event_pattern_fields(pattern: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge pattern's top-level fields as ``events.EventPattern`` arguments."""
    return {key.replace("-", "_"): value for key, value in pattern.items()}


def _tenant_workflow_statements() -> dict[str, list[iam.PolicyStatement]]:
    """What each endpoint workflow's service states do as the tenant's workflow role."""
    tenant = iam_policies.Owner.SESSION_TENANT
    return {
        "Teardown": [
            iam_policies.deregister_endpoint_scaling(),
            iam_policies.delete_idle_alarms(tenant),
            iam_policies.delete_scaling_alarms(),
            iam_policies.describe_endpoints(),
            iam_policies.delete_endpoints(tenant),
            iam_policies.delete_endpoint_configs(tenant),
            iam_policies.delete_models(tenant),
        ],
        "DeployEndpoint": [
            iam_policies.create_tagged_sagemaker_resources(tenant),
            iam_policies.describe_endpoints(),
            iam_policies.register_endpoint_scaling(),
            iam_policies.scale_endpoint_variants(),
            iam_policies.update_endpoint_capacities(tenant),
            iam_policies.manage_scaling_alarms(),
            iam_policies.create_autoscaling_service_linked_role(),
            iam_policies.create_idle_alarms(tenant),
        ],
        # Delete the endpoint only; its configuration and model stay for the start.
        "StopEndpoint": [
            iam_policies.deregister_endpoint_scaling(),
            iam_policies.describe_endpoints(),
            iam_policies.delete_endpoints(tenant),
            # Restoring the autoscaling of an endpoint that could not be deleted.
            iam_policies.register_endpoint_scaling(),
            iam_policies.scale_endpoint_variants(),
            iam_policies.update_endpoint_capacities(tenant),
            iam_policies.manage_scaling_alarms(),
        ],
        "StartEndpoint": [
            iam_policies.create_tagged_endpoints(tenant),
            iam_policies.describe_endpoints(),
            iam_policies.register_endpoint_scaling(),
            iam_policies.scale_endpoint_variants(),
            iam_policies.update_endpoint_capacities(tenant),
            iam_policies.manage_scaling_alarms(),
            iam_policies.create_autoscaling_service_linked_role(),
            iam_policies.restart_idle_clocks(tenant),
            # Undoing a start that failed: its scaling target and its endpoint.
            iam_policies.deregister_endpoint_scaling(),
            iam_policies.delete_endpoints(tenant),
        ],
        "UpdateEndpoint": [
            iam_policies.create_tagged_models_and_endpoint_configs(tenant),
            iam_policies.create_rollback_alarms(tenant),
            iam_policies.delete_rollback_alarms(tenant),
            iam_policies.describe_alarms(),
            iam_policies.update_endpoints(tenant),
            iam_policies.describe_endpoints(),
            iam_policies.register_endpoint_scaling(),
            iam_policies.deregister_endpoint_scaling(),
            iam_policies.scale_endpoint_variants(),
            iam_policies.update_endpoint_capacities(tenant),
            iam_policies.manage_scaling_alarms(),
            iam_policies.create_autoscaling_service_linked_role(),
            iam_policies.delete_endpoint_configs(tenant),
            iam_policies.delete_models(tenant),
        ],
        "ScaleEndpoint": [
            iam_policies.describe_endpoints(),
            iam_policies.update_endpoint_capacities(tenant),
            iam_policies.register_endpoint_scaling(),
            iam_policies.deregister_endpoint_scaling(),
            iam_policies.scale_endpoint_variants(),
            iam_policies.manage_scaling_alarms(),
            iam_policies.create_autoscaling_service_linked_role(),
        ],
    }


def _unique(statements: Iterable[iam.PolicyStatement]) -> list[iam.PolicyStatement]:
    """``statements`` without repeats (two workflows often need the same statement)."""
    kept: dict[str, iam.PolicyStatement] = {}
    for statement in statements:
        kept.setdefault(json.dumps(statement.to_json(), sort_keys=True), statement)
    return list(kept.values())


__all__ = ["LifecycleStack"]
