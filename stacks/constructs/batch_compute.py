"""Where Batch jobs run: a Fargate compute environment, or EC2 instances with a big disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import iam_policies
from stacks.nag import acknowledge_wildcards

if TYPE_CHECKING:
    from stacks.config import PackagingConfig

#: The root device of the ECS-optimized Amazon Linux 2023 AMI that Batch launches.
ROOT_DEVICE = "/dev/xvda"


class BatchCompute(Construct):
    """The compute environment every job queue of a stage sends its jobs to.

    ``fargate``: a Fargate environment, nothing to manage. ``ec2``: a managed EC2
    environment of the configured x86_64 instance types, each booting with an encrypted gp3
    root volume of the configured size (through a launch template, IMDSv2 only) and an
    instance role with only what the ECS agent calls. Both scale to zero.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    config
        The stage's packaging configuration.
    vpc, subnets, security_group
        Where the jobs run, and the security group they run in.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PackagingConfig,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        self.security_group = security_group
        self.environment: batch.IComputeEnvironment
        if config.compute == "ec2":
            self.environment = self._ec2(vpc, subnets)
        else:
            self.environment = batch.FargateComputeEnvironment(
                self,
                "Fargate",
                vpc=vpc,
                vpc_subnets=subnets,
                security_groups=[self.security_group],
                maxv_cpus=config.max_vcpus,
                spot=False,
            )

    @property
    def is_fargate(self) -> bool:
        """Whether jobs run on Fargate (else on EC2 instances)."""
        return self.config.compute == "fargate"

    def _ec2(
        self, vpc: ec2.IVpc, subnets: ec2.SubnetSelection
    ) -> batch.ManagedEc2EcsComputeEnvironment:
        launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    volume=ec2.BlockDeviceVolume.ebs(
                        self.config.root_volume_gib,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        encrypted=True,
                        delete_on_termination=True,
                    ),
                )
            ],
            # Containers get their credentials from the ECS agent, never from the instance
            # metadata: one hop keeps them from reaching it.
            require_imdsv2=True,
            http_put_response_hop_limit=1,
        )
        self.instance_role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="The ECS agent on the maas Batch instances.",
        )
        # Instead of the AmazonEC2ContainerServiceforEC2Role managed policy: the agent's own
        # calls only. Image pulls and logs go through each job's execution role.
        statements = [
            iam_policies.run_ecs_container_instances(),
            iam_policies.discover_ecs_endpoints(),
        ]
        for statement in statements:
            self.instance_role.add_to_policy(statement)
        acknowledge_wildcards(self.instance_role, statements)
        return batch.ManagedEc2EcsComputeEnvironment(
            self,
            "Ec2",
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            instance_types=[ec2.InstanceType(name) for name in self.config.instance_types],
            use_optimal_instance_classes=False,
            launch_template=launch_template,
            instance_role=self.instance_role,
            minv_cpus=0,
            maxv_cpus=self.config.max_vcpus,
            spot=False,
            update_to_latest_image_version=True,
        )


__all__ = ["ROOT_DEVICE", "BatchCompute"]
