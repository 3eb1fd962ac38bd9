"""The deployed state machines are built from their sources, each shared thing written once."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from maas.manifest import MANIFEST
from maas.workflow_build import (
    DEFINITIONS,
    SHARED_FILE,
    SOURCES,
    Shared,
    SourceError,
    build_all,
    main,
    write_definitions,
)

if TYPE_CHECKING:
    from pathlib import Path

SHARED: dict[str, Any] = {
    "retry": {"lambda": {"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 3}},
    "credentials": {"tenant": {"RoleArn.$": "$tenantRole"}},
    "states": {
        "act": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${ActFunctionArn}"},
            "Retry": ["lambda"],
            "ResultPath": None,
        }
    },
}


def _sources(tmp_path: Path, **machines: Any) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / SHARED_FILE).write_text(yaml.safe_dump(SHARED))
    for name, source in machines.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(source))
    return tmp_path


def test_the_deployed_definitions_are_what_their_sources_build() -> None:
    """`make workflows` was run after the last change to a source (or to shared.yaml)."""
    assert main(["--check"]) == 0


def test_every_state_machine_of_the_manifest_has_a_source() -> None:
    sources = {path.stem for path in SOURCES.glob("*.yaml")} - {"shared"}
    assert {spec.definition_path.stem for spec in MANIFEST.state_machines} <= sources
    assert {path.stem for path in DEFINITIONS.glob("*.json")} <= sources


def test_no_retry_policy_is_written_twice() -> None:
    shared = Shared.load(SOURCES / SHARED_FILE)
    written = [json.dumps(policy, sort_keys=True) for policy in shared.retry.values()]
    assert len(written) == len(set(written))
    for path in SOURCES.glob("*.yaml"):
        assert '"BackoffRate"' not in path.read_text() or path.name == SHARED_FILE, path.name


def test_names_are_replaced_by_what_they_name(tmp_path: Path) -> None:
    source = {
        "StartAt": "Act",
        "States": {
            "Act": {"$use": "act", "Next": "Delete"},
            "Delete": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:deleteEndpoint",
                "Credentials": "tenant",
                "Parameters": {"EndpointName": "chat"},
                "Retry": ["lambda"],
                "End": True,
            },
        },
    }

    built = json.loads(build_all(_sources(tmp_path, machine=source))["machine.json"])

    act, delete = built["States"]["Act"], built["States"]["Delete"]
    shared_act = dict(SHARED["states"]["act"])
    assert act == {**shared_act, "Retry": [SHARED["retry"]["lambda"]], "Next": "Delete"}
    assert delete["Credentials"] == {"RoleArn.$": "$tenantRole"}
    assert delete["Retry"] == [SHARED["retry"]["lambda"]]


def test_names_inside_parallel_branches_and_maps_are_replaced(tmp_path: Path) -> None:
    inner = {"Type": "Pass", "Retry": ["lambda"], "End": True}
    source = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "In", "States": {"In": inner}}],
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Item", "States": {"Item": dict(inner)}},
                "End": True,
            },
        },
    }

    built = json.loads(build_all(_sources(tmp_path, machine=source))["machine.json"])

    [branch] = built["States"]["Both"]["Branches"]
    assert branch["States"]["In"]["Retry"] == [SHARED["retry"]["lambda"]]
    assert built["States"]["Each"]["ItemProcessor"]["States"]["Item"]["Retry"] == [
        SHARED["retry"]["lambda"]
    ]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"Type": "Pass", "Retry": ["lamda"], "End": True}, "no shared retry policy 'lamda'"),
        (
            {"Type": "Pass", "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": True},
            "a retry policy is named, and written once in shared.yaml",
        ),
        ({"Type": "Pass", "Credentials": "admin", "End": True}, "no shared credentials 'admin'"),
        ({"$use": "nothing", "End": True}, "no shared state 'nothing'"),
    ],
)
def test_what_shared_yaml_does_not_hold_is_refused_naming_file_and_state(
    tmp_path: Path, state: dict[str, Any], message: str
) -> None:
    source = {"StartAt": "Go", "States": {"Go": state}}

    with pytest.raises(SourceError, match=re.escape(f"machine.yaml: state 'Go': {message}")):
        build_all(_sources(tmp_path, machine=source))


def test_a_source_that_builds_an_invalid_machine_is_refused(tmp_path: Path) -> None:
    source = {"StartAt": "Go", "States": {"Go": {"Type": "Pass", "Next": "Nowhere"}}}

    with pytest.raises(
        SourceError, match=re.escape('machine.yaml: state "Go": Next "Nowhere" names no')
    ):
        build_all(_sources(tmp_path, machine=source))


def test_a_stale_definition_is_reported_and_then_rewritten(tmp_path: Path) -> None:
    sources = _sources(
        tmp_path / "sources",
        machine={"StartAt": "Go", "States": {"Go": {"Type": "Succeed"}}},
    )
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    (definitions / "machine.json").write_text("{}\n")

    assert write_definitions(sources, definitions, check=True) == ["machine.json"]
    assert (definitions / "machine.json").read_text() == "{}\n"
    assert write_definitions(sources, definitions) == ["machine.json"]
    assert write_definitions(sources, definitions, check=True) == []
