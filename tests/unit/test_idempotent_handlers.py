"""Handlers that create things answer a repeated invocation once (Powertools Idempotency).

Step Functions retries a task whose invocation failed in transit although it may have done
its work; the retry must get the first answer, not a second version or model package.
"""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.records import table_arguments
from maas.exceptions import ValidationError
from maas.registry import ModelRegistry
from schemas import DeploymentRequest
from schemas.packaging import MANIFEST_FILE
from tests.factories import (
    ARTIFACTS_BUCKET,
    deployment_request,
    lambda_context,
    package_manifest,
    packaging_request,
)

if TYPE_CHECKING:
    from types import ModuleType

MODELS, IDEMPOTENCY = "models", "idempotency"
EXECUTIONS = "arn:aws:states:us-east-1:123456789012:execution:package"


@pytest.fixture
def tables(aws: None, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    """The models and idempotency tables, and the environment the handlers read."""
    dynamodb = boto3.client("dynamodb")
    for table in (MODELS, IDEMPOTENCY):
        dynamodb.create_table(**table_arguments(table))
    boto3.client("s3").create_bucket(Bucket=ARTIFACTS_BUCKET)
    for key, value in {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "MODELS_TABLE_NAME": MODELS,
        "ARTIFACTS_BUCKET_NAME": ARTIFACTS_BUCKET,
        "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY,
    }.items():
        monkeypatch.setenv(key, value)
    return ModelRegistry(MODELS, dynamodb)


def load(module: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import the handler module afresh (its cold start) as the function ``module``."""
    monkeypatch.setenv("TENANT_ROLE_ARN", "arn:aws:iam::123456789012:role/step-tenant-role")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", module)
    return importlib.reload(importlib.import_module(f"functions.{module}"))


def open_version(correlation_id: str, **request: Any) -> dict[str, Any]:
    return {
        "request": packaging_request(**request),
        "correlation_id": correlation_id,
        "execution_arn": f"{EXECUTIONS}:{correlation_id}",
    }


def idempotency_records() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY)["Items"]
    return items


def test_a_repeated_open_gets_the_first_answer_without_opening_again(
    tables: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("plan_packaging", monkeypatch).handler
    first = handler(open_version("run-1"), lambda_context())
    # Were the handler run again, it would open version 2: the registry lost version 1.
    boto3.client("dynamodb").delete_item(
        TableName=MODELS,
        Key={"pk": {"S": "TENANT#acme"}, "sk": {"S": "MODEL#smollm2#VERSION#0000000001"}},
    )

    again = handler(open_version("run-1"), lambda_context())

    assert again == first
    assert first["version"] == 1
    assert tables.list_versions("acme", "smollm2") == []
    [kept] = idempotency_records()
    assert kept["pk"]["S"] == "idempotency#plan_packaging"
    assert kept["status"]["S"] == "COMPLETED"
    assert int(kept["expiration"]["N"]) > time.time() + 3600


def test_another_execution_opens_its_own_version(
    tables: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("plan_packaging", monkeypatch).handler
    first = handler(open_version("run-1"), lambda_context())
    second = handler(open_version("run-2"), lambda_context())

    assert (first["version"], second["version"]) == (1, 2)
    assert len(idempotency_records()) == 2


def test_a_rejected_request_stays_a_validation_error_and_is_not_remembered(
    tables: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load("plan_packaging", monkeypatch).handler
    bad = open_version("run-1", tenant_id="Not A Tenant")

    for _ in range(2):
        with pytest.raises(ValidationError, match="tenant_id") as raised:
            handler(bad, lambda_context())
        assert type(raised.value).__name__ == "Maas.ValidationError"

    assert idempotency_records() == []
    assert tables.list_versions("acme", "smollm2") == []


def test_a_repeated_registration_gets_the_first_record_and_one_package(
    tables: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load("plan_packaging", monkeypatch).handler(open_version("run-1"), lambda_context())
    opened = tables.get("acme", "smollm2", 1)
    boto3.client("s3").put_object(
        Bucket=ARTIFACTS_BUCKET,
        Key=f"acme/smollm2/1/{MANIFEST_FILE}",
        Body=package_manifest(opened).model_dump_json(),
    )
    handler = load("register_model_version", monkeypatch).handler

    first = handler({"plan": plan}, lambda_context())
    # Run again, the handler would find the version REGISTERED (immutable): Maas.Conflict.
    again = handler({"plan": plan}, lambda_context())

    assert again == first
    assert first["status"] == "REGISTERED"
    packages = boto3.client("sagemaker").list_model_packages(
        ModelPackageGroupName=first["model_package_arn"].split("/")[-2]
    )["ModelPackageSummaryList"]
    assert len(packages) == 1


def test_a_repeated_announcement_puts_the_event_on_the_bus_once(
    tables: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="maas")
    queue = sqs.create_queue(QueueName="heard")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    events.put_rule(Name="all", EventBusName="maas", EventPattern='{"source": ["maas"]}')
    events.put_targets(
        Rule="all",
        EventBusName="maas",
        Targets=[{"Id": "queue", "Arn": queue_arn["Attributes"]["QueueArn"]}],
    )
    monkeypatch.setenv("EVENT_BUS_NAME", "maas")
    handler = load("publish_event", monkeypatch).handler
    announcement = {
        "detail_type": "EndpointDeploymentFailed",
        "detail": {
            "tenant_id": "acme",
            "correlation_id": "deploy-1",
            "endpoint_name": "chat",
            "error": "Maas.EndpointFailed",
            "cause": "no capacity",
        },
    }

    first = handler(announcement, lambda_context())
    # The step is retried: its first invocation published, then timed out.
    again = handler(announcement, lambda_context())

    assert again == first
    heard = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(heard) == 1


def test_a_repeated_teardown_plan_gets_the_first_plan(
    tables: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments("endpoints"))
    registry = EndpointRegistry("endpoints", dynamodb)
    deployment = plan_deployment(
        DeploymentRequest.model_validate(deployment_request()),
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    registry.begin_deployment(deployment)
    registry.mark_in_service("acme", "chat", correlation_id="deploy-1", endpoint_arn="arn:x")
    for key, value in {
        "ENDPOINTS_TABLE_NAME": "endpoints",
        "ENDPOINT_POLL_SECONDS": "1",
        "ENDPOINT_MAX_STATUS_CHECKS": "5",
    }.items():
        monkeypatch.setenv(key, value)
    handler = load("plan_teardown", monkeypatch).handler
    event = {"request": {"tenant_id": "acme", "endpoint_name": "chat"}, "correlation_id": "down-1"}

    first = handler(event, lambda_context())
    again = handler(event, lambda_context())

    assert again == first
    record = registry.get("acme", "chat")
    assert (record.status.value, record.correlation_id) == ("DELETING", "down-1")
