"""Every error is a problem-details document with a 4xx that says what to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.api.problems import PROBLEM_CONTENT_TYPE

if TYPE_CHECKING:
    from tests.api.caller import ApiCaller


def test_a_request_without_a_tenant_claim_is_unauthorized(api: ApiCaller) -> None:
    answer = api("GET", "/v1/endpoints", tenant=None)

    assert answer.status == 401
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "custom:tenant_id" in answer.body["detail"]


def test_a_malformed_tenant_claim_is_unauthorized(api: ApiCaller) -> None:
    assert api("GET", "/v1/endpoints", tenant="Not A Tenant!").status == 401


def test_an_invalid_body_names_each_bad_field(api: ApiCaller) -> None:
    answer = api(
        "POST",
        "/v1/endpoints",
        body={"endpoint_name": "no spaces allowed", "model": {"model_name": "m", "version": 0}},
    )

    assert answer.status == 422
    assert answer.body["type"].endswith("/unprocessable-entity")
    assert "endpoint_name" in answer.problem_fields
    assert any(field.startswith("model") for field in answer.problem_fields)


def test_an_unknown_field_is_refused_not_ignored(api: ApiCaller) -> None:
    answer = api(
        "POST",
        "/v1/endpoints",
        body={"endpoint_name": "chat", "model": {"model_name": "m", "version": 1}, "typo": 1},
    )

    assert answer.status == 422
    assert "typo" in answer.problem_fields


def test_a_body_that_is_not_json_is_a_bad_request(api: ApiCaller) -> None:
    answer = api("POST", "/v1/endpoints", raw_body="{not json")

    assert answer.status == 400
    assert answer.body["detail"] == "the body is not valid JSON"


def test_cross_field_checks_are_reported_per_request(api: ApiCaller) -> None:
    answer = api(
        "PUT",
        "/v1/endpoints/chat/scaling",
        body={"autoscaling": {"min_capacity": 1, "max_capacity": 2}, "remove_autoscaling": True},
    )

    assert answer.status == 422
    assert "exclude each other" in answer.body["detail"]


def test_an_unknown_path_is_not_found(api: ApiCaller) -> None:
    answer = api("GET", "/v1/nowhere")

    assert answer.status == 404
    assert answer.body["instance"] == "/v1/nowhere"


def test_a_page_token_the_api_did_not_issue_is_refused(api: ApiCaller) -> None:
    answer = api("GET", "/v1/endpoints?next_token=%%%")

    assert answer.status == 422
    assert "next_token" in answer.body["detail"]


def test_an_unknown_metric_lists_the_known_ones(api: ApiCaller) -> None:
    answer = api("GET", "/metrics?instanceName=chat&metricName=Latency")

    assert answer.status == 422
    assert "ModelLatency" in answer.body["detail"]
    assert "ConcurrentRequestsPerModel" in answer.body["detail"]
