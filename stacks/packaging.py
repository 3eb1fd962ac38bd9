"""The packaging stack: where the manifest's Batch jobs run, and where serving images live.

A small VPC (private subnets, NAT for the Hugging Face Hub, endpoints, flow logs); one
compute environment, Fargate or EC2 as the stage configures; per manifest job a queue, a
job definition with its image built from the job's Dockerfile, and the roles the job runs
with; an ECR repository for custom (bring-your-own-container) serving images.

A job's own role may do one thing: assume its tenant role for the tenant it works for, with
the session tag ``maas:tenant`` (:func:`maas.tenancy.act_as_tenant`). Everything the job
does, it does under that session, whose statements name the tenant through
``${aws:PrincipalTag/maas:tenant}``: no job reads or writes another tenant's files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam

from maas.manifest import (
    MANIFEST,
    PROJECT_ROOT,
    Ref,
    RefKind,
    job_definition_arn,
    job_queue_arn,
)
from maas.naming import kebab
from stacks import iam_policies, rights
from stacks.constructs.batch_compute import BatchCompute
from stacks.constructs.manifest_job import ManifestJob
from stacks.constructs.packaging_network import PackagingNetwork
from stacks.foundation import bucket_arn
from stacks.nag import acknowledge_wildcards

if TYPE_CHECKING:
    from aws_cdk import Environment
    from constructs import Construct

    from maas.manifest import JobSpec, RoleSpec
    from stacks.config import StageConfig
    from stacks.foundation import FoundationStack
    from stacks.refs import RefResolver

#: How long an untagged image (a failed push, a replaced manifest list) stays in the
#: serving repository. Tagged images stay: registered versions point at them.
UNTAGGED_IMAGE_DAYS = 14


class PackagingStack(Stack):
    """Network, compute, the manifest's Batch jobs and the serving image repository.

    Parameters
    ----------
    scope, id
        Where the stack lives.
    config
        The stage configuration (its ``packaging`` part chooses the compute).
    refs
        The register of manifest refs, already holding the foundation's resources; this
        stack registers each job's queue and definition in it.
    foundation
        The stage's foundation stack (key, buckets, tables).
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
            stack_name=config.stack_name("packaging"),
            description="maas control plane: packaging jobs on AWS Batch, serving images.",
            env=env,
        )
        self._config = config
        self._refs = refs
        self._foundation = foundation

        # --- Network --------------------------------------------------------------------
        self.network = PackagingNetwork(
            self,
            "Network",
            nat_gateways=config.packaging.nat_gateways,
            log_retention=config.retention,
            encryption_key=foundation.key,
            removal_policy=config.cdk_removal_policy,
        )

        # --- Compute --------------------------------------------------------------------
        self.compute = BatchCompute(
            self,
            "Compute",
            config=config.packaging,
            vpc=self.network.vpc,
            subnets=self.network.job_subnets,
            security_group=self.network.job_security_group,
        )

        # --- Jobs, and the roles they assume for one tenant ------------------------------
        #: The tenant role of each job, by the job's id.
        self.tenant_roles: dict[str, iam.Role] = {}
        self.jobs = {spec.id: self._job(spec) for spec in MANIFEST.jobs}

        # --- Serving images -------------------------------------------------------------
        self.serving_repository = ecr.Repository(
            self,
            "ServingImages",
            repository_name=f"maas-{config.name}/serving",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=foundation.key,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="Expire untagged images; tagged ones are what versions use.",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(UNTAGGED_IMAGE_DAYS),
                )
            ],
            removal_policy=config.cdk_removal_policy,
        )

        # --- Outputs --------------------------------------------------------------------
        for spec in MANIFEST.jobs:
            job = self.jobs[spec.id]
            CfnOutput(
                self,
                f"{spec.id}JobQueueName",
                value=job.queue.job_queue_name,
                description=f"The job queue of the {spec.id} job: {spec.description}",
            )
            CfnOutput(
                self,
                f"{spec.id}JobDefinitionName",
                value=job.definition.job_definition_name,
                description=f"The job definition of the {spec.id} job (latest revision).",
            )
        CfnOutput(
            self,
            "ServingImagesRepositoryUri",
            value=self.serving_repository.repository_uri,
            description="Push custom (bring-your-own-container) serving images here.",
        )

    # --- Builders -------------------------------------------------------------------------

    def _job(self, spec: JobSpec) -> ManifestJob:
        job_name = self._config.resource_name(spec.id)
        queue_name = self._config.resource_name(f"{spec.id}Queue")
        tenant_role_spec = _tenant_role_spec(spec.id)
        # The job's environment names its tenant role by the role's fixed name (built below,
        # once the job role it trusts exists).
        self._refs.register(
            Ref(kind=RefKind.ROLE_ARN, target=tenant_role_spec.id),
            iam_policies.arn(
                "iam", f"role/{self._config.resource_name(tenant_role_spec.id)}", region=""
            ),
        )
        job = ManifestJob(
            self,
            spec.id,
            spec=spec,
            project_root=PROJECT_ROOT,
            job_name=job_name,
            queue_name=queue_name,
            environment=self._refs.resolve_all(spec.environment),
            compute=self.compute,
            log_group_name=f"/maas/{self._config.name}/jobs/{kebab(spec.id)}",
            log_retention=self._config.retention,
            encryption_key=self._foundation.key,
            removal_policy=self._config.cdk_removal_policy,
        )
        tenant_role = self._tenant_role(tenant_role_spec, job)
        statements = self._job_permissions(spec.id)
        for statement in statements:
            tenant_role.add_to_policy(statement)
        artifacts = bucket_arn(self._config, "ArtifactsBucket")
        acknowledge_wildcards(
            tenant_role,
            statements,
            extra_reasons={
                **iam_policies.artifact_object_reasons(artifacts),
                **iam_policies.guardrail_parameter_reasons(self._config.name),
            },
        )
        # ARNs from the names, not the resources: a job definition's ARN changes with every
        # revision (a new image is one), while the ARN without a revision always means the
        # latest active one; and a name needs no cross-stack reference.
        self._refs.register(
            job_queue_arn(spec.id), iam_policies.arn("batch", f"job-queue/{queue_name}")
        )
        self._refs.register(
            job_definition_arn(spec.id), iam_policies.arn("batch", f"job-definition/{job_name}")
        )
        return job

    def _tenant_role(self, spec: RoleSpec, job: ManifestJob) -> iam.Role:
        """The role ``job`` assumes for one tenant; the job role may do nothing else."""
        role = iam.Role(
            self,
            spec.id,
            role_name=self._config.resource_name(spec.id),
            assumed_by=iam_policies.tenant_session_principal(job.job_role.role_arn),
            description=spec.description,
            # Role chaining caps a session at an hour; maas.tenancy renews it.
            max_session_duration=Duration.hours(1),
        )
        job.add_to_job_role(iam_policies.assume_for_tenants(role.role_arn))
        self.tenant_roles[job.spec.id] = role
        return role

    # --- Permissions ----------------------------------------------------------------------

    def _job_permissions(self, job_id: str) -> list[iam.PolicyStatement]:
        """What each job's container calls, under its tenant's session (stacks.rights)."""
        scope = iam_policies.Scope(
            stage=self._config.name,
            key=self._foundation.key.key_arn,
            artifacts=bucket_arn(self._config, "ArtifactsBucket"),
            resolve=lambda table: self._foundation.tables[table].table_arn,
        )
        return iam_policies.statements(
            rights.JOBS[job_id].tenant, scope, iam_policies.Owner.SESSION_TENANT
        )


def _tenant_role_spec(job_id: str) -> RoleSpec:
    """The manifest's role that the job ``job_id`` assumes for one tenant."""
    [spec] = [role for role in MANIFEST.roles if role.assumed_by_job == job_id]
    return spec


__all__ = ["UNTAGGED_IMAGE_DAYS", "PackagingStack"]
