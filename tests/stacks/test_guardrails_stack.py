"""The stage's Bedrock guardrails: a default from the repository, and one per tenant."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

cdk = pytest.importorskip("aws_cdk", reason="the stack tests need the cdk extra")

from aws_cdk.assertions import Template  # noqa: E402

from stacks.config import StageConfig, StageConfigError  # noqa: E402
from stacks.guardrails import (  # noqa: E402
    DEFAULT_POLICY,
    GuardrailsStack,
    load_policy,
    policy_digest,
)
from tests.stacks.cfn_template import resources  # noqa: E402
from tests.unit.guardrails.support import DATA  # noqa: E402

if TYPE_CHECKING:
    from pathlib import Path

    from stacks.control_plane import ControlPlane

pytestmark = pytest.mark.stacks

TENANT_POLICY = "tests/data/guardrails/policy.json"


@pytest.fixture(scope="module")
def tenants_json() -> dict[str, Any]:
    """A guardrails stack alone (a few resources, no app), for a stage with two tenants."""
    config = StageConfig(
        name="qa", guardrails={"acme": TENANT_POLICY, "globex": str(DATA / "policy.json")}
    )
    stack = GuardrailsStack(cdk.App(), "Guardrails", config=config)
    return dict(Template.from_stack(stack).to_json())


def _parameter_values(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["Name"]: p["Value"] for p in resources(template, "AWS::SSM::Parameter").values()}


def test_the_stage_gets_its_default_guardrail_from_the_repository(
    guardrails_json: dict[str, Any], plane: ControlPlane
) -> None:
    [guardrail] = resources(guardrails_json, "AWS::Bedrock::Guardrail").values()
    policy = load_policy(DEFAULT_POLICY)
    assert guardrail["Name"] == f"maas-{plane.config.name}"
    assert guardrail["BlockedInputMessaging"] == policy.blocked_input_messaging
    types = [f["Type"] for f in guardrail["ContentPolicyConfig"]["FiltersConfig"]]
    assert "PROMPT_ATTACK" in types


def test_each_guardrail_is_published_as_a_version_and_announced(
    guardrails_json: dict[str, Any], plane: ControlPlane
) -> None:
    [guardrail_id] = resources(guardrails_json, "AWS::Bedrock::Guardrail")
    [version] = resources(guardrails_json, "AWS::Bedrock::GuardrailVersion").values()
    assert version["GuardrailIdentifier"] == {"Fn::GetAtt": [guardrail_id, "GuardrailId"]}
    parameter = _parameter_values(guardrails_json)[f"/maas/{plane.config.name}/guardrails/default"]
    joined = json.dumps(parameter)
    for key in ("guardrailId", "guardrailArn", "guardrailVersion"):
        assert key in joined
    outputs = guardrails_json["Outputs"]
    assert outputs["DefaultGuardrailIdOutput"]["Value"] == {
        "Fn::GetAtt": [guardrail_id, "GuardrailId"]
    }
    assert outputs["DefaultGuardrailVersionOutput"]["Value"]["Fn::GetAtt"][1] == "Version"


def test_a_policy_change_publishes_a_new_version(tenants_json: dict[str, Any]) -> None:
    policy = load_policy(DEFAULT_POLICY)
    changed = policy.model_copy(update={"blocked_input_messaging": "No."})
    assert policy_digest(changed) != policy_digest(policy)
    descriptions = {
        v["Description"] for v in resources(tenants_json, "AWS::Bedrock::GuardrailVersion").values()
    }
    # The version's description names the digest of the document as deployed (its name too).
    assert f"maas: policy {policy_digest(policy.model_copy(update={'name': 'maas-qa'}))}" in (
        descriptions
    )


def test_each_tenant_of_the_stage_gets_its_own_guardrail(tenants_json: dict[str, Any]) -> None:
    guardrails = resources(tenants_json, "AWS::Bedrock::Guardrail").values()
    by_name = {g["Name"]: g for g in guardrails}
    assert set(by_name) == {"maas-qa", "maas-qa-acme", "maas-qa-globex"}
    acme = by_name["maas-qa-acme"]
    assert acme["TopicPolicyConfig"]["TopicsConfig"][0]["Name"] == "Investment advice"
    assert {"Key": "maas:tenant", "Value": "acme"} in acme["Tags"]
    assert len(resources(tenants_json, "AWS::Bedrock::GuardrailVersion")) == 3
    assert set(_parameter_values(tenants_json)) == {
        "/maas/qa/guardrails/default",
        "/maas/qa/guardrails/tenants/acme",
        "/maas/qa/guardrails/tenants/globex",
    }


def test_a_missing_or_invalid_policy_is_a_stage_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(StageConfigError, match=r"nowhere\.json: \[Errno 2\]"):
        load_policy(tmp_path / "nowhere.json")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"name": "x", "blockedInputMessaging": "No."}))
    with pytest.raises(StageConfigError, match="blockedOutputsMessaging"):
        load_policy(invalid)


def test_tenants_must_be_tenant_ids() -> None:
    with pytest.raises(StageConfigError, match=r"guardrails\.Acme\.\[key\]"):
        StageConfig.resolve({"maas:stages": {"dev": {"guardrails": {"Acme": TENANT_POLICY}}}})
