"""Event schemas as draft 4 (what the EventBridge Schema Registry takes) say what 2020-12 says."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from schemas.draft4 import DRAFT4_DIALECT, to_draft4
from schemas.export import json_schemas

EVENT_SCHEMAS = {
    name: schema for name, schema in json_schemas().items() if name.startswith("event.")
}

#: One valid detail per case, and the schema it belongs to.
VALID_DETAILS: dict[str, dict[str, Any]] = {
    "event.EndpointInService.schema.json": {
        "tenant_id": "acme",
        "correlation_id": "r-1-deploy",
        "endpoint_name": "chat",
        "endpoint_arn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/chat",
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "model_version": "1",
        "model_name": "chat-346232e8",
        "endpoint_config_name": "chat-346232e8",
        "instance_type": "ml.g5.xlarge",
        "instance_count": 1,
    },
    "event.LifecycleFailed.schema.json": {
        "tenant_id": "acme",
        "correlation_id": "r-1",
        "stage": "deploy",
        "error": "States.TaskFailed",
        "cause": "Maas.ValidationError: instance_count: out of bounds",
    },
    "event.LifecycleRequested.schema.json": {
        "tenant_id": "acme",
        "request_id": "r-1",
        "package": {"source": {"kind": "local", "path": "/models/m.gguf"}},
        "deployment": {
            "endpoint_name": "chat",
            "autoscaling": {"min_capacity": 1, "max_capacity": 2, "target_concurrent_requests": 4},
        },
        "keep_endpoint": True,
    },
}


@pytest.mark.parametrize("name", sorted(EVENT_SCHEMAS))
def test_every_event_schema_is_a_valid_draft4_schema(name: str) -> None:
    converted = to_draft4(EVENT_SCHEMAS[name])
    assert converted["$schema"] == DRAFT4_DIALECT
    Draft4Validator.check_schema(converted)
    assert "$defs" not in str(converted)


@pytest.mark.parametrize("name", sorted(EVENT_SCHEMAS))
def test_a_detail_without_its_tenant_is_refused_by_both_drafts(name: str) -> None:
    schema = EVENT_SCHEMAS[name]
    assert not Draft202012Validator(schema).is_valid({"correlation_id": "r-1"})
    assert not Draft4Validator(to_draft4(schema)).is_valid({"correlation_id": "r-1"})


@pytest.mark.parametrize("name", sorted(VALID_DETAILS))
def test_a_valid_detail_is_valid_under_both_drafts(name: str) -> None:
    schema, detail = EVENT_SCHEMAS[name], VALID_DETAILS[name]
    assert Draft202012Validator(schema).is_valid(detail)
    assert Draft4Validator(to_draft4(schema)).is_valid(detail)


def test_a_const_and_an_exclusive_bound_keep_their_meaning() -> None:
    schema = to_draft4(EVENT_SCHEMAS["event.LifecycleRequested.schema.json"])
    detail = VALID_DETAILS["event.LifecycleRequested.schema.json"]
    wrong_kind = {**detail, "package": {"source": {"kind": "ftp", "path": "/m"}}}
    no_target = {
        **detail,
        "deployment": {
            "endpoint_name": "chat",
            "autoscaling": {"min_capacity": 1, "max_capacity": 2, "target_concurrent_requests": 0},
        },
    }
    validator = Draft4Validator(schema)
    assert not validator.is_valid(wrong_kind)
    assert not validator.is_valid(no_target)
