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


def test_a_state_gets_the_variant_of_its_query_language(tmp_path: Path) -> None:
    """Shared credentials and states written per language: a JSONata machine's states read
    ``$tenantRole`` through an expression, a JSONPath machine's through ``RoleArn.$``."""
    (tmp_path / SHARED_FILE).write_text(
        yaml.safe_dump(
            {
                "credentials": {
                    "tenant": {
                        "JSONPath": {"RoleArn.$": "$tenantRole"},
                        "JSONata": {"RoleArn": "{% $tenantRole %}"},
                    }
                },
                "states": {"done": {"JSONata": {"Type": "Succeed"}}},
            }
        )
    )
    delete = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:sagemaker:deleteEndpoint",
        "Credentials": "tenant",
        "Next": "Done",
    }
    for name, language in (("old", None), ("new", "JSONata")):
        source: dict[str, Any] = {"StartAt": "Delete", "States": {"Delete": dict(delete)}}
        if language:
            source["QueryLanguage"] = language
            source["States"]["Done"] = {"$use": "done"}
        else:
            source["States"]["Done"] = {"Type": "Succeed"}
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(source))

    built = {name: json.loads(text) for name, text in build_all(tmp_path).items()}

    assert built["old.json"]["States"]["Delete"]["Credentials"] == {"RoleArn.$": "$tenantRole"}
    assert built["new.json"]["States"]["Delete"]["Credentials"] == {"RoleArn": "{% $tenantRole %}"}
    assert built["new.json"]["States"]["Done"] == {"Type": "Succeed"}


def test_a_shared_state_without_the_machines_language_is_refused(tmp_path: Path) -> None:
    (tmp_path / SHARED_FILE).write_text(
        yaml.safe_dump({"states": {"done": {"JSONata": {"Type": "Succeed"}}}})
    )
    source = {"StartAt": "Done", "States": {"Done": {"$use": "done"}}}
    (tmp_path / "machine.yaml").write_text(yaml.safe_dump(source))

    with pytest.raises(SourceError, match="shared state 'done' has no JSONPath variant"):
        build_all(tmp_path)


def test_a_named_catcher_is_placed_with_the_fields_the_state_adds(tmp_path: Path) -> None:
    catcher = {
        "ErrorEquals": ["States.ALL"],
        "Assign": {"error": "{% $states.errorOutput %}"},
        "Next": "Failed",
    }
    (tmp_path / SHARED_FILE).write_text(
        yaml.safe_dump({"catch": {"any-error": {"JSONata": catcher}}})
    )
    source = {
        "QueryLanguage": "JSONata",
        "StartAt": "Go",
        "States": {
            "Go": {
                "Type": "Pass",
                "Next": "Done",
                "Catch": [
                    {"$use": "any-error", "ErrorEquals": ["Maas.Conflict"], "Next": "Done"},
                    {"ErrorEquals": ["Maas.NotFound"], "Next": "Done"},
                    "any-error",
                ],
            },
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail", "Error": "Maas.Failed"},
        },
    }
    (tmp_path / "machine.yaml").write_text(yaml.safe_dump(source))

    built = json.loads(build_all(tmp_path)["machine.json"])

    assert built["States"]["Go"]["Catch"] == [
        {**catcher, "ErrorEquals": ["Maas.Conflict"], "Next": "Done"},
        {"ErrorEquals": ["Maas.NotFound"], "Next": "Done"},
        catcher,
    ]


def test_an_unknown_catcher_is_refused(tmp_path: Path) -> None:
    source = {
        "StartAt": "Go",
        "States": {"Go": {"Type": "Pass", "Catch": ["anything"], "End": True}},
    }

    with pytest.raises(SourceError, match="state 'Go': no shared catcher 'anything'"):
        build_all(_sources(tmp_path, machine=source))


def test_a_state_merges_its_own_fields_into_the_shared_ones_as_deep_as_they_go(
    tmp_path: Path,
) -> None:
    """A state names only what is its own: its payload fields join the shared ones, its own
    values replace the shared ones, and a shared state may extend another."""
    (tmp_path / SHARED_FILE).write_text(
        yaml.safe_dump(
            {
                "retry": SHARED["retry"],
                "states": {
                    "announce": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Arguments": {"FunctionName": "${PublishEventFunctionArn}"},
                        "Retry": ["lambda"],
                    },
                    "announce-endpoint-event": {
                        "$use": "announce",
                        "Arguments": {
                            "Payload": {"detail": {"tenant_id": "{% $plan.tenant_id %}"}}
                        },
                    },
                },
            }
        )
    )
    source = {
        "QueryLanguage": "JSONata",
        "StartAt": "Announce",
        "States": {
            "Announce": {
                "$use": "announce-endpoint-event",
                "Arguments": {
                    "Payload": {"detail_type": "EndpointStopped", "detail": {"status": "STOPPED"}}
                },
                "Retry": [],
                "End": True,
            }
        },
    }
    (tmp_path / "machine.yaml").write_text(yaml.safe_dump(source))

    built = json.loads(build_all(tmp_path)["machine.json"])

    assert built["States"]["Announce"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {
            "FunctionName": "${PublishEventFunctionArn}",
            "Payload": {
                "detail": {"tenant_id": "{% $plan.tenant_id %}", "status": "STOPPED"},
                "detail_type": "EndpointStopped",
            },
        },
        "Retry": [],
        "End": True,
    }
    assert list(built["States"]["Announce"]) == ["Type", "Resource", "Arguments", "Retry", "End"]


def test_a_shared_state_that_uses_itself_is_refused(tmp_path: Path) -> None:
    (tmp_path / SHARED_FILE).write_text(
        yaml.safe_dump({"states": {"a": {"$use": "b"}, "b": {"$use": "a"}}})
    )
    source = {"StartAt": "Go", "States": {"Go": {"$use": "a", "End": True}}}
    (tmp_path / "machine.yaml").write_text(yaml.safe_dump(source))

    with pytest.raises(SourceError, match="state 'Go': shared state 'a' uses itself"):
        build_all(tmp_path)


def test_a_catcher_without_next_goes_on_to_the_states_next(tmp_path: Path) -> None:
    (tmp_path / SHARED_FILE).write_text(
        yaml.safe_dump({"catch": {"carry-on": {"ErrorEquals": ["States.ALL"]}}})
    )
    go = {"Type": "Pass", "Next": "Done", "Catch": ["carry-on"]}
    source = {"StartAt": "Go", "States": {"Go": go, "Done": {"Type": "Succeed"}}}
    (tmp_path / "machine.yaml").write_text(yaml.safe_dump(source))

    built = json.loads(build_all(tmp_path)["machine.json"])

    assert built["States"]["Go"]["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]


def test_a_catcher_without_next_in_a_state_without_one_is_refused(tmp_path: Path) -> None:
    source = {
        "StartAt": "Go",
        "States": {"Go": {"Type": "Pass", "Catch": [{"ErrorEquals": ["States.ALL"]}], "End": True}},
    }

    with pytest.raises(SourceError, match="state 'Go': a catcher without Next"):
        build_all(_sources(tmp_path, machine=source))


def test_every_lambda_step_and_event_is_written_once() -> None:
    """The shape of a call to one of the shared functions (its name, its retries) is in
    shared.yaml, never in a workflow's source."""
    shared = (SOURCES / SHARED_FILE).read_text()
    for function in ("PublishEventFunctionArn", "RecordEndpointStatusFunctionArn"):
        assert shared.count(function) == 1, function
        for path in SOURCES.glob("*.yaml"):
            assert path.name == SHARED_FILE or function not in path.read_text(), path.name
