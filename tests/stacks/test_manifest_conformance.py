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

    from maas.manifest import Ref, StateMachineSpec
    from tests.stacks.synthesis import Synthesized

pytestmark = [pytest.mark.stacks, pytest.mark.xdist_group("stacks")]


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


def _expected_value(template: dict[str, Any], ref: Ref, machines: dict[str, Any]) -> dict[str, Any]:
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
    lifecycle_json: dict[str, Any], synthesized: Synthesized, spec: StateMachineSpec
) -> None:
    machines = _state_machines_by_definition(lifecycle_json, synthesized)
    substitutions = machines[spec.id][1]["DefinitionSubstitutions"]
    for slot, ref in spec.substitutions.items():
        assert substitutions[slot] == _expected_value(lifecycle_json, ref, machines), slot


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
        else:
            # A foundation resource's name: an output of that stack, read across stacks.
            output = variables[name]["Fn::GetStackOutput"]
            assert output["StackName"] == plane.foundation.stack_name
            resource = foundation_resources[value.kind][value.target]
            assert foundation_json["Outputs"][output["OutputName"]]["Value"] == {
                "Ref": logical_id_of(resource)
            }
