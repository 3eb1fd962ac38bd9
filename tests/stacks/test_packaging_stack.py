"""The packaging stack: Batch jobs from the manifest, their network and compute, serving images.

The default stage runs jobs on Fargate; one more synthesis, of a stage configured for EC2,
covers the other compute option (and is checked by cdk-nag and cfn-lint like the default).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

cdk = pytest.importorskip("aws_cdk", reason="the stack tests need the cdk extra")

from aws_cdk.assertions import Match, Template  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from maas.manifest import MANIFEST, PROJECT_ROOT  # noqa: E402
from stacks.config import read_cdk_json_context  # noqa: E402
from stacks.constructs.batch_compute import ROOT_DEVICE  # noqa: E402
from stacks.constructs.manifest_job import BUILD_ARGS  # noqa: E402
from stacks.constructs.packaging_network import INTERFACE_ENDPOINTS  # noqa: E402
from stacks.control_plane import build  # noqa: E402
from stacks.iam_policies import (  # noqa: E402
    HUB_TOKEN_PURPOSE,
    HUB_TOKEN_TAG,
    SESSION_TENANT,
    TENANT_TAG,
)
from tests.stacks.cfn_template import arn_text, as_list, logical_id_of, policy_statements, resources  # noqa: E402

if TYPE_CHECKING:
    from maas.manifest import JobSpec
    from stacks.control_plane import ControlPlane
    from tests.stacks.synthesis import Synthesized

pytestmark = pytest.mark.stacks

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
#: The EC2 option as a stage would configure it.
EC2 = {"compute": "ec2", "instance_types": ["r6i.4xlarge", "m6i.8xlarge"], "root_volume_gib": 750}


@pytest.fixture(scope="module")
def ec2_stage(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default stage with ``packaging`` set to EC2, synthesized (cdk-nag runs in it)."""
    from tests.stacks.synthesis import Synthesized

    context = read_cdk_json_context(PROJECT_ROOT / "cdk.json")
    stage = context["maas:stage"]
    stages = {**context["maas:stages"]}
    stages[stage] = {**stages[stage], "packaging": EC2}
    outdir = tmp_path_factory.mktemp("cdk.out.ec2")
    app = cdk.App(context={**context, "maas:stages": stages}, outdir=str(outdir))
    plane = build(app)
    try:
        assembly = app.synth()
    except RuntimeError as exc:
        return Synthesized(app=app, plane=plane, outdir=outdir, assembly=None, error=str(exc))
    return Synthesized(app=app, plane=plane, outdir=outdir, assembly=assembly, error=None)


@pytest.fixture(scope="module")
def ec2_packaging(ec2_stage: Synthesized) -> dict[str, Any]:
    """The EC2 stage's packaging template."""
    return ec2_stage.template_dict(ec2_stage.plane.packaging)


def _job_definition(template: dict[str, Any], plane: ControlPlane, spec: JobSpec) -> Any:
    definition = plane.packaging.jobs[spec.id].definition
    return template["Resources"][logical_id_of(definition)]["Properties"]


def _job_role_statements(
    template: dict[str, Any], plane: ControlPlane, job_id: str
) -> list[dict[str, Any]]:
    """What the job does: the statements of the role it assumes for its tenant."""
    role = logical_id_of(plane.packaging.tenant_roles[job_id])
    return policy_statements(template, role)


# --- Jobs ---------------------------------------------------------------------------------


def test_one_queue_and_one_definition_per_manifest_job(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    queues = resources(packaging_json, "AWS::Batch::JobQueue")
    definitions = resources(packaging_json, "AWS::Batch::JobDefinition")
    stage = plane.config
    assert sorted(q["JobQueueName"] for q in queues.values()) == sorted(
        stage.resource_name(f"{spec.id}Queue") for spec in MANIFEST.jobs
    )
    assert sorted(d["JobDefinitionName"] for d in definitions.values()) == sorted(
        stage.resource_name(spec.id) for spec in MANIFEST.jobs
    )


@pytest.mark.parametrize("spec", MANIFEST.jobs, ids=lambda spec: spec.id)
def test_job_definition_runs_the_manifest_command_with_its_resources(
    packaging_json: dict[str, Any], plane: ControlPlane, spec: JobSpec
) -> None:
    properties = _job_definition(packaging_json, plane, spec)
    container = properties["ContainerProperties"]
    assert container["Command"] == list(spec.command)
    assert {variable["Name"] for variable in container["Environment"]} == set(spec.environment)
    assert sorted(container["ResourceRequirements"], key=lambda r: r["Type"]) == [
        {"Type": "MEMORY", "Value": str(spec.memory_mib)},
        {"Type": "VCPU", "Value": f"{spec.vcpus:g}"},
    ]
    assert container["EphemeralStorage"] == {"SizeInGiB": spec.ephemeral_storage_gib}
    assert properties["Timeout"] == {"AttemptDurationSeconds": spec.timeout_seconds}
    assert properties["RetryStrategy"] == {"Attempts": spec.attempts}
    assert properties["PropagateTags"] is True


@pytest.mark.parametrize("spec", MANIFEST.jobs, ids=lambda spec: spec.id)
def test_job_image_is_built_from_the_dockerfile_with_the_repository_as_context(
    packaging_json: dict[str, Any], synthesized: Synthesized, plane: ControlPlane, spec: JobSpec
) -> None:
    image = _job_definition(packaging_json, plane, spec)["ContainerProperties"]["Image"]
    asset_hash = plane.packaging.jobs[spec.id].image.asset_hash
    assert image["Fn::Sub"].endswith(f":{asset_hash}")
    manifest = json.loads(
        (synthesized.outdir / f"{plane.packaging.stack_name}.assets.json").read_text()
    )
    source = manifest["dockerImages"][asset_hash]["source"]
    assert source["directory"] == f"asset.{asset_hash}"
    assert source["dockerFile"] == spec.dockerfile
    assert source["platform"] == "linux/amd64"
    assert source["dockerBuildArgs"] == BUILD_ARGS


def test_image_context_holds_the_project_without_environments_caches_or_vcs(
    synthesized: Synthesized, plane: ControlPlane
) -> None:
    for spec in MANIFEST.jobs:
        context = synthesized.outdir / f"asset.{plane.packaging.jobs[spec.id].image.asset_hash}"
        assert (context / spec.dockerfile).is_file()
        assert (context / "maas" / "manifest.py").is_file()
        staged = {path.name for path in context.iterdir()}
        assert not staged & {".git", ".venv", "cdk.out", ".mypy_cache", ".pytest_cache"}
        assert not list(context.rglob("__pycache__"))


def test_job_logs_to_its_own_encrypted_log_group(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    for spec in MANIFEST.jobs:
        job = plane.packaging.jobs[spec.id]
        options = _job_definition(packaging_json, plane, spec)["ContainerProperties"][
            "LogConfiguration"
        ]
        assert options["LogDriver"] == "awslogs"
        assert options["Options"]["awslogs-group"] == {"Ref": logical_id_of(job.log_group)}
        group = packaging_json["Resources"][logical_id_of(job.log_group)]["Properties"]
        assert group["LogGroupName"].startswith(f"/maas/{plane.config.name}/jobs/")
        assert "KmsKeyId" in group


# --- Compute ------------------------------------------------------------------------------


def test_jobs_run_on_fargate_by_default_in_private_subnets(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    assert plane.config.packaging.compute == "fargate"
    [environment] = resources(packaging_json, "AWS::Batch::ComputeEnvironment").values()
    assert environment["Type"] == "managed"
    assert environment["ComputeResources"]["Type"] == "FARGATE"
    assert environment["ComputeResources"]["MaxvCpus"] == plane.config.packaging.max_vcpus
    subnets = [subnet["Ref"] for subnet in environment["ComputeResources"]["Subnets"]]
    for subnet in subnets:
        assert packaging_json["Resources"][subnet]["Properties"]["MapPublicIpOnLaunch"] is False
    for spec in MANIFEST.jobs:
        properties = _job_definition(packaging_json, plane, spec)
        assert properties["PlatformCapabilities"] == ["FARGATE"]
        container = properties["ContainerProperties"]
        assert container["NetworkConfiguration"] == {"AssignPublicIp": "DISABLED"}
        assert container["RuntimePlatform"]["CpuArchitecture"] == "X86_64"


def test_ec2_option_launches_the_configured_instances_with_a_big_root_volume(
    ec2_packaging: dict[str, Any],
) -> None:
    [environment] = resources(ec2_packaging, "AWS::Batch::ComputeEnvironment").values()
    compute = environment["ComputeResources"]
    assert compute["Type"] == "EC2"
    assert compute["InstanceTypes"] == EC2["instance_types"]
    assert compute["MinvCpus"] == 0
    [(template_id, launch_template)] = resources(ec2_packaging, "AWS::EC2::LaunchTemplate").items()
    assert compute["LaunchTemplate"] == {"LaunchTemplateId": {"Ref": template_id}}
    data = launch_template["LaunchTemplateData"]
    assert data["BlockDeviceMappings"] == [
        {
            "DeviceName": ROOT_DEVICE,
            "Ebs": {
                "DeleteOnTermination": True,
                "Encrypted": True,
                "VolumeSize": EC2["root_volume_gib"],
                "VolumeType": "gp3",
            },
        }
    ]
    assert data["MetadataOptions"]["HttpTokens"] == "required"


def test_ec2_option_runs_the_same_jobs_as_ec2_definitions(
    ec2_packaging: dict[str, Any], ec2_stage: Synthesized
) -> None:
    for spec in MANIFEST.jobs:
        properties = _job_definition(ec2_packaging, ec2_stage.plane, spec)
        assert properties["PlatformCapabilities"] == ["EC2"]
        assert properties["ContainerProperties"]["Command"] == list(spec.command)
        assert "EphemeralStorage" not in properties["ContainerProperties"]


def test_no_role_uses_a_managed_policy(packaging_json: dict[str, Any]) -> None:
    roles = resources(packaging_json, "AWS::IAM::Role")
    assert roles
    for logical_id, properties in roles.items():
        assert "ManagedPolicyArns" not in properties, logical_id


def test_ec2_instance_role_has_no_managed_policy_and_only_ecs_agent_actions(
    ec2_packaging: dict[str, Any], ec2_stage: Synthesized
) -> None:
    role = ec2_stage.plane.packaging.compute.instance_role
    logical_id = logical_id_of(role)
    assert "ManagedPolicyArns" not in ec2_packaging["Resources"][logical_id]["Properties"]
    actions = {
        action
        for statement in policy_statements(ec2_packaging, logical_id)
        for action in as_list(statement["Action"])
    }
    assert actions and all(action.startswith("ecs:") for action in actions)


def test_ec2_stage_acknowledgments_are_documented(ec2_stage: Synthesized) -> None:
    docs = (PROJECT_ROOT / "docs" / "stacks.md").read_text()
    stage = ec2_stage.plane.config.name
    for construct in ec2_stage.plane.packaging.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for finding in entry.data:
                    documented = finding.removeprefix("Annotation::").replace(
                        f"maas-{stage}-", "maas-<stage>-"
                    )
                    assert f"`{documented}`" in docs, documented


def test_ec2_stage_passes_cdk_nag_and_cfn_lint(ec2_stage: Synthesized) -> None:
    assert ec2_stage.error is None
    report = AwsSolutionsChecks(verbose=True).validate_scope(ec2_stage.app)
    assert report.success, [violation.rule_name for violation in report.violations]
    template = ec2_stage.outdir / f"{ec2_stage.plane.packaging.stack_name}.template.json"
    result = subprocess.run(
        [str(CFN_LINT), str(template)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Network ------------------------------------------------------------------------------


def test_vpc_logs_every_flow_and_has_the_configured_nat_gateways(
    packaging: Template, plane: ControlPlane
) -> None:
    packaging.resource_count_is("AWS::EC2::VPC", 1)
    packaging.resource_count_is("AWS::EC2::NatGateway", plane.config.packaging.nat_gateways)
    packaging.has_resource_properties(
        "AWS::EC2::FlowLog",
        {
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
        },
    )


def test_vpc_reaches_s3_dynamodb_ecr_and_logs_through_endpoints(
    packaging_json: dict[str, Any],
) -> None:
    endpoints = resources(packaging_json, "AWS::EC2::VPCEndpoint").values()
    gateways = {
        arn_text(e["ServiceName"]).rsplit(".", 1)[-1] for e in endpoints if "RouteTableIds" in e
    }
    assert gateways == {"s3", "dynamodb"}
    interfaces = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    assert len(interfaces) == len(INTERFACE_ENDPOINTS)
    assert all(e["PrivateDnsEnabled"] for e in interfaces)


def test_jobs_admit_nothing_and_send_only_https_and_endpoints_admit_only_jobs(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    network = plane.packaging.network
    jobs = packaging_json["Resources"][logical_id_of(network.job_security_group)]["Properties"]
    assert "SecurityGroupIngress" not in jobs
    [egress] = jobs["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    [ingress] = resources(packaging_json, "AWS::EC2::SecurityGroupIngress").values()
    assert ingress["GroupId"]["Fn::GetAtt"][0] == logical_id_of(network.endpoint_security_group)
    assert ingress["SourceSecurityGroupId"]["Fn::GetAtt"][0] == logical_id_of(
        network.job_security_group
    )
    assert (ingress["FromPort"], ingress["ToPort"]) == (443, 443)


# --- Serving images -----------------------------------------------------------------------


def test_serving_repository_scans_keeps_tags_and_encrypts(
    packaging: Template, plane: ControlPlane
) -> None:
    packaging.has_resource_properties(
        "AWS::ECR::Repository",
        {
            "RepositoryName": f"maas-{plane.config.name}/serving",
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "ImageTagMutability": "IMMUTABLE",
            "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": Match.any_value()},
        },
    )


def test_serving_repository_expires_only_untagged_images(packaging_json: dict[str, Any]) -> None:
    [repository] = resources(packaging_json, "AWS::ECR::Repository").values()
    rules = json.loads(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rules
    assert all(rule["selection"]["tagStatus"] == "untagged" for rule in rules)


# --- The job's permissions ----------------------------------------------------------------


def test_packager_touches_only_its_tenants_folder_of_the_artifacts_bucket(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    bucket = f":s3:::maas-{plane.config.name}-artifacts-<AWS::AccountId>-<AWS::Region>"
    for statement in _job_role_statements(packaging_json, plane, "Packager"):
        actions = as_list(statement["Action"])
        s3_actions = [action for action in actions if action.startswith("s3:")]
        if not s3_actions:
            continue
        for resource in as_list(statement["Resource"]):
            arn = arn_text(resource)
            assert arn.startswith(f"arn:<AWS::Partition>{bucket}"), arn
            if "s3:ListBucket" not in actions:
                assert arn.startswith(f"arn:<AWS::Partition>{bucket}/{SESSION_TENANT}/"), arn
            if any(action.startswith(("s3:Put", "s3:Delete", "s3:Abort")) for action in actions):
                assert arn.endswith(f"{bucket}/{SESSION_TENANT}/*/*/*"), arn
        if "s3:ListBucket" in actions:
            assert statement["Condition"] == {"StringLike": {"s3:prefix": f"{SESSION_TENANT}/*"}}


def test_packager_reads_only_secrets_tagged_as_hub_tokens(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    secrets = [
        statement
        for statement in _job_role_statements(packaging_json, plane, "Packager")
        if any(action.startswith("secretsmanager:") for action in as_list(statement["Action"]))
    ]
    assert secrets
    for statement in secrets:
        assert statement["Action"] == [
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
        ]
        assert statement["Condition"] == {
            "StringEquals": {
                f"aws:ResourceTag/{HUB_TOKEN_TAG}": HUB_TOKEN_PURPOSE,
                f"aws:ResourceTag/{TENANT_TAG}": SESSION_TENANT,
            }
        }
        assert arn_text(statement["Resource"]).endswith(f":secret:maas/{SESSION_TENANT}/*")


def test_packager_updates_only_the_models_table_and_uses_the_key_only_through_services(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    models = plane.foundation.tables["ModelsTable"]
    for statement in _job_role_statements(packaging_json, plane, "Packager"):
        actions = as_list(statement["Action"])
        if any(action.startswith("dynamodb:") for action in actions):
            assert set(actions) <= {"dynamodb:GetItem", "dynamodb:UpdateItem"}
            output = statement["Resource"]["Fn::GetStackOutput"]["OutputName"]
            assert logical_id_of(models) in output
            assert statement["Condition"] == {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}
            }
        if any(action.startswith("kms:") for action in actions):
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]


def test_execution_role_pulls_only_the_job_image_and_writes_only_its_log_group(
    packaging_json: dict[str, Any], plane: ControlPlane
) -> None:
    for spec in MANIFEST.jobs:
        job = plane.packaging.jobs[spec.id]
        statements = policy_statements(packaging_json, logical_id_of(job.execution_role))
        for statement in statements:
            actions = as_list(statement["Action"])
            if actions == ["ecr:GetAuthorizationToken"]:
                continue
            [resource] = as_list(statement["Resource"])
            if all(action.startswith("ecr:") for action in actions):
                # The CDK bootstrap's repository of container assets, where the image goes.
                assert ":repository/" in arn_text(resource)
                assert "-container-assets-" in arn_text(resource)
            else:
                assert set(actions) == {"logs:CreateLogStream", "logs:PutLogEvents"}
                assert resource == {"Fn::GetAtt": [logical_id_of(job.log_group), "Arn"]}


def test_outputs_name_each_queue_definition_and_the_serving_repository(
    packaging_json: dict[str, Any],
) -> None:
    outputs = packaging_json["Outputs"]
    names = {f"{spec.id}JobQueueName" for spec in MANIFEST.jobs} | {
        f"{spec.id}JobDefinitionName" for spec in MANIFEST.jobs
    }
    for name in {*names, "ServingImagesRepositoryUri"}:
        assert outputs[name]["Description"], name
