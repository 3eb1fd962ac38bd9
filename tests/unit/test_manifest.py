"""The manifest is complete: every handler exists, every slot has a value, every ref resolves."""

from __future__ import annotations

import importlib

import pytest

from maas.local.provision import LocalResources
from maas.local.settings import LocalSettings
from maas.manifest import MANIFEST, FunctionSpec, Ref, RefKind, StateMachineSpec

RESOURCES = LocalResources(settings=LocalSettings())


@pytest.mark.parametrize("spec", MANIFEST.functions, ids=lambda spec: spec.id)
def test_every_handler_is_a_function_of_its_module(
    spec: FunctionSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in spec.environment.items():
        monkeypatch.setenv(key, RESOURCES.resolve(value))
    module_name, attribute = spec.handler.rsplit(".", 1)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_every_slot_of_a_definition_has_exactly_one_substitution(spec: StateMachineSpec) -> None:
    assert spec.slots() == set(spec.substitutions)


def all_refs() -> list[Ref]:
    refs = [value for spec in MANIFEST.functions for value in spec.environment.values()]
    refs += [ref for spec in MANIFEST.state_machines for ref in spec.substitutions.values()]
    refs += [value for spec in MANIFEST.jobs for value in spec.environment.values()]
    refs += [target for rule in MANIFEST.rules for target in rule.targets]
    return [ref for ref in refs if isinstance(ref, Ref)]


@pytest.mark.parametrize("ref", all_refs(), ids=lambda ref: f"{ref.kind}:{ref.target}")
def test_every_ref_names_something_the_manifest_declares(ref: Ref) -> None:
    declared = {
        RefKind.FUNCTION_ARN: {spec.id for spec in MANIFEST.functions},
        RefKind.STATE_MACHINE_ARN: {spec.id for spec in MANIFEST.state_machines},
        RefKind.TABLE_NAME: {spec.id for spec in MANIFEST.tables},
        RefKind.BUCKET_NAME: {spec.id for spec in MANIFEST.buckets},
        RefKind.ROLE_ARN: {spec.id for spec in MANIFEST.roles},
        RefKind.LOG_GROUP_ARN: {spec.id for spec in MANIFEST.log_groups},
        RefKind.SETTING: {spec.name for spec in MANIFEST.settings},
        RefKind.EVENT_BUS_NAME: {"EventBus"},
        RefKind.JOB_QUEUE_ARN: {spec.id for spec in MANIFEST.jobs},
        RefKind.JOB_DEFINITION_ARN: {spec.id for spec in MANIFEST.jobs},
        RefKind.POLICY_ARN: {spec.id for spec in MANIFEST.managed_policies},
        RefKind.RESOURCE_NAME: {spec.id for spec in MANIFEST.name_prefixes},
    }
    assert ref.target in declared[ref.kind]


def test_local_definitions_have_no_slot_left() -> None:
    for spec in MANIFEST.state_machines:
        assert "${" not in RESOURCES.definition(spec.id)


def test_every_setting_has_a_local_value() -> None:
    assert {spec.name for spec in MANIFEST.settings} == set(LocalSettings().setting_values())


def test_a_handler_under_containers_runs_in_the_image_it_names() -> None:
    with pytest.raises(ValueError, match="a handler under containers/ runs in an image"):
        FunctionSpec(
            id="Stray", handler="containers.evaluator.lambda_handler.handler", description="x"
        )
    evaluator = MANIFEST.function("EvaluateShard")
    assert evaluator.image == MANIFEST.job("Evaluator").dockerfile
    assert all(spec.image is None for spec in MANIFEST.functions if spec is not evaluator)
