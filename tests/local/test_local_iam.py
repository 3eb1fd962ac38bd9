"""The local IAM evaluator, as AWS's IAM User Guide specifies it.

Each test names the page and the rule it follows:

- "Policy evaluation logic" and "The difference between explicit and implicit denies"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
- "IAM JSON policy elements: Condition operators"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
- "IAM policy elements: Variables and tags"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from maas.local.iam import Decision, Policy, Request, evaluate

if TYPE_CHECKING:
    from collections.abc import Mapping

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/maas-models-table"
SESSION_TENANT = "${aws:PrincipalTag/maas:tenant}"
ACME = {"aws:PrincipalTag/maas:tenant": ("acme",)}


def policy(*statements: dict[str, Any]) -> Policy:
    return Policy.from_document({"Version": "2012-10-17", "Statement": list(statements)})


def allow(
    action: str | list[str] = "*", resource: str | list[str] = "*", **more: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def ask(
    policies: Policy | list[Policy],
    action: str,
    resource: str,
    context: Mapping[str, tuple[str, ...]] | None = None,
) -> Decision:
    listed = policies if isinstance(policies, list) else [policies]
    return evaluate(listed, Request(action, resource, context or {}))


# --- Policy evaluation logic ----------------------------------------------------------------


def test_nothing_allows_so_the_request_is_implicitly_denied() -> None:
    assert ask(policy(allow("s3:PutObject")), "s3:GetObject", "*") is Decision.IMPLICIT_DENY


def test_an_allow_that_applies_allows() -> None:
    assert ask(policy(allow("s3:GetObject")), "s3:GetObject", "arn:aws:s3:::b/k") is Decision.ALLOW


def test_an_explicit_deny_overrides_any_allow_in_any_policy() -> None:
    allowing = policy(allow("s3:*"))
    denying = policy({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    assert ask([allowing, denying], "s3:GetObject", "arn:aws:s3:::b/k") is Decision.EXPLICIT_DENY


def test_actions_match_case_insensitively_with_wildcards() -> None:
    statements = policy(allow(["DynamoDB:get*", "states:Describe?xecution"]))
    assert ask(statements, "dynamodb:GetItem", "*") is Decision.ALLOW
    assert ask(statements, "states:DescribeExecution", "*") is Decision.ALLOW
    assert ask(statements, "dynamodb:PutItem", "*") is Decision.IMPLICIT_DENY


def test_resources_match_case_sensitively_and_star_crosses_slashes_and_colons() -> None:
    statements = policy(allow(resource="arn:aws:s3:::art/acme/*"))
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art/acme/a/b:c") is Decision.ALLOW
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art/ACME/a") is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource_apply_to_everything_they_do_not_name() -> None:
    statements = policy(
        {"Effect": "Allow", "NotAction": "s3:DeleteObject", "NotResource": "arn:aws:s3:::secret/*"}
    )
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::public/k") is Decision.ALLOW
    assert ask(statements, "s3:DeleteObject", "arn:aws:s3:::public/k") is Decision.IMPLICIT_DENY
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::secret/k") is Decision.IMPLICIT_DENY


def test_an_unknown_operator_is_refused_when_the_policy_is_loaded() -> None:
    with pytest.raises(ValueError, match="not evaluated locally"):
        policy(allow(Condition={"NumericLessThan": {"s3:max-keys": "10"}}))


# --- Condition operators --------------------------------------------------------------------


def test_every_operator_and_every_key_must_hold_any_value_may_match() -> None:
    statements = policy(
        allow(
            Condition={
                "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                "Bool": {"aws:SecureTransport": "true"},
            }
        )
    )
    both = {"aws:RequestedRegion": ("eu-west-1",), "aws:SecureTransport": ("true",)}
    assert ask(statements, "s3:GetObject", "*", both) is Decision.ALLOW
    plain = {**both, "aws:SecureTransport": ("false",)}
    assert ask(statements, "s3:GetObject", "*", plain) is Decision.IMPLICIT_DENY


def test_condition_key_names_are_case_insensitive_values_are_not() -> None:
    statements = policy(allow(Condition={"StringEquals": {"aws:resourcetag/MAAS:TENANT": "acme"}}))
    assert (
        ask(statements, "s3:GetObject", "*", {"aws:ResourceTag/maas:tenant": ("acme",)})
        is Decision.ALLOW
    )
    assert (
        ask(statements, "s3:GetObject", "*", {"aws:ResourceTag/maas:tenant": ("ACME",)})
        is Decision.IMPLICIT_DENY
    )


def test_a_missing_key_fails_a_positive_operator_and_satisfies_a_negated_one() -> None:
    equals = policy(allow(Condition={"StringEquals": {"aws:ResourceTag/maas:tenant": "acme"}}))
    not_equals = policy(
        allow(Condition={"StringNotEquals": {"aws:ResourceTag/maas:tenant": "acme"}})
    )
    assert ask(equals, "s3:GetObject", "*") is Decision.IMPLICIT_DENY
    assert ask(not_equals, "s3:GetObject", "*") is Decision.ALLOW


def test_string_not_equals_holds_when_the_value_matches_none() -> None:
    statements = policy(
        allow(Condition={"StringNotEquals": {"aws:ResourceTag/maas:tenant": ["acme", "globex"]}})
    )
    assert (
        ask(statements, "s3:GetObject", "*", {"aws:ResourceTag/maas:tenant": ("initech",)})
        is Decision.ALLOW
    )
    assert (
        ask(statements, "s3:GetObject", "*", {"aws:ResourceTag/maas:tenant": ("globex",)})
        is Decision.IMPLICIT_DENY
    )


def test_string_like_takes_wildcards_string_equals_does_not() -> None:
    like = policy(allow(Condition={"StringLike": {"s3:prefix": "acme/*"}}))
    equals = policy(allow(Condition={"StringEquals": {"s3:prefix": "acme/*"}}))
    context = {"s3:prefix": ("acme/corpus/",)}
    assert ask(like, "s3:ListBucket", "*", context) is Decision.ALLOW
    assert ask(equals, "s3:ListBucket", "*", context) is Decision.IMPLICIT_DENY


def test_if_exists_holds_when_the_key_is_missing_and_checks_it_when_present() -> None:
    statements = policy(
        allow(Condition={"StringEqualsIfExists": {"aws:ResourceTag/maas:tenant": "acme"}})
    )
    assert ask(statements, "s3:GetObject", "*") is Decision.ALLOW
    assert (
        ask(statements, "s3:GetObject", "*", {"aws:ResourceTag/maas:tenant": ("globex",)})
        is Decision.IMPLICIT_DENY
    )


def test_null_true_wants_the_key_absent_false_wants_it_present() -> None:
    tagged = policy(allow(Condition={"Null": {"aws:RequestTag/maas:tenant": "false"}}))
    untagged = policy(allow(Condition={"Null": {"aws:RequestTag/maas:tenant": "true"}}))
    with_tag = {"aws:RequestTag/maas:tenant": ("acme",)}
    assert ask(tagged, "sagemaker:CreateEndpoint", "*", with_tag) is Decision.ALLOW
    assert ask(tagged, "sagemaker:CreateEndpoint", "*") is Decision.IMPLICIT_DENY
    assert ask(untagged, "sagemaker:CreateEndpoint", "*") is Decision.ALLOW


def test_for_all_values_holds_when_every_value_matches_and_when_there_is_none() -> None:
    """ForAllValues on a key the request does not carry holds: AWS's documented pitfall."""
    statements = policy(allow(Condition={"ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]}}))
    assert (
        ask(statements, "sagemaker:AddTags", "*", {"aws:TagKeys": ("maas:tenant", "maas:model")})
        is Decision.ALLOW
    )
    assert (
        ask(statements, "sagemaker:AddTags", "*", {"aws:TagKeys": ("maas:tenant", "owner")})
        is Decision.IMPLICIT_DENY
    )
    assert ask(statements, "sagemaker:AddTags", "*") is Decision.ALLOW


def test_for_any_value_holds_when_one_value_matches_and_never_without_values() -> None:
    statements = policy(
        allow(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "maas:tenant"}})
    )
    assert (
        ask(statements, "sagemaker:AddTags", "*", {"aws:TagKeys": ("owner", "maas:tenant")})
        is Decision.ALLOW
    )
    assert (
        ask(statements, "sagemaker:AddTags", "*", {"aws:TagKeys": ("owner",)})
        is Decision.IMPLICIT_DENY
    )
    assert ask(statements, "sagemaker:AddTags", "*") is Decision.IMPLICIT_DENY


def test_arn_like_matches_each_of_the_six_parts_on_its_own() -> None:
    statements = policy(
        allow(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/maas-*"}})
    )
    role = "arn:aws:iam::123456789012:role/maas-tenant-access-role"
    assert ask(statements, "s3:GetObject", "*", {"aws:PrincipalArn": (role,)}) is Decision.ALLOW
    # A '*' in the account part does not reach into the resource part.
    elsewhere = "arn:aws:iam::123456789012:user/maas-x"
    assert (
        ask(statements, "s3:GetObject", "*", {"aws:PrincipalArn": (elsewhere,)})
        is Decision.IMPLICIT_DENY
    )


def test_bool_compares_true_and_false_case_insensitively() -> None:
    statements = policy(allow(Condition={"Bool": {"aws:SecureTransport": True}}))
    assert (
        ask(statements, "s3:GetObject", "*", {"aws:SecureTransport": ("TRUE",)}) is Decision.ALLOW
    )


# --- Variables and tags ---------------------------------------------------------------------


def test_leading_keys_hold_a_session_to_its_tenant_partition() -> None:
    """The tenant access role's item statements (stacks/iam_policies.read_tenant_items)."""
    statements = policy(
        allow(
            ["dynamodb:GetItem", "dynamodb:Query"],
            TABLE,
            Condition={
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}
            },
        )
    )
    own = {**ACME, "dynamodb:LeadingKeys": ("TENANT#acme",)}
    other = {**ACME, "dynamodb:LeadingKeys": ("TENANT#globex",)}
    both = {**ACME, "dynamodb:LeadingKeys": ("TENANT#acme", "TENANT#globex")}
    assert ask(statements, "dynamodb:GetItem", TABLE, own) is Decision.ALLOW
    assert ask(statements, "dynamodb:GetItem", TABLE, other) is Decision.IMPLICIT_DENY
    assert ask(statements, "dynamodb:GetItem", TABLE, both) is Decision.IMPLICIT_DENY


def test_a_variable_in_a_resource_takes_the_request_value() -> None:
    statements = policy(allow(resource=f"arn:aws:s3:::art/{SESSION_TENANT}/*"))
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art/acme/q", ACME) is Decision.ALLOW
    assert (
        ask(statements, "s3:GetObject", "arn:aws:s3:::art/globex/q", ACME) is Decision.IMPLICIT_DENY
    )


def test_a_variable_with_no_value_matches_nothing() -> None:
    """A session without the tag: the resource naming ${aws:PrincipalTag/...} applies to none."""
    statements = policy(allow(resource=f"arn:aws:s3:::art/{SESSION_TENANT}/*"))
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art//q") is Decision.IMPLICIT_DENY
    tag_condition = policy(
        allow(Condition={"StringEquals": {"aws:ResourceTag/maas:tenant": SESSION_TENANT}})
    )
    assert (
        ask(tag_condition, "s3:GetObject", "*", {"aws:ResourceTag/maas:tenant": ("",)})
        is Decision.IMPLICIT_DENY
    )


def test_a_variable_default_value_stands_in_for_a_missing_key() -> None:
    statements = policy(
        allow(resource="arn:aws:s3:::art/${aws:PrincipalTag/maas:tenant, 'shared'}/*")
    )
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art/shared/q") is Decision.ALLOW
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art/acme/q", ACME) is Decision.ALLOW


def test_special_character_variables_are_literal_characters() -> None:
    statements = policy(allow(resource="arn:aws:s3:::art/${*}${?}${$}"))
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art/*?$") is Decision.ALLOW
    assert ask(statements, "s3:GetObject", "arn:aws:s3:::art/ab$") is Decision.IMPLICIT_DENY


def test_a_value_put_in_by_a_variable_is_literal_text_not_a_pattern() -> None:
    statements = policy(allow(resource=f"arn:aws:s3:::art/{SESSION_TENANT}/*"))
    starred = {"aws:PrincipalTag/maas:tenant": ("*",)}
    assert (
        ask(statements, "s3:GetObject", "arn:aws:s3:::art/acme/q", starred)
        is Decision.IMPLICIT_DENY
    )


def test_a_variable_in_a_condition_value_compares_with_the_resource_tag() -> None:
    """The tenant access role's endpoint statements (aws:ResourceTag against the session)."""
    statements = policy(
        allow(
            "sagemaker:InvokeEndpoint",
            "arn:aws:sagemaker:us-east-1:123456789012:endpoint/*",
            Condition={"StringEquals": {"aws:ResourceTag/maas:tenant": SESSION_TENANT}},
        )
    )
    endpoint = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x"
    own = {**ACME, "aws:ResourceTag/maas:tenant": ("acme",)}
    other = {**ACME, "aws:ResourceTag/maas:tenant": ("globex",)}
    assert ask(statements, "sagemaker:InvokeEndpoint", endpoint, own) is Decision.ALLOW
    assert ask(statements, "sagemaker:InvokeEndpoint", endpoint, other) is Decision.IMPLICIT_DENY
    assert ask(statements, "sagemaker:InvokeEndpoint", endpoint, ACME) is Decision.IMPLICIT_DENY
