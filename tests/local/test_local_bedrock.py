"""ApplyGuardrail on the local runtime: the stage's guardrails, answered by the local engine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.exceptions import NotFound
from maas.guardrails import GuardrailChecker, GuardrailRef, resolve_guardrail
from maas.local.bedrock import configured_stage
from maas.local.guardrails import parse_policy
from tests.unit.guardrails.support import DATA, sample_policy

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from maas.local.bedrock import RegisteredGuardrail

STAGE = "qa"
TENANT_POLICY = DATA / "policy.json"


@pytest.fixture(scope="module")
def guardrails(runtime: LocalRuntime) -> dict[str | None, RegisteredGuardrail]:
    """Stage ``qa``: the default guardrail, and tenant acme's, the labelled set's policy."""
    return runtime.bedrock.provision(STAGE, {"acme": TENANT_POLICY})


@pytest.fixture(scope="module")
def bedrock(runtime: LocalRuntime) -> Any:
    return runtime.client("bedrock-runtime")


def apply(bedrock: Any, guardrail: RegisteredGuardrail, text: str, source: str) -> Any:
    return bedrock.apply_guardrail(
        guardrailIdentifier=guardrail.guardrail_id,
        guardrailVersion=guardrail.version,
        source=source,
        content=[{"text": {"text": text}}],
    )


def parameter(runtime: LocalRuntime, name: str) -> Any:
    return json.loads(runtime.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def test_the_runtime_announces_the_configured_stages_default_guardrail(
    runtime: LocalRuntime,
) -> None:
    stage, _ = configured_stage()

    announced = parameter(runtime, f"/maas/{stage}/guardrails/default")

    assert set(announced) == {"guardrailId", "guardrailArn", "guardrailVersion"}
    assert announced["guardrailVersion"] == "1"
    assert announced["guardrailArn"] == (
        f"arn:aws:bedrock:us-east-1:123456789012:guardrail/{announced['guardrailId']}"
    )


def test_each_tenant_guardrail_has_its_parameter_beside_the_default(
    runtime: LocalRuntime, guardrails: dict[str | None, RegisteredGuardrail]
) -> None:
    tenant = parameter(runtime, f"/maas/{STAGE}/guardrails/tenants/acme")
    default = parameter(runtime, f"/maas/{STAGE}/guardrails/default")

    assert tenant["guardrailId"] == guardrails["acme"].guardrail_id
    assert default["guardrailId"] == guardrails[None].guardrail_id != tenant["guardrailId"]


def test_clean_text_passes(bedrock: Any, guardrails: dict[str | None, RegisteredGuardrail]) -> None:
    response = apply(bedrock, guardrails[None], "How do I reset my password?", "INPUT")

    assert response["action"] == "NONE"
    assert response["outputs"] == []


def test_personal_data_in_an_answer_is_masked(
    bedrock: Any, guardrails: dict[str | None, RegisteredGuardrail]
) -> None:
    response = apply(bedrock, guardrails[None], "Write to jane@example.com today.", "OUTPUT")

    assert response["action"] == "GUARDRAIL_INTERVENED"
    assert response["outputs"] == [{"text": "Write to {EMAIL} today."}]
    [entity] = response["assessments"][0]["sensitiveInformationPolicy"]["piiEntities"]
    assert (entity["type"], entity["match"], entity["action"]) == (
        "EMAIL",
        "jane@example.com",
        "ANONYMIZED",
    )


def test_a_denied_topic_is_blocked_with_the_blocked_message(
    bedrock: Any, guardrails: dict[str | None, RegisteredGuardrail]
) -> None:
    response = apply(bedrock, guardrails["acme"], "Which stocks should I buy right now?", "INPUT")

    assert response["action"] == "GUARDRAIL_INTERVENED"
    assert response["outputs"] == [{"text": sample_policy().blocked_input_messaging}]
    [topic] = response["assessments"][0]["topicPolicy"]["topics"]
    assert (topic["name"], topic["action"]) == ("Investment advice", "BLOCKED")


def test_the_emulation_server_answers_too_and_takes_an_arn(
    runtime: LocalRuntime, guardrails: dict[str | None, RegisteredGuardrail]
) -> None:
    remote = boto3.client(
        "bedrock-runtime", endpoint_url=runtime.endpoint_url(), region_name="us-east-1"
    )

    response = remote.apply_guardrail(
        guardrailIdentifier=guardrails[None].guardrail_arn,
        guardrailVersion="1",
        source="OUTPUT",
        content=[{"text": {"text": "Call me on +1 (415) 555-0132."}}],
    )

    assert response["outputs"] == [{"text": "Call me on {PHONE}."}]


def test_an_unknown_guardrail_is_not_found(bedrock: Any) -> None:
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException) as raised:
        bedrock.apply_guardrail(
            guardrailIdentifier="nosuchguardrail",
            guardrailVersion="1",
            source="INPUT",
            content=[{"text": {"text": "Hello"}}],
        )

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert raised.value.response["Error"]["Message"] == (
        "The guardrail nosuchguardrail was not found in account 123456789012."
    )


def test_an_unknown_version_is_not_found(
    bedrock: Any, guardrails: dict[str | None, RegisteredGuardrail]
) -> None:
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException, match="Version 9 of"):
        bedrock.apply_guardrail(
            guardrailIdentifier=guardrails[None].guardrail_id,
            guardrailVersion="9",
            source="INPUT",
            content=[{"text": {"text": "Hello"}}],
        )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"source": "INPUT", "content": []}, "content: List should have at least 1 item"),
        (
            {"source": "SIDEWAYS", "content": [{"text": {"text": "Hi"}}]},
            "source: Input should be 'INPUT' or 'OUTPUT'",
        ),
    ],
)
def test_a_malformed_request_is_a_validation_exception(
    bedrock: Any,
    guardrails: dict[str | None, RegisteredGuardrail],
    request_: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(bedrock.exceptions.ValidationException) as raised:
        bedrock.apply_guardrail(
            guardrailIdentifier=guardrails[None].guardrail_id, guardrailVersion="1", **request_
        )

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["Error"]["Message"].startswith(message)


def test_a_changed_document_is_published_as_the_next_version(runtime: LocalRuntime) -> None:
    policy = parse_policy(json.loads(TENANT_POLICY.read_text())).model_copy(
        update={"name": "versioned"}
    )

    first = runtime.bedrock.register(policy)
    again = runtime.bedrock.register(policy)
    changed = runtime.bedrock.register(policy.model_copy(update={"blocked_input_messaging": "No."}))

    assert (first.version, again.version, changed.version) == ("1", "1", "2")
    assert first.guardrail_id == changed.guardrail_id


# --- the client business code uses


def test_a_tenant_resolves_to_its_guardrail_and_others_to_the_default(
    runtime: LocalRuntime, guardrails: dict[str | None, RegisteredGuardrail]
) -> None:
    ssm = runtime.client("ssm")

    assert resolve_guardrail("acme", stage=STAGE, ssm=ssm) == GuardrailRef(
        identifier=guardrails["acme"].guardrail_id, version="1"
    )
    assert resolve_guardrail("globex", stage=STAGE, ssm=ssm) == GuardrailRef(
        identifier=guardrails[None].guardrail_id, version="1"
    )
    assert resolve_guardrail("acme", stage="nowhere", ssm=ssm) is None


def test_the_checker_reaches_the_emulation_through_the_default_client(
    runtime: LocalRuntime, guardrails: dict[str | None, RegisteredGuardrail]
) -> None:
    ref = resolve_guardrail("acme", stage=STAGE)
    assert ref is not None

    result = GuardrailChecker(ref).check("Is it a good time to invest in Bitcoin?", "INPUT")

    assert result.blocked
    assert result.reasons == ("topic 'Investment advice' denied",)


def test_the_checker_says_a_missing_guardrail_is_not_found(runtime: LocalRuntime) -> None:
    checker = GuardrailChecker(GuardrailRef(identifier="gone", version="1"))

    with pytest.raises(NotFound, match=r"^guardrail gone version 1: The guardrail gone"):
        checker.check("Hello", "INPUT")
