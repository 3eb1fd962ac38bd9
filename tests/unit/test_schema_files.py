"""The JSON Schema files under schemas/json are the models' own, and say what the models say."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from schemas import EVENT_DETAIL_MODELS, DeploymentRequest
from schemas.export import JSON_SCHEMA_DIR, check, json_schemas, main, write

if TYPE_CHECKING:
    from pathlib import Path

VALID_DEPLOYMENT_REQUEST: dict[str, Any] = {
    "tenant_id": "acme",
    "endpoint_name": "glm4-chat-prod",
    "model": {
        "model_id": "THUDM/glm-4-9b-chat",
        "version": "1",
        "image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0",
        "model_data_url": "s3://models/acme/glm4/1/",
    },
    "instance_type": "ml.g5.2xlarge",
    "instance_count": 1,
}


def exported(name: str) -> dict[str, Any]:
    """The schema file ``name`` as committed."""
    document: dict[str, Any] = json.loads((JSON_SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return document


def json_schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """What ``schema`` finds wrong with ``document``, formats included."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [error.message for error in validator.iter_errors(document)]


def pydantic_accepts(model: type[BaseModel], document: dict[str, Any]) -> bool:
    try:
        model.model_validate(document)
    except ValidationError:
        return False
    return True


def deployment_request(**changes: Any) -> dict[str, Any]:
    """The valid request with top-level fields replaced."""
    return {**copy.deepcopy(VALID_DEPLOYMENT_REQUEST), **changes}


# Drift


def test_committed_schema_files_match_the_models() -> None:
    assert check() == [], "run `make schemas` and commit schemas/json"


def test_check_reports_a_changed_a_missing_and_an_unexpected_file(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "endpoint-record.schema.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "teardown-request.schema.json").unlink()
    (tmp_path / "event.EndpointRetired.schema.json").write_text("{}\n", encoding="utf-8")

    assert check(tmp_path) == [
        "endpoint-record.schema.json: differs from its model",
        "event.EndpointRetired.schema.json: produced by no model",
        "teardown-request.schema.json: missing",
    ]


def test_check_command_exits_non_zero_and_names_the_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path)
    (tmp_path / "endpoint-record.schema.json").write_text("{}\n", encoding="utf-8")

    assert main(["--check", "--directory", str(tmp_path)]) == 1
    assert "endpoint-record.schema.json: differs from its model" in capsys.readouterr().err


def test_writing_again_changes_nothing_and_removes_files_of_no_model(tmp_path: Path) -> None:
    write(tmp_path)
    stale = tmp_path / "event.EndpointRetired.schema.json"
    stale.write_text("{}\n", encoding="utf-8")

    assert write(tmp_path) == [stale]
    assert write(tmp_path) == []
    assert check(tmp_path) == []


def test_every_event_detail_type_has_a_schema_file() -> None:
    assert {f"event.{detail_type}.schema.json" for detail_type in EVENT_DETAIL_MODELS} <= {
        path.name for path in JSON_SCHEMA_DIR.iterdir()
    }


# What each file declares


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_schema_file_is_a_valid_draft_2020_12_schema_with_a_stable_id(name: str) -> None:
    schema = exported(name)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:maas:schema:{name.removesuffix('.schema.json')}"
    assert schema["title"]


@pytest.mark.parametrize("detail_type", sorted(EVENT_DETAIL_MODELS))
def test_every_event_detail_schema_requires_tenant_and_correlation_id(detail_type: str) -> None:
    schema = exported(f"event.{detail_type}.schema.json")

    assert {"tenant_id", "correlation_id"} <= set(schema["required"])


# The schemas agree with pydantic


def test_a_valid_deployment_request_validates() -> None:
    schema = exported("deployment-request.schema.json")

    assert json_schema_errors(schema, VALID_DEPLOYMENT_REQUEST) == []
    assert pydantic_accepts(DeploymentRequest, VALID_DEPLOYMENT_REQUEST)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(deployment_request(endpoint_name="-glm4"), id="leading-hyphen-in-name"),
        pytest.param(deployment_request(endpoint_name="e" * 64), id="name-of-64-characters"),
        pytest.param(deployment_request(instance_count=0), id="instance-count-of-zero"),
        pytest.param(deployment_request(instance_typo="ml.g5.2xlarge"), id="unknown-field"),
        pytest.param(
            {k: v for k, v in VALID_DEPLOYMENT_REQUEST.items() if k != "model"},
            id="missing-model",
        ),
    ],
)
def test_deployment_request_rejected_by_pydantic_is_rejected_by_its_json_schema(
    document: dict[str, Any],
) -> None:
    schema = exported("deployment-request.schema.json")

    assert not pydantic_accepts(DeploymentRequest, document)
    assert json_schema_errors(schema, document) != []


def test_endpoint_name_of_63_characters_is_accepted_by_both() -> None:
    document = deployment_request(endpoint_name="e" * 63)

    assert json_schema_errors(exported("deployment-request.schema.json"), document) == []
    assert pydantic_accepts(DeploymentRequest, document)


def test_an_event_detail_as_published_validates_against_its_schema() -> None:
    detail = EVENT_DETAIL_MODELS["EndpointInService"].model_validate(
        {
            "tenant_id": "acme",
            "correlation_id": "deploy-7f3c2a9e",
            "endpoint_name": "glm4-chat-prod",
            "endpoint_arn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/glm4-chat-prod",
            "model_id": "THUDM/glm-4-9b-chat",
            "model_version": "1",
            "model_name": "glm4-chat-prod-model",
            "endpoint_config_name": "glm4-chat-prod-config",
            "instance_type": "ml.g5.2xlarge",
            "instance_count": 1,
        }
    )
    published = json.loads(detail.model_dump_json())

    assert json_schema_errors(exported("event.EndpointInService.schema.json"), published) == []
