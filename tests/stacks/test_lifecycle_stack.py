"""The lifecycle stack: functions, state machines, service roles and the event-log rule."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk.assertions import Match

from maas.manifest import MANIFEST
from stacks.constructs.manifest_function import (
    POWERTOOLS_LAYER_ACCOUNT,
    POWERTOOLS_LAYER_NAME,
    POWERTOOLS_LAYER_VERSION,
)
from tests.stacks.cfn_template import function_by_handler, logical_id_of, resources

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

    from stacks.control_plane import ControlPlane

pytestmark = pytest.mark.stacks


def test_one_function_per_manifest_function(lifecycle_json: dict[str, Any]) -> None:
    handlers = [
        properties.get("Handler") or properties["ImageConfig"]["Command"][0]
        for properties in resources(lifecycle_json, "AWS::Lambda::Function").values()
    ]
    assert sorted(handlers) == sorted(spec.handler for spec in MANIFEST.functions)


#: The functions that run the zip asset (the others are container images: see
#: tests/stacks/test_evaluation_permissions.py).
ZIP_FUNCTIONS = [spec for spec in MANIFEST.functions if spec.image is None]


@pytest.mark.parametrize("spec", ZIP_FUNCTIONS, ids=lambda spec: spec.id)
def test_function_runs_python_on_arm_with_powertools_and_active_tracing(
    lifecycle_json: dict[str, Any], spec: Any
) -> None:
    _, properties = function_by_handler(lifecycle_json, spec.handler)
    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["MemorySize"] == spec.memory_mb
    assert properties["Timeout"] == spec.timeout_seconds
    [layer] = properties["Layers"]
    parts = layer["Fn::Join"][1]
    assert {"Ref": "AWS::Region"} in parts
    assert parts[-1] == (
        f":{POWERTOOLS_LAYER_ACCOUNT}:layer:{POWERTOOLS_LAYER_NAME}:{POWERTOOLS_LAYER_VERSION}"
    )


@pytest.mark.parametrize("spec", MANIFEST.functions, ids=lambda spec: spec.id)
def test_function_logs_to_its_own_log_group_through_its_own_role(
    lifecycle_json: dict[str, Any], spec: Any
) -> None:
    _, properties = function_by_handler(lifecycle_json, spec.handler)
    log_group = properties["LoggingConfig"]["LogGroup"]["Ref"]
    assert lifecycle_json["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    role = properties["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in lifecycle_json["Resources"][role]["Properties"]


def test_no_role_uses_a_managed_policy(lifecycle_json: dict[str, Any]) -> None:
    for logical_id, properties in resources(lifecycle_json, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in properties, logical_id


def test_code_asset_holds_the_handler_packages_without_the_local_runtime(
    lifecycle_json: dict[str, Any], synthesized: Any
) -> None:
    keys = {
        properties["Code"]["S3Key"]
        for properties in resources(lifecycle_json, "AWS::Lambda::Function").values()
        if properties.get("PackageType") != "Image"
    }
    [key] = keys  # one asset for every zip function
    asset = synthesized.outdir / f"asset.{key.removesuffix('.zip')}"
    assert sorted(path.name for path in asset.iterdir()) == ["functions", "maas", "schemas"]
    assert (asset / "maas" / "manifest.py").is_file()
    assert (asset / "maas" / "data" / "instance_types.json").is_file()
    assert not (asset / "maas" / "local").exists()
    assert not (asset / "maas" / "cli").exists()
    assert not list(asset.rglob("__pycache__"))


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_state_machine_is_standard_traced_and_logs_everything(
    lifecycle: Template, plane: ControlPlane, spec: Any
) -> None:
    machine = plane.lifecycle.state_machines[spec.id]
    lifecycle.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {
                "Level": "ALL",
                "IncludeExecutionData": True,
                "Destinations": [
                    {
                        "CloudWatchLogsLogGroup": {
                            "LogGroupArn": {
                                "Fn::GetAtt": [
                                    logical_id_of(machine.log_group),
                                    "Arn",
                                ]
                            }
                        }
                    }
                ],
            },
        },
    )
    lifecycle.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": f"/aws/vendedlogs/states/maas-{plane.config.name}-{spec.id}"},
    )


SERVICE_ROLES = [spec for spec in MANIFEST.roles if spec.service_principal]


@pytest.mark.parametrize("spec", SERVICE_ROLES, ids=lambda spec: spec.id)
def test_service_role_is_assumed_by_its_service(lifecycle: Template, spec: Any) -> None:
    lifecycle.has_resource_properties(
        "AWS::IAM::Role",
        {
            "Description": spec.description,
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": spec.service_principal},
                        }
                    )
                ]
            },
        },
    )


def test_scheduler_role_trusts_only_schedules_of_this_account(lifecycle: Template) -> None:
    lifecycle.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                        },
                    }
                ]
            }
        },
    )


def test_event_log_rule_copies_maas_events_from_the_bus_to_the_log_group(
    lifecycle_json: dict[str, Any],
) -> None:
    spec = next(rule for rule in MANIFEST.rules if rule.id == "EventLogRule")
    [(rule_id, rule)] = [
        (rule_id, rule)
        for rule_id, rule in resources(lifecycle_json, "AWS::Events::Rule").items()
        if rule["EventPattern"] == spec.event_pattern
    ]
    assert rule["EventPattern"] == spec.event_pattern
    assert "Fn::GetStackOutput" in rule["EventBusName"]  # the foundation's bus, not default
    [target] = rule["Targets"]
    assert ":log-group:" in target["Arn"]["Fn::Join"][1]
    # The log group lets this rule, and only it, write.
    [policy] = resources(lifecycle_json, "AWS::Logs::ResourcePolicy").values()
    parts = policy["PolicyDocument"]["Fn::Join"][1]
    text = "".join(part for part in parts if isinstance(part, str))
    assert '"Service":["events.amazonaws.com","delivery.logs.amazonaws.com"]' in text
    assert '"ArnEquals":{"aws:SourceArn":"' in text
    assert {"Fn::GetAtt": [rule_id, "Arn"]} in parts


def test_outputs_give_each_state_machine_arn_with_its_description(
    lifecycle_json: dict[str, Any],
) -> None:
    outputs = lifecycle_json["Outputs"]
    for spec in MANIFEST.state_machines:
        output = outputs[f"{spec.id}StateMachineArn"]
        assert output["Description"] == spec.description
        assert lifecycle_json["Resources"][output["Value"]["Ref"]]["Type"] == (
            "AWS::StepFunctions::StateMachine"
        )


@pytest.mark.parametrize("spec", MANIFEST.schedules, ids=lambda spec: spec.id)
def test_each_manifest_schedule_invokes_its_function_with_its_input(
    lifecycle_json: dict[str, Any], plane: ControlPlane, spec: Any
) -> None:
    schedules = resources(lifecycle_json, "AWS::Scheduler::Schedule")
    [properties] = [
        schedule
        for schedule in schedules.values()
        if schedule["Name"] == plane.config.resource_name(spec.id)
    ]
    assert properties["ScheduleExpression"] == spec.expression
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = properties["Target"]
    function = plane.lifecycle.functions[spec.target.target].function
    assert target["Arn"] == {"Fn::GetAtt": [logical_id_of(function), "Arn"]}
    assert json.loads(target["Input"]) == spec.input
    scheduler_role = plane.lifecycle.roles["SchedulerRole"]
    assert target["RoleArn"] == {"Fn::GetAtt": [logical_id_of(scheduler_role), "Arn"]}
