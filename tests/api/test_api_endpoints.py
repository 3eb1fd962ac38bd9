"""/v1/endpoints: a deployment, a retry, another tenant, the quotas, scaling and teardown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.local.support import wait_until
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import Answer, ApiCaller


@pytest.fixture(scope="module")
def version(runtime: LocalRuntime) -> int:
    return register_version(runtime, "tiny-chat").version


def _deploy_body(version: int, name: str = "chat", **extra: Any) -> dict[str, Any]:
    return {
        "endpoint_name": name,
        "model": {"model_name": "tiny-chat", "version": version},
        **extra,
    }


def _follow(api: ApiCaller, accepted: Answer, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        answer = api("GET", accepted.headers["location"])
        return answer.body if answer.body["status"] != "RUNNING" else None

    body: dict[str, Any] = wait_until(done, timeout=timeout, interval=0.2)
    return body


def test_a_deployment_is_accepted_followed_and_listed(api: ApiCaller, version: int) -> None:
    accepted = api("POST", "/v1/endpoints", body=_deploy_body(version))

    assert accepted.status == 202
    assert accepted.headers["location"] == accepted.body["status_url"]
    assert accepted.body["workflow"] == "deploy-endpoint"
    execution = _follow(api, accepted)
    assert execution["status"] == "SUCCEEDED"
    assert execution["path"][0]["name"] == "Act for the tenant"
    assert execution["path"][1]["name"] == "Validate and plan deployment"
    published = wait_until(
        lambda: (
            "EndpointInService"
            in [
                event["detail-type"]
                for event in api("GET", accepted.headers["location"]).body["events"]
            ]
        ),
        timeout=10,
    )
    assert published
    assert api("GET", "/v1/endpoints/chat").body["status"] == "IN_SERVICE"
    listed = api("GET", "/v1/endpoints").body
    assert [item["endpoint_name"] for item in listed["items"]] == ["chat"]


def test_a_retry_with_the_same_key_starts_nothing_new(api: ApiCaller, version: int) -> None:
    body = _deploy_body(version, "retried")
    first = api("POST", "/v1/endpoints", body=body, headers={"Idempotency-Key": "k-1"})
    again = api("POST", "/v1/endpoints", body=body, headers={"Idempotency-Key": "k-1"})

    assert first.status == again.status == 202
    assert again.body["execution_arn"] == first.body["execution_arn"]
    _follow(api, first)
    after = api("POST", "/v1/endpoints", body=body, headers={"Idempotency-Key": "k-1"})
    assert after.body["execution_arn"] == first.body["execution_arn"]
    assert after.body["started"] is False


def test_the_same_key_for_another_request_is_a_conflict(api: ApiCaller, version: int) -> None:
    first = api("DELETE", "/v1/endpoints/retried", headers={"Idempotency-Key": "k-3"})
    other = api(
        "DELETE", "/v1/endpoints/retried?delete_model=false", headers={"Idempotency-Key": "k-3"}
    )

    assert first.status == 202
    assert other.status == 409
    assert "Idempotency-Key" in other.body["detail"]
    assert _follow(api, first)["status"] == "SUCCEEDED"


def test_another_tenant_sees_nothing_of_it(api: ApiCaller, version: int) -> None:
    accepted = api("POST", "/v1/endpoints/chat/stop", tenant="acme")

    assert api("GET", "/v1/endpoints/chat", tenant="globex").status == 404
    assert api("GET", accepted.headers["location"], tenant="globex").status == 404
    assert api("DELETE", "/v1/endpoints/chat", tenant="globex").status == 404
    assert api("GET", "/v1/endpoints", tenant="globex").body["items"] == []
    assert _follow(api, accepted)["status"] == "SUCCEEDED"
    assert api("GET", "/v1/endpoints/chat").body["status"] == "STOPPED"


def test_quotas_are_enforced_before_anything_starts(api: ApiCaller, version: int) -> None:
    # acme holds "chat" (stopped, still counted); the quota is two endpoints, three instances.
    too_many_instances = api(
        "POST", "/v1/endpoints", body=_deploy_body(version, "big", instance_count=3)
    )
    assert too_many_instances.status == 403, (
        too_many_instances.body,
        api("GET", "/v1/endpoints").body,
    )
    assert too_many_instances.body["error_name"] == "Maas.QuotaExceeded"

    second = api("POST", "/v1/endpoints", body=_deploy_body(version, "second"))
    assert second.status == 202, (second.body, api("GET", "/v1/endpoints").body)
    assert _follow(api, second)["status"] == "SUCCEEDED"
    third = api("POST", "/v1/endpoints", body=_deploy_body(version, "third"))
    assert third.status == 403, third.body
    assert "endpoints" in third.body["detail"]
    # Refused at the door now (functions.api.checks), as the workflow would refuse it.
    scaled_past = api("PUT", "/v1/endpoints/second/scaling", body={"instance_count": 3})
    assert scaled_past.status == 403, scaled_past.body
    assert scaled_past.body["error_name"] == "Maas.QuotaExceeded"


def test_an_unknown_version_fails_before_any_work(api: ApiCaller) -> None:
    answer = api(
        "POST",
        "/v1/endpoints",
        body={"endpoint_name": "x", "model": {"model_name": "absent", "version": 1}},
    )

    assert answer.status == 404
    assert answer.body["error_name"] == "Maas.NotFound"


def test_pages_follow_one_another(api: ApiCaller) -> None:
    first = api("GET", "/v1/endpoints?limit=1").body
    second = api("GET", f"/v1/endpoints?limit=1&next_token={first['next_token']}").body

    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["endpoint_name"] < second["items"][0]["endpoint_name"]
