"""Handlers parse their task input, call maas and return plain JSON; bad input is typed."""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.exceptions import Conflict, ValidationError
from tests.factories import ARTIFACTS_BUCKET, deployment_request, lambda_context

if TYPE_CHECKING:
    from types import ModuleType

CONTEXT = lambda_context()


def load(module: str, monkeypatch: pytest.MonkeyPatch, **environment: str) -> ModuleType:
    """Import the handler module afresh under ``environment``: its cold start."""
    monkeypatch.setenv("TENANT_ROLE_ARN", "arn:aws:iam::123456789012:role/step-tenant-role")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    return importlib.reload(importlib.import_module(f"functions.{module}"))


def create_table() -> str:
    dynamodb = boto3.client("dynamodb")
    if "endpoints" not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(**table_arguments("endpoints"))
    return "endpoints"


POLLING = {
    "ENDPOINT_POLL_SECONDS": "1",
    "ENDPOINT_MAX_STATUS_CHECKS": "5",
    "ARTIFACTS_BUCKET_NAME": ARTIFACTS_BUCKET,
    "MODELS_TABLE_NAME": "models",
    "ENDPOINTS_TABLE_NAME": "endpoints",
    "TENANT_MAX_ENDPOINTS": "10",
    "TENANT_MAX_INSTANCES": "20",
}


def plan(monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> dict[str, Any]:
    create_table()  # the tenant's endpoints, counted against its quotas
    handler = load("plan_deployment", monkeypatch, **POLLING).handler
    event = {"request": deployment_request(**overrides), "correlation_id": "deploy-1"}
    result: dict[str, Any] = handler(event, CONTEXT)
    return result


def test_plan_deployment_returns_a_json_plan(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    result = plan(monkeypatch)
    assert result["sagemaker_endpoint_name"] == "acme-chat-c7bee5eb"
    assert result["model_name"] == "acme-chat-c7bee5eb-244cf825"
    assert result["polling"] == {"interval_seconds": 1, "max_attempts": 5, "attempt": 0}
    assert json.loads(json.dumps(result)) == result


def test_plan_deployment_names_the_bad_field(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match=r"^endpoint_name: String should match pattern"):
        plan(monkeypatch, endpoint_name="chat_prod")


def test_model_data_outside_the_tenants_prefix_is_refused(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = deployment_request()["model"] | {
        "model_data_url": f"s3://{ARTIFACTS_BUCKET}/globex/their-model/1/"
    }
    with pytest.raises(ValidationError, match=r"^model\.model_data_url: must be under s3://"):
        plan(monkeypatch, model=model)


def test_a_task_input_with_a_missing_key_is_a_validation_error(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("plan_deployment", monkeypatch, **POLLING).handler
    with pytest.raises(ValidationError, match="correlation_id: Field required"):
        handler({"request": deployment_request()}, CONTEXT)


def test_a_bad_setting_fails_the_cold_start_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        ValidationError, match=r"ENDPOINT_POLL_SECONDS: expected a positive integer"
    ):
        load("plan_deployment", monkeypatch, **(POLLING | {"ENDPOINT_POLL_SECONDS": "soon"}))


def test_record_endpoint_status_applies_transitions_in_order(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = load(
        "record_endpoint_status", monkeypatch, **POLLING | {"ENDPOINTS_TABLE_NAME": create_table()}
    )
    deployment = plan(monkeypatch)
    created = record.handler({"transition": "begin_deployment", "plan": deployment}, CONTEXT)
    assert created["status"] == "CREATING"
    in_service = record.handler(
        {
            "transition": "mark_in_service",
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "correlation_id": "deploy-1",
            "endpoint_arn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat",
        },
        CONTEXT,
    )
    assert in_service["status"] == "IN_SERVICE"
    with pytest.raises(Conflict):
        record.handler({"transition": "begin_deployment", "plan": deployment}, CONTEXT)


def test_a_failure_record_keeps_the_lambda_error_message_not_its_json(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = load(
        "record_endpoint_status", monkeypatch, **POLLING | {"ENDPOINTS_TABLE_NAME": create_table()}
    )
    record.handler({"transition": "begin_deployment", "plan": plan(monkeypatch)}, CONTEXT)
    failed = record.handler(
        {
            "transition": "mark_failed",
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "correlation_id": "deploy-1",
            "error": "Maas.Conflict",
            "cause": json.dumps({"errorMessage": "it broke", "errorType": "Maas.Conflict"}),
        },
        CONTEXT,
    )
    assert failed["status"] == "FAILED"
    assert failed["failure_reason"] == "Maas.Conflict: it broke"


def test_an_unknown_transition_is_a_validation_error(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = load(
        "record_endpoint_status", monkeypatch, **POLLING | {"ENDPOINTS_TABLE_NAME": create_table()}
    )
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        record.handler({"transition": "resurrect", "tenant_id": "acme"}, CONTEXT)


def test_publish_event_returns_the_event_id(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("events").create_event_bus(Name="maas")
    boto3.client("dynamodb").create_table(**table_arguments("idempotency"))
    publish = load(
        "publish_event", monkeypatch, EVENT_BUS_NAME="maas", IDEMPOTENCY_TABLE_NAME="idempotency"
    )
    result = publish.handler(
        {
            "detail_type": "EndpointDeploymentFailed",
            "detail": {
                "tenant_id": "acme",
                "correlation_id": "deploy-1",
                "endpoint_name": "chat",
                "error": "Maas.EndpointFailed",
                "cause": "no capacity",
            },
        },
        CONTEXT,
    )
    assert set(result) == {"event_id"}
