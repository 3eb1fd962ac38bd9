"""The SDK against the served API: a deployment followed to IN_SERVICE, pages, typed errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.sdk import InvalidRequest, MaasClient, NotFound, Unauthorized
from schemas.api import ExecutionView, Workflow
from schemas.deployment import DeploymentSpec, RegisteredModel
from schemas.endpoint import EndpointStatus
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from tests.sdk.conftest import ServedApi


def test_deploy_and_wait_until_in_service(served: ServedApi, maas: MaasClient) -> None:
    version = register_version(served.runtime, "sdk-chat").version
    spec = DeploymentSpec(
        endpoint_name="sdk-chat", model=RegisteredModel(model_name="sdk-chat", version=version)
    )
    views: list[ExecutionView] = []

    accepted = maas.create_endpoint(spec, idempotency_key="deploy-sdk-chat")
    record = maas.wait_until_in_service(
        "sdk-chat", execution=accepted, on_progress=views.append, max_poll=0.25
    )

    assert accepted.workflow is Workflow.DEPLOY_ENDPOINT
    assert accepted.started
    assert record.status is EndpointStatus.IN_SERVICE
    assert record.model.version == str(version)
    assert views[-1].status == "SUCCEEDED"
    assert [step.name for step in views[-1].path[:2]] == [
        "Act for the tenant",
        "Validate and plan deployment",
    ]
    again = maas.create_endpoint(spec, idempotency_key="deploy-sdk-chat")
    assert (again.execution_name, again.started) == (accepted.execution_name, False)
    assert "sdk-chat" in [item.endpoint_name for item in maas.iter_endpoints()]


def test_iterating_follows_every_page(served: ServedApi, maas: MaasClient) -> None:
    names = [f"paged-{index}" for index in range(3)]
    for name in names:
        register_version(served.runtime, name)
    register_version(served.runtime, "paged-0")

    first = maas.list_models(limit=2)
    models = list(maas.iter_models(page_size=2))
    versions = list(maas.iter_versions("paged-0", page_size=1))

    assert len(first.items) == 2
    assert first.next_token is not None
    assert [model.model_name for model in models if model.model_name.startswith("paged-")] == names
    assert [version.version for version in versions] == [1, 2]
    assert maas.get_version("paged-0", 2).version == 2


def test_an_unknown_endpoint_is_not_found(maas: MaasClient) -> None:
    with pytest.raises(NotFound) as raised:
        maas.get_endpoint("no-such-endpoint")

    assert raised.value.status == 404
    assert raised.value.error_name == "Maas.NotFound"
    assert "no-such-endpoint" in raised.value.detail


def test_registering_again_a_version_the_tenant_lacks_is_not_found(maas: MaasClient) -> None:
    with pytest.raises(NotFound) as raised:
        maas.retry_registration("never-packaged", 1)
    assert raised.value.error_name == "Maas.NotFound"


def test_an_invalid_body_names_its_fields(maas: MaasClient) -> None:
    # Built without validation: the API, not the model, must refuse it.
    spec = DeploymentSpec.model_construct(
        endpoint_name="not_valid!", model=RegisteredModel(model_name="sdk-chat", version=1)
    )

    with pytest.raises(InvalidRequest) as raised:
        maas.create_endpoint(spec)

    assert raised.value.status == 422
    assert list(raised.value.field_errors) == ["endpoint_name"]


def test_an_invalid_query_parameter_is_invalid(maas: MaasClient) -> None:
    with pytest.raises(InvalidRequest) as raised:
        maas.list_endpoints(limit=1000)

    assert "limit" in raised.value.field_errors


@pytest.mark.parametrize("token", ["not-a-token", None])
def test_a_bad_or_missing_token_is_unauthorized(served: ServedApi, token: str | None) -> None:
    with MaasClient(served.url, token) as client, pytest.raises(Unauthorized) as raised:
        client.list_endpoints()

    assert raised.value.status == 401
    assert raised.value.detail == "Unauthorized"


def test_recommend_answers_the_advisors_report(maas: MaasClient) -> None:
    from maas.advisor import ServingRequest
    from tests.fixtures.models import TINY_LLAMA_CONFIG

    report = maas.recommend(
        TINY_LLAMA_CONFIG, model="tiny", serving=ServingRequest(concurrent_requests=2)
    )

    assert report.model == "tiny"
    assert report.recommendation.instance_type.startswith("ml.")
