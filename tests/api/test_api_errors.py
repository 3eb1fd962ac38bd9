"""Every error is a problem-details document with a 4xx that says what to fix."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import pytest

from functions.api.body import MAX_BODY_BYTES
from functions.api.problems import PROBLEM_CONTENT_TYPE
from tests.local.support import wait_until

if TYPE_CHECKING:
    from maas.local import LocalRuntime
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
    assert answer.body["detail"] == (
        "the body is not valid JSON: Expecting property name enclosed in double quotes "
        "(at character 1)"
    )


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


# Bad input found by trying it: each is a 4xx that says what is wrong, and the API serves on.


def _still_serving(api: ApiCaller) -> None:
    answer = api("GET", "/v1/endpoints")
    assert answer.status == 200, answer.body


def test_a_model_config_larger_than_any_checkpoint_is_refused_by_field(api: ApiCaller) -> None:
    config = {
        "model_type": "llama",
        "hidden_size": 4096,
        "num_hidden_layers": 1_000_000_000,
        "num_attention_heads": 32,
        "intermediate_size": 14336,
        "vocab_size": 128256,
    }

    answer = api("POST", "/v1/recommendations", body={"config": config})

    assert answer.status == 422
    assert answer.body["detail"] == (
        "config: num_hidden_layers must be an integer from 1 to 1024, not 1000000000"
    )
    _still_serving(api)


def test_a_serving_load_past_the_advisors_bounds_is_refused_by_field(api: ApiCaller) -> None:
    answer = api(
        "POST",
        "/v1/recommendations",
        body={"config": {"model_type": "llama"}, "serving": {"concurrent_requests": 10**9}},
    )

    assert answer.status == 422
    assert answer.problem_fields == ["serving.concurrent_requests"]


@pytest.mark.parametrize(
    ("template", "written"),
    [
        ("{question:{context.__class__}}", "{question:{context.__class__}}"),
        ("{question!r}", "{question!r}"),
        ("{question} {context.__class__}", "{context.__class__}"),
        ("{question} {context[0]}", "{context[0]}"),
        ("{question} {0}", "{0}"),
    ],
)
def test_a_template_placeholder_other_than_a_bare_name_is_refused(
    api: ApiCaller, template: str, written: str
) -> None:
    # Refused by the body's validation: whether the endpoint exists does not matter yet.
    answer = api("PUT", "/v1/endpoints/chat/pipeline", body={"prompt_template": template})

    assert answer.status == 422
    assert answer.problem_fields == ["prompt_template"]
    assert f"placeholder {written} not allowed" in answer.body["detail"]
    _still_serving(api)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "it nests deeper than 32 levels"),
        ('{"a":' * 33 + "1" + "}" * 33, "it nests deeper than 32 levels"),
        ('{"model": {"version": ' + "9" * 5000 + "}}", "an integer has 5000 digits"),
        ('{"model": {"version": NaN}}', "NaN is not a JSON value"),
        ('{"model": {"version": 1e999}}', "the number 1e999 is out of range"),
        ("endpoint_name=chat", "Expecting value"),
    ],
)
def test_a_body_that_is_not_json_the_api_takes_is_a_400(
    api: ApiCaller, raw: str, reason: str
) -> None:
    answer = api("POST", "/v1/endpoints", raw_body=raw)

    assert answer.status == 400
    assert answer.body["detail"].startswith(f"the body is not valid JSON: {reason}")
    _still_serving(api)


def test_a_body_past_the_limit_is_a_413_before_it_is_parsed(api: ApiCaller) -> None:
    answer = api("POST", "/v1/endpoints", raw_body="[" * (MAX_BODY_BYTES + 1))

    assert answer.status == 413
    assert answer.body["detail"] == (
        f"the body is {MAX_BODY_BYTES + 1} bytes; the API reads at most {MAX_BODY_BYTES}"
    )
    _still_serving(api)


def test_a_caller_without_a_tenant_learns_nothing_of_its_body(api: ApiCaller) -> None:
    invalid = api("POST", "/v1/endpoints", tenant=None, body={"endpoint_name": "no spaces"})
    too_large = api("POST", "/v1/endpoints", tenant=None, raw_body="x" * (MAX_BODY_BYTES + 1))

    assert (invalid.status, too_large.status) == (401, 401)
    assert "errors" not in invalid.body


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/endpoints",
            {"endpoint_name": "chat", "model": {"model_name": "m", "version": True}},
            "model.registered.version",
        ),
        (
            "/v1/endpoints",
            {"endpoint_name": "chat", "model": {"model_name": "m", "version": "1"}},
            "model.registered.version",
        ),
        (
            "/v1/endpoints",
            {"endpoint_name": "chat", "model": {"model_name": "m", "version": 1.0}},
            "model.registered.version",
        ),
        ("/v1/endpoints/chat/scaling", {"instance_count": "2"}, "instance_count"),
        ("/v1/endpoints/chat/pipeline", {"guardrail": "false"}, "guardrail"),
        ("/v1/endpoints/chat/pipeline", {"guardrail": 0}, "guardrail"),
    ],
)
def test_booleans_and_strings_are_not_taken_for_integers_or_flags(
    api: ApiCaller, path: str, body: dict[str, object], field: str
) -> None:
    method = "POST" if path == "/v1/endpoints" else "PUT"

    answer = api(method, path, body=body)

    assert answer.status == 422, answer.body
    assert answer.problem_fields == [field]


def test_every_problem_names_its_request(api: ApiCaller) -> None:
    answer = api("GET", "/v1/nowhere")

    assert uuid.UUID(answer.body["request_id"])


def test_a_fault_of_the_api_says_nothing_of_the_server(
    api: ApiCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*_: object, **__: object) -> None:
        raise FileNotFoundError("/var/task/maas/advisor/catalog.json")

    monkeypatch.setattr("functions.api.routes.recommendations.advise", fails)

    answer = api("POST", "/v1/recommendations", body={"config": {"model_type": "llama"}})

    assert answer.status == 500
    assert "/var/task" not in json.dumps(answer.body)
    assert "quote its request_id" in answer.body["detail"]
    assert uuid.UUID(answer.body["request_id"])


def test_an_executions_failure_shows_its_message_not_a_stack_trace(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    # A Lambda step's error reaches Step Functions as the runtime's error document, stack
    # trace and server paths included; the API shows its message, under the execution's name.
    stepfunctions = runtime.client("stepfunctions")
    name = f"acme_{uuid.uuid4().hex[:12]}"
    started = stepfunctions.start_execution(
        stateMachineArn=runtime.resources.state_machines["Teardown"],
        name=name,
        input=json.dumps({"tenant_id": "acme", "endpoint_name": "nowhere", "delete_model": True}),
    )
    wait_until(
        lambda: (
            stepfunctions.describe_execution(executionArn=started["executionArn"])["status"]
            != "RUNNING"
        ),
        timeout=30,
        interval=0.1,
    )

    answer = api("GET", f"/v1/executions/teardown/{name}")

    assert answer.status == 200, answer.body
    shown = json.dumps(answer.body)
    assert "stackTrace" not in shown
    assert 'File \\"' not in shown
    failed = next(visit for visit in answer.body["path"] if visit["error"])
    assert failed["cause"] == "endpoint_name: no endpoint 'nowhere' for this tenant"


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_a_415(api: ApiCaller, media_type: str) -> None:
    # Powertools would read a form into field names made of the JSON text, and text/plain
    # was a 500.
    answer = api(
        "POST",
        "/v1/endpoints",
        raw_body='{"endpoint_name": "chat"}',
        headers={"Content-Type": media_type},
    )

    assert answer.status == 415
    assert f"not {media_type}" in answer.body["detail"]
    _still_serving(api)
