"""The VPC that Batch jobs run in: private subnets, NAT, endpoints, flow logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_kms as kms

#: Jobs reach the Hugging Face Hub, AWS APIs and the endpoints over HTTPS, and nothing else.
HTTPS = ec2.Port.tcp(443)
#: The VPC's address range: /20 private subnets leave room for many concurrent Fargate tasks
#: (each takes one address) and EC2 instances.
CIDR = "10.80.0.0/16"
MAX_AZS = 2
#: What jobs (and the EC2 instances that run them) reach privately instead of through NAT:
#: image layers (ECR and S3), logs, the registry table. The Hugging Face Hub is on the
#: internet, so NAT stays.
GATEWAY_ENDPOINTS = {
    "S3": ec2.GatewayVpcEndpointAwsService.S3,
    "DynamoDB": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
}
INTERFACE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}


class PackagingNetwork(Construct):
    """A small VPC for Batch jobs that download models from the internet.

    Two availability zones, each with a public subnet (for the NAT gateways) and a private
    subnet with egress where jobs run; gateway endpoints for S3 and DynamoDB and interface
    endpoints for ECR and CloudWatch Logs, so image pulls, uploads and logs stay off NAT;
    every flow logged to an encrypted log group. Jobs get a security group that admits
    nothing and lets out only HTTPS; the interface endpoints admit HTTPS from it alone.

    The VPC's default security group keeps its default rules: nothing is placed in it, and
    emptying it takes CDK's custom resource (a Node.js function whose role has the
    AWSLambdaBasicExecutionRole managed policy and whose log group never expires), which
    this project's rules keep out.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    nat_gateways
        How many NAT gateways: 1, or one per availability zone.
    log_retention, encryption_key, removal_policy
        The flow log group's retention, key and removal policy.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        nat_gateways: int,
        log_retention: logs.RetentionDays,
        encryption_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(CIDR),
            max_azs=MAX_AZS,
            nat_gateways=nat_gateways,
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="Jobs", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
            ],
        )
        self.flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=log_retention,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.job_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.job_security_group = ec2.SecurityGroup(
            self,
            "JobSecurityGroup",
            vpc=self.vpc,
            description="maas Batch jobs: no inbound traffic, outbound HTTPS only.",
            allow_all_outbound=False,
        )
        self.job_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), HTTPS, "The Hugging Face Hub, AWS APIs and the VPC endpoints"
        )
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="maas VPC interface endpoints: HTTPS from Batch jobs only.",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            self.job_security_group, HTTPS, "Batch jobs and their instances"
        )
        for name, gateway_service in GATEWAY_ENDPOINTS.items():
            self.vpc.add_gateway_endpoint(name, service=gateway_service, subnets=[self.job_subnets])
        for name, interface_service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name,
                service=interface_service,
                subnets=self.job_subnets,
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                open=False,
            )


__all__ = [
    "CIDR",
    "GATEWAY_ENDPOINTS",
    "HTTPS",
    "INTERFACE_ENDPOINTS",
    "MAX_AZS",
    "PackagingNetwork",
]
