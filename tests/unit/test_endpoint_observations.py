"""SageMaker's state change events keep its word on the record, and never fight a workflow."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.records import table_arguments
from schemas import DeploymentRequest, EndpointStatus
from schemas.aws_events import SageMakerEndpointStateChange
from tests.factories import ARTIFACTS_BUCKET, deployment_request

if TYPE_CHECKING:
    from schemas import EndpointRecord

TABLE = "endpoints"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat"


@pytest.fixture
def registry(aws: None) -> EndpointRegistry:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments(TABLE))
    return EndpointRegistry(TABLE, dynamodb)


def deployed(registry: EndpointRegistry, *, in_service: bool = True) -> EndpointRecord:
    """A record of endpoint ``chat`` deployed by execution ``deploy-1``."""
    plan = plan_deployment(
        DeploymentRequest.model_validate(deployment_request()),
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    record = registry.begin_deployment(plan)
    if in_service:
        record = registry.mark_in_service(
            "acme", "chat", correlation_id="deploy-1", endpoint_arn=ARN
        )
    return record


def change(
    record: EndpointRecord, status: str, *, after_seconds: float, **detail: Any
) -> SageMakerEndpointStateChange:
    """SageMaker's event about the record's endpoint, ``after_seconds`` after the record."""
    created = record.created_at.timestamp() * 1000 + 100
    return SageMakerEndpointStateChange.model_validate(
        {
            "EndpointName": record.sagemaker_endpoint_name,
            "EndpointArn": ARN,
            "EndpointStatus": status,
            "CreationTime": created,
            "LastModifiedTime": created + after_seconds * 1000,
            "Tags": {"maas:tenant": record.tenant_id, "maas:endpoint": record.endpoint_name},
            **detail,
        }
    )


def test_sagemaker_s_word_is_kept_on_a_record_a_workflow_owns(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry, in_service=False)
    registry.observe_sagemaker(
        "acme", change(record, "CREATING", after_seconds=0), correlation_id="e1"
    )
    stored = registry.get("acme", "chat")
    assert stored.status is EndpointStatus.CREATING
    assert stored.correlation_id == "deploy-1"
    assert stored.sagemaker is not None
    assert (stored.sagemaker.status, stored.sagemaker.reason) == ("CREATING", None)
    assert stored.updated_at == record.updated_at


def test_a_failure_reported_while_a_workflow_owns_the_record_only_annotates_it(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry, in_service=False)
    failed = change(record, "FAILED", after_seconds=1, FailureReason="image pull failed")
    registry.observe_sagemaker("acme", failed, correlation_id="e1")
    stored = registry.get("acme", "chat")
    assert stored.status is EndpointStatus.CREATING
    assert stored.sagemaker is not None
    assert (stored.sagemaker.status, stored.sagemaker.reason) == ("FAILED", "image pull failed")


def test_an_endpoint_that_fails_in_service_is_marked_failed_with_the_reason(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry)
    failed = change(record, "FAILED", after_seconds=60, FailureReason="instance retired")
    written = registry.observe_sagemaker("acme", failed, correlation_id="event-7")
    stored = registry.get("acme", "chat")
    assert written == stored
    assert stored.status is EndpointStatus.FAILED
    assert stored.failure_reason == "SageMaker reports the endpoint Failed: instance retired"
    assert stored.correlation_id == "event-7"


def test_an_endpoint_deleted_outside_the_platform_is_marked_failed(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry)
    registry.observe_sagemaker(
        "acme", change(record, "DELETING", after_seconds=60), correlation_id="event-8"
    )
    stored = registry.get("acme", "chat")
    assert stored.status is EndpointStatus.FAILED
    assert stored.failure_reason == (
        "SageMaker is deleting the endpoint (deleted outside the platform)"
    )


def test_an_older_event_never_overwrites_a_newer_one(registry: EndpointRegistry) -> None:
    record = deployed(registry)
    registry.observe_sagemaker(
        "acme", change(record, "IN_SERVICE", after_seconds=2), correlation_id="e2"
    )
    late = registry.observe_sagemaker(
        "acme", change(record, "CREATING", after_seconds=0), correlation_id="e1"
    )
    stored = registry.get("acme", "chat")
    assert late is None
    assert stored.sagemaker is not None
    assert stored.sagemaker.status == "IN_SERVICE"


def test_a_late_failure_of_an_earlier_update_does_not_fail_a_record_sagemaker_since_saw_live(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry)
    registry.observe_sagemaker(
        "acme", change(record, "IN_SERVICE", after_seconds=9), correlation_id="e2"
    )
    failed = change(record, "FAILED", after_seconds=5, FailureReason="old news")
    assert registry.observe_sagemaker("acme", failed, correlation_id="e1") is None
    assert registry.get("acme", "chat").status is EndpointStatus.IN_SERVICE


def test_a_repeated_event_changes_nothing(registry: EndpointRegistry) -> None:
    record = deployed(registry)
    failed = change(record, "FAILED", after_seconds=60, FailureReason="instance retired")
    assert registry.observe_sagemaker("acme", failed, correlation_id="event-7") is not None
    assert registry.observe_sagemaker("acme", failed, correlation_id="event-7") is None
    assert registry.get("acme", "chat").correlation_id == "event-7"


def test_a_workflow_transition_keeps_sagemaker_s_newer_word(
    registry: EndpointRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = deployed(registry, in_service=False)
    # The deployment reads the record, SageMaker's event is kept, then the deployment writes.
    read_before_the_event = registry.get("acme", "chat")
    registry.observe_sagemaker(
        "acme", change(record, "IN_SERVICE", after_seconds=1), correlation_id="e2"
    )
    with monkeypatch.context() as patch:
        patch.setattr(registry, "get", lambda *_: read_before_the_event)
        registry.mark_in_service("acme", "chat", correlation_id="deploy-1", endpoint_arn=ARN)
    stored = registry.get("acme", "chat")
    assert stored.status is EndpointStatus.IN_SERVICE
    assert stored.sagemaker is not None
    assert stored.sagemaker.status == "IN_SERVICE"


def test_a_new_deployment_forgets_what_sagemaker_said_about_the_previous_endpoint(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry, in_service=False)
    failed = change(record, "FAILED", after_seconds=1, FailureReason="image pull failed")
    registry.observe_sagemaker("acme", failed, correlation_id="e1")
    registry.mark_failed("acme", "chat", correlation_id="deploy-1", reason="Maas.EndpointFailed")
    plan = plan_deployment(
        DeploymentRequest.model_validate(deployment_request()),
        correlation_id="deploy-2",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    registry.begin_deployment(plan)
    assert registry.get("acme", "chat").sagemaker is None


def test_an_event_about_an_earlier_endpoint_of_that_name_is_ignored(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry)
    earlier = change(record, "FAILED", after_seconds=3600, FailureReason="old endpoint")
    earlier = earlier.model_copy(
        update={"creation_time": (record.created_at - timedelta(hours=2)).timestamp() * 1000}
    )
    assert registry.observe_sagemaker("acme", earlier, correlation_id="e1") is None
    assert registry.get("acme", "chat").status is EndpointStatus.IN_SERVICE


def test_an_event_about_an_endpoint_without_a_record_changes_nothing(
    registry: EndpointRegistry,
) -> None:
    record = deployed(registry)
    other = change(record, "FAILED", after_seconds=1).model_copy(update={"endpoint_name": "x"})
    assert registry.observe_sagemaker("acme", other, correlation_id="e1") is None
    assert (
        registry.observe_sagemaker(
            "globex", change(record, "FAILED", after_seconds=1), correlation_id="e1"
        )
        is None
    )
    assert registry.get("acme", "chat").sagemaker is None


def test_an_event_about_another_sagemaker_endpoint_with_the_same_tags_changes_nothing(
    registry: EndpointRegistry,
) -> None:
    # Tags can be copied onto any endpoint: the record answers only for the endpoint it names.
    record = deployed(registry)
    impostor = change(record, "Failed", after_seconds=60, EndpointName="acme-chat")
    assert registry.observe_sagemaker("acme", impostor, correlation_id="event-9") is None
    assert registry.get("acme", "chat").status is EndpointStatus.IN_SERVICE
