"""The inbound handlers read AWS's events at the boundary and touch only what they concern."""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.exceptions import ValidationError
from maas.workflows import execution_name
from schemas.api import Workflow
from schemas.lifecycle import CLIENT_EVENT_SOURCE
from tests.factories import lambda_context, packaging_request

if TYPE_CHECKING:
    from types import ModuleType

CONTEXT = lambda_context()


def load(module: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import the handler module afresh, with its table created and named."""
    boto3.client("dynamodb").create_table(**table_arguments("registry"))
    for key in ("ENDPOINTS_TABLE_NAME", "MODELS_TABLE_NAME"):
        monkeypatch.setenv(key, "registry")
    monkeypatch.setenv("ARTIFACTS_BUCKET_NAME", "artifacts")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    return importlib.reload(importlib.import_module(f"functions.{module}"))


def event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge event as a rule hands it to a function."""
    return {
        "version": "0",
        "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-28T09:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


ENDPOINT = {
    "EndpointName": "chat",
    "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat",
    "EndpointStatus": "IN_SERVICE",
    "CreationTime": 1795855335356.0,
    "LastModifiedTime": 1795855336356.0,
    "Tags": {},
}


def test_an_endpoint_the_platform_did_not_make_is_left_alone(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("endpoint_state_changed", monkeypatch).handler
    answer = handler(event("aws.sagemaker", "SageMaker Endpoint State Change", ENDPOINT), CONTEXT)
    assert answer == {"recorded": False, "status": None}


def test_an_endpoint_event_without_a_record_records_nothing(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("endpoint_state_changed", monkeypatch).handler
    tagged = ENDPOINT | {"Tags": {"maas:tenant": "acme"}}
    answer = handler(event("aws.sagemaker", "SageMaker Endpoint State Change", tagged), CONTEXT)
    assert answer == {"recorded": False, "status": None}


def test_an_endpoint_event_without_its_status_is_a_validation_error(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("endpoint_state_changed", monkeypatch).handler
    broken = {key: value for key, value in ENDPOINT.items() if key != "EndpointStatus"}
    with pytest.raises(ValidationError, match="EndpointStatus"):
        handler(event("aws.sagemaker", "SageMaker Endpoint State Change", broken), CONTEXT)


JOB = {
    "jobName": "package-acme-smollm2-1",
    "jobId": "4c7599ae",
    "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/packager",
    "status": "RUNNABLE",
    "attempts": [],
    "container": {"environment": [{"name": "OTHER", "value": "x"}]},
}


def test_a_job_that_packages_no_version_is_left_alone(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("packaging_job_changed", monkeypatch).handler
    assert handler(event("aws.batch", "Batch Job State Change", JOB), CONTEXT) == {
        "recorded": False
    }


def test_a_job_whose_version_is_not_in_the_registry_records_nothing(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("packaging_job_changed", monkeypatch).handler
    job = {
        "tenant_id": "acme",
        "model_name": "smollm2",
        "version": 1,
        "correlation_id": "run-1",
        "source": {"kind": "local", "path": "/models/m.gguf"},
        "serving": {},
        "artifact_uri": "s3://bucket/acme/smollm2/1/",
    }
    environment = [{"name": "MAAS_PACKAGING_JOB", "value": json.dumps(job)}]
    packaging = JOB | {"container": {"environment": environment}}
    assert handler(event("aws.batch", "Batch Job State Change", packaging), CONTEXT) == {
        "recorded": False
    }


def test_two_tenants_sending_the_same_request_id_both_start_their_lifecycle(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the execution was named after the request id alone: the second was dropped."""
    machine = boto3.client("stepfunctions").create_state_machine(
        name="lifecycle",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/lifecycle",
    )["stateMachineArn"]
    monkeypatch.setenv("LIFECYCLE_STATE_MACHINE_ARN", machine)
    handler = load("start_lifecycle", monkeypatch).handler

    def requested(tenant_id: str) -> dict[str, Any]:
        package = packaging_request(source={"kind": "huggingface", "model_id": "org/model"})
        del package["tenant_id"]
        detail = {
            "tenant_id": tenant_id,
            "request_id": "r-1",
            "package": package,
            "deployment": {"endpoint_name": "chat"},
        }
        return event(CLIENT_EVENT_SOURCE, "LifecycleRequested", detail)

    first = handler(requested("acme"), CONTEXT)
    second = handler(requested("globex"), CONTEXT)
    again = handler(requested("acme"), CONTEXT)

    assert first["started"] and second["started"]
    assert first["execution_arn"] != second["execution_arn"]
    # Step Functions answers a running execution's name and input with that execution.
    assert again["execution_arn"] == first["execution_arn"]
    listed = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert len(listed["executions"]) == 2
    assert first["execution_arn"].endswith(":" + execution_name("acme", Workflow.LIFECYCLE, "r-1"))
