"""A Batch job as the manifest describes it: image, queue, definition, roles and log group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, IgnoreMode, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import iam_policies
from stacks.nag import IAM5_ANY_RESOURCE, acknowledge

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_kms as kms

    from maas.manifest import JobSpec
    from stacks.constructs.batch_compute import BatchCompute

#: What never goes into an image's build context, whatever the root ``.dockerignore`` says
#: (dockerignore syntax): virtual environments, VCS data, caches and build outputs. Staging
#: copies the context into ``cdk.out`` at every synthesis, so these would make it slow.
CONTEXT_EXCLUDES = (
    ".git",
    ".venv",
    "cdk.out",
    "build",
    ".maas",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "**/__pycache__",
    "**/*.pyc",
    "*.egg-info",
    "node_modules",
)
#: The image's platform: the packager converts models with x86_64 wheels.
PLATFORM = ecr_assets.Platform.LINUX_AMD64
#: Build arguments of every job image. Jobs run on CPUs: PyTorch's CPU wheel index keeps
#: torch's CUDA libraries (several GB that each Fargate task would pull) out of the image
#: (see ``containers/packager/Dockerfile``).
BUILD_ARGS = {"PIP_EXTRA_INDEX_URL": "https://download.pytorch.org/whl/cpu"}


def image_asset(
    scope: Construct, id: str, *, project_root: Path, dockerfile: str
) -> ecr_assets.DockerImageAsset:
    """The image built from ``dockerfile`` with the repository root as its context.

    Nothing is built at synthesis: the context is staged into ``cdk.out`` (the root
    ``.dockerignore`` and :data:`CONTEXT_EXCLUDES` apply) and the CLI builds and pushes the
    image when it deploys.
    """
    return ecr_assets.DockerImageAsset(
        scope,
        id,
        directory=str(project_root),
        file=dockerfile,
        platform=PLATFORM,
        build_args=BUILD_ARGS,
        ignore_mode=IgnoreMode.DOCKER,
        # The Dockerfile is in the context whatever the ignore files say.
        exclude=[*CONTEXT_EXCLUDES, f"!{dockerfile}"],
    )


class ManifestJob(Construct):
    """The manifest's job ``spec``: a queue on the stage's compute and a job definition.

    The container runs the image built from the spec's Dockerfile with the spec's command,
    environment, vCPUs, memory, (on Fargate) task storage, timeout and retry attempts; it
    logs to a log group of its own. Two roles: the execution role, which pulls the image and
    writes the log group (granted by CDK as it binds them), and the job role, which is what
    the container may do: callers add its statements with :meth:`add_to_job_role`.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    spec
        The manifest's description of the job.
    project_root
        The repository root: the image's build context.
    job_name, queue_name
        The job definition's and the job queue's names.
    environment
        The container's environment, its manifest ``Ref`` s already resolved.
    compute
        The compute environment the queue sends jobs to.
    log_group_name, log_retention, encryption_key, removal_policy
        The job's log group: name, retention, key and removal policy.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: JobSpec,
        project_root: Path,
        job_name: str,
        queue_name: str,
        environment: Mapping[str, str],
        compute: BatchCompute,
        log_group_name: str,
        log_retention: logs.RetentionDays,
        encryption_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.image = image_asset(
            self, "Image", project_root=project_root, dockerfile=spec.dockerfile
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            retention=log_retention,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"Starts the maas {spec.id} job: pulls its image, writes its logs.",
        )
        acknowledge(
            self.execution_role,
            IAM5_ANY_RESOURCE,
            iam_policies.ANY_RESOURCE_REASONS["ecr:GetAuthorizationToken"],
        )
        self.job_role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"What the maas {spec.id} job's container may do.",
        )
        self.container = self._container(spec, environment, compute)
        self.definition = batch.EcsJobDefinition(
            self,
            "Definition",
            job_definition_name=job_name,
            container=self.container,
            timeout=Duration.seconds(spec.timeout_seconds),
            retry_attempts=spec.attempts,
            # The tags the workflow submits a job with reach its ECS task.
            propagate_tags=True,
        )
        self.queue = batch.JobQueue(
            self,
            "Queue",
            job_queue_name=queue_name,
            priority=1,
            compute_environments=[
                batch.OrderedComputeEnvironment(compute_environment=compute.environment, order=1)
            ],
        )

    def _container(
        self, spec: JobSpec, environment: Mapping[str, str], compute: BatchCompute
    ) -> batch.IEcsContainerDefinition:
        image = ecs.ContainerImage.from_docker_image_asset(self.image)
        logging = ecs.LogDrivers.aws_logs(stream_prefix=spec.id, log_group=self.log_group)
        if compute.is_fargate:
            return batch.EcsFargateContainerDefinition(
                self,
                "Container",
                image=image,
                command=list(spec.command),
                environment=dict(environment),
                cpu=spec.vcpus,
                memory=Size.mebibytes(spec.memory_mib),
                ephemeral_storage_size=Size.gibibytes(spec.ephemeral_storage_gib),
                fargate_cpu_architecture=ecs.CpuArchitecture.X86_64,
                fargate_operating_system_family=ecs.OperatingSystemFamily.LINUX,
                assign_public_ip=False,
                execution_role=self.execution_role,
                job_role=self.job_role,
                logging=logging,
            )
        # On EC2 the model is staged on the instance's root volume (BatchCompute).
        return batch.EcsEc2ContainerDefinition(
            self,
            "Container",
            image=image,
            command=list(spec.command),
            environment=dict(environment),
            cpu=spec.vcpus,
            memory=Size.mebibytes(spec.memory_mib),
            execution_role=self.execution_role,
            job_role=self.job_role,
            logging=logging,
        )

    def add_to_job_role(self, *statements: iam.PolicyStatement) -> None:
        """Allow the job's container what ``statements`` allow."""
        for statement in statements:
            self.job_role.add_to_policy(statement)


__all__ = ["BUILD_ARGS", "CONTEXT_EXCLUDES", "PLATFORM", "ManifestJob", "image_asset"]
