"""The synthesized app is the manifest: definitions, substitutions and environments agree.

The local runtime builds its world from the same manifest; these tests prove the AWS world
does too, so a workflow that passes locally runs the same definitions with the same wiring.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.manifest import MANIFEST, RefKind
from tests.stacks.cfn_template import function_by_handler, logical_id_of, resources

if TYPE_CHECKING:
    from collections.abc import Mapping

    from constructs import IConstruct

    from maas.manifest import JobSpec, Ref, StateMachineSpec
    from stacks.control_plane import ControlPlane
    from tests.stacks.synthesis import Synthesized

pytestmark = pytest.mark.stacks


def _state_machines_by_definition(
    template: dict[str, Any], synthesized: Synthesized
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each state machine's deployed definition (its S3 asset, read back), by spec id."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for logical_id, properties in resources(template, "AWS::StepFunctions::StateMachine").items():
        key = properties["DefinitionS3Location"]["Key"]
        deployed = json.loads((synthesized.outdir / f"asset.{key}").read_text())
        [spec] = [s for s in MANIFEST.state_machines if json.loads(s.definition_text()) == deployed]
        found[spec.id] = (logical_id, properties)
    return found


def _batch_arn(resource: str) -> dict[str, Any]:
    """A Batch ARN of this stack's partition, region and account, as the template holds it."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":batch:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


def _expected_value(
    template: dict[str, Any],
    ref: Ref,
    machines: dict[str, Any],
    packaging: dict[str, Any],
    plane: ControlPlane,
) -> dict[str, Any]:
    """What a substitution of ``ref`` must be in the template."""
    if ref.kind is RefKind.FUNCTION_ARN:
        logical_id, _ = function_by_handler(template, MANIFEST.function(ref.target).handler)
        return {"Fn::GetAtt": [logical_id, "Arn"]}
    if ref.kind is RefKind.ROLE_ARN:
        spec = next(role for role in MANIFEST.roles if role.id == ref.target)
        [role_id] = [
            logical_id
            for logical_id, properties in resources(template, "AWS::IAM::Role").items()
            if properties.get("Description") == spec.description
        ]
        principal = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
        assert principal["Statement"][0]["Principal"]["Service"] == spec.service_principal
        return {"Fn::GetAtt": [role_id, "Arn"]}
    if ref.kind is RefKind.STATE_MACHINE_ARN:
        return {"Ref": machines[ref.target][0]}
    if ref.kind is RefKind.JOB_QUEUE_ARN:
        queue = plane.packaging.jobs[ref.target].queue
        name = packaging["Resources"][logical_id_of(queue)]["Properties"]["JobQueueName"]
        return _batch_arn(f"job-queue/{name}")
    if ref.kind is RefKind.JOB_DEFINITION_ARN:
        # Without a revision: Batch runs the latest active one.
        definition = plane.packaging.jobs[ref.target].definition
        name = packaging["Resources"][logical_id_of(definition)]["Properties"]["JobDefinitionName"]
        return _batch_arn(f"job-definition/{name}")
    raise AssertionError(f"no expectation for substitutions of kind {ref.kind}")


def test_every_state_machine_deploys_its_asl_file_unchanged(
    lifecycle_json: dict[str, Any], synthesized: Synthesized
) -> None:
    machines = _state_machines_by_definition(lifecycle_json, synthesized)
    assert sorted(machines) == sorted(spec.id for spec in MANIFEST.state_machines)


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_substitutions_fill_exactly_the_slots_of_the_file(
    lifecycle_json: dict[str, Any], synthesized: Synthesized, spec: StateMachineSpec
) -> None:
    machines = _state_machines_by_definition(lifecycle_json, synthesized)
    _, properties = machines[spec.id]
    substitutions = properties["DefinitionSubstitutions"]
    assert set(substitutions) == spec.slots() == set(spec.substitutions)


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_each_substitution_points_at_the_resource_its_ref_names(
    lifecycle_json: dict[str, Any],
    packaging_json: dict[str, Any],
    synthesized: Synthesized,
    spec: StateMachineSpec,
) -> None:
    machines = _state_machines_by_definition(lifecycle_json, synthesized)
    substitutions = machines[spec.id][1]["DefinitionSubstitutions"]
    for slot, ref in spec.substitutions.items():
        expected = _expected_value(lifecycle_json, ref, machines, packaging_json, synthesized.plane)
        assert substitutions[slot] == expected, slot


@pytest.mark.parametrize("spec", MANIFEST.functions, ids=lambda spec: spec.id)
def test_function_environment_has_exactly_the_manifest_keys(
    lifecycle_json: dict[str, Any], spec: Any
) -> None:
    _, properties = function_by_handler(lifecycle_json, spec.handler)
    assert set(properties["Environment"]["Variables"]) == set(spec.environment)


@pytest.mark.parametrize("spec", MANIFEST.functions, ids=lambda spec: spec.id)
def test_function_environment_values_resolve_the_manifest_refs(
    lifecycle_json: dict[str, Any],
    foundation_json: dict[str, Any],
    synthesized: Synthesized,
    spec: Any,
) -> None:
    _, properties = function_by_handler(lifecycle_json, spec.handler)
    variables = properties["Environment"]["Variables"]
    plane = synthesized.plane
    foundation_resources: dict[RefKind, Mapping[str, IConstruct]] = {
        RefKind.TABLE_NAME: plane.foundation.tables,
        RefKind.BUCKET_NAME: plane.foundation.buckets,
        RefKind.EVENT_BUS_NAME: {"EventBus": plane.foundation.event_bus},
    }
    for name, value in spec.environment.items():
        if isinstance(value, str):
            assert variables[name] == value, name
        elif value.kind is RefKind.SETTING:
            assert variables[name] == plane.config.setting(value.target), name
        elif value.kind is RefKind.STATE_MACHINE_ARN:
            # A workflow of the same stack: its ARN is the machine's Ref.
            machine = plane.lifecycle.state_machines[value.target].state_machine
            assert variables[name] == {"Ref": logical_id_of(machine)}, name
        elif value.kind is RefKind.LOG_GROUP_ARN:
            # A foundation log group's ARN: an output of that stack, read across stacks.
            output = variables[name]["Fn::GetStackOutput"]
            assert output["StackName"] == plane.foundation.stack_name
            group = plane.foundation.log_groups[value.target]
            assert foundation_json["Outputs"][output["OutputName"]]["Value"] == {
                "Fn::GetAtt": [logical_id_of(group), "Arn"]
            }
        elif value.kind is RefKind.RESOURCE_NAME:
            # A name that run-time names extend (the tenants' workflow roles).
            assert variables[name] == plane.config.resource_name(value.target), name
        elif value.kind is RefKind.POLICY_ARN:
            # The tenant workflow policy, of the same stack: its ARN is its Ref.
            policy = plane.lifecycle.tenant_workflow_policy
            assert variables[name] == {"Ref": logical_id_of(policy)}, name
            properties = lifecycle_json["Resources"][logical_id_of(policy)]["Properties"]
            assert properties["ManagedPolicyName"] == plane.config.resource_name(value.target)
        elif value.kind is RefKind.ROLE_ARN:
            # A role a function assumes: its ARN from its fixed name, the role built after.
            role_name = plane.config.resource_name(value.target)
            assert role_name in json.dumps(variables[name]), name
            role = plane.lifecycle.roles[value.target]
            properties = lifecycle_json["Resources"][logical_id_of(role)]["Properties"]
            assert properties["RoleName"] == role_name
        else:
            # A foundation resource's name: an output of that stack, read across stacks.
            output = variables[name]["Fn::GetStackOutput"]
            assert output["StackName"] == plane.foundation.stack_name
            resource = foundation_resources[value.kind][value.target]
            assert foundation_json["Outputs"][output["OutputName"]]["Value"] == {
                "Ref": logical_id_of(resource)
            }


# --- Batch jobs: the same queues, definitions, commands and environments as locally ---------


class _RecordingBatch:
    """A Batch client that records what the local provisioning asks for."""

    def __init__(self) -> None:
        self.queues: list[dict[str, Any]] = []
        self.definitions: list[dict[str, Any]] = []

    def create_compute_environment(self, **_: Any) -> dict[str, str]:
        return {"computeEnvironmentArn": "arn:aws:batch:us-east-1:123456789012:ce/local"}

    def create_job_queue(self, **arguments: Any) -> dict[str, str]:
        self.queues.append(arguments)
        return {"jobQueueArn": f"queue/{arguments['jobQueueName']}"}

    def register_job_definition(self, **arguments: Any) -> dict[str, str]:
        self.definitions.append(arguments)
        return {"jobDefinitionArn": f"definition/{arguments['jobDefinitionName']}:1"}


@pytest.fixture(scope="module")
def local_jobs() -> _RecordingBatch:
    """What ``maas.local.provision`` registers for the manifest's jobs."""
    pytest.importorskip("moto", reason="the local runtime needs the local extra")
    from maas.local.provision import LocalResources, _provision_jobs
    from maas.local.settings import LocalSettings

    resources = LocalResources(settings=LocalSettings())
    resources.roles["StateMachineRole"] = "arn:aws:iam::123456789012:role/local"
    for job in MANIFEST.jobs:
        resources.roles[job.role_id] = f"arn:aws:iam::123456789012:role/{job.role_id}"
    batch = _RecordingBatch()
    _provision_jobs(resources, batch)
    return batch


def _aws_name(local_name: str, plane: ControlPlane) -> str:
    """A local resource name with the stage's prefix in place of the local one."""
    from maas.local.settings import LocalSettings

    return f"maas-{plane.config.name}-{local_name.removeprefix(LocalSettings().name_prefix + '-')}"


@pytest.mark.parametrize("spec", MANIFEST.jobs, ids=lambda spec: spec.id)
def test_job_queue_and_definition_are_named_as_locally(
    packaging_json: dict[str, Any], plane: ControlPlane, local_jobs: _RecordingBatch, spec: JobSpec
) -> None:
    job = plane.packaging.jobs[spec.id]
    queue = packaging_json["Resources"][logical_id_of(job.queue)]["Properties"]
    definition = packaging_json["Resources"][logical_id_of(job.definition)]["Properties"]
    local_queues = [_aws_name(queue["jobQueueName"], plane) for queue in local_jobs.queues]
    local_definitions = [
        _aws_name(definition["jobDefinitionName"], plane) for definition in local_jobs.definitions
    ]
    assert queue["JobQueueName"] in local_queues
    assert definition["JobDefinitionName"] in local_definitions


@pytest.mark.parametrize("spec", MANIFEST.jobs, ids=lambda spec: spec.id)
def test_job_definition_runs_what_the_local_runtime_runs(
    packaging_json: dict[str, Any], plane: ControlPlane, local_jobs: _RecordingBatch, spec: JobSpec
) -> None:
    job = plane.packaging.jobs[spec.id]
    deployed = packaging_json["Resources"][logical_id_of(job.definition)]["Properties"]
    [local] = [
        definition
        for definition in local_jobs.definitions
        if _aws_name(definition["jobDefinitionName"], plane) == deployed["JobDefinitionName"]
    ]
    container, local_container = deployed["ContainerProperties"], local["containerProperties"]
    assert container["Command"] == local_container["command"]
    assert {variable["Name"] for variable in container["Environment"]} == {
        variable["name"] for variable in local_container["environment"]
    }
    assert sorted(
        (requirement["Type"], requirement["Value"])
        for requirement in container["ResourceRequirements"]
    ) == sorted(
        (requirement["type"], requirement["value"])
        for requirement in local_container["resourceRequirements"]
    )
    assert (
        deployed["Timeout"]["AttemptDurationSeconds"] == local["timeout"]["attemptDurationSeconds"]
    )
    assert deployed["RetryStrategy"]["Attempts"] == local["retryStrategy"]["attempts"]
    # Both run the container as the job's own role (its credentials are that role's session).
    assert "JobRoleArn" in container
    assert local_container["jobRoleArn"].endswith(f"/{spec.role_id}")


@pytest.mark.parametrize("spec", MANIFEST.jobs, ids=lambda spec: spec.id)
def test_job_environment_values_resolve_the_manifest_refs(
    packaging_json: dict[str, Any],
    foundation_json: dict[str, Any],
    plane: ControlPlane,
    spec: JobSpec,
) -> None:
    job = plane.packaging.jobs[spec.id]
    container = packaging_json["Resources"][logical_id_of(job.definition)]["Properties"][
        "ContainerProperties"
    ]
    variables = {variable["Name"]: variable["Value"] for variable in container["Environment"]}
    foundation_resources: dict[RefKind, Mapping[str, IConstruct]] = {
        RefKind.TABLE_NAME: plane.foundation.tables,
        RefKind.BUCKET_NAME: plane.foundation.buckets,
    }
    for name, value in spec.environment.items():
        if isinstance(value, str):
            assert variables[name] == value, name
        elif value.kind is RefKind.SETTING:
            assert variables[name] == plane.config.setting(value.target), name
        elif value.kind is RefKind.STATE_MACHINE_ARN:
            # A workflow of the same stack: its ARN is the machine's Ref.
            machine = plane.lifecycle.state_machines[value.target].state_machine
            assert variables[name] == {"Ref": logical_id_of(machine)}, name
        elif value.kind is RefKind.ROLE_ARN:
            # The job's tenant role, of the same stack, by its fixed name.
            role_name = plane.config.resource_name(value.target)
            assert variables[name]["Fn::Join"][1][-1] == f":role/{role_name}", name
        else:
            output = variables[name]["Fn::GetStackOutput"]
            assert output["StackName"] == plane.foundation.stack_name
            resource = foundation_resources[value.kind][value.target]
            assert foundation_json["Outputs"][output["OutputName"]]["Value"] == {
                "Ref": logical_id_of(resource)
            }
