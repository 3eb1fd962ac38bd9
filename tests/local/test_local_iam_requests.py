"""What IAM authorizes for the calls the state machines' roles make (no runtime needed)."""

from __future__ import annotations

import pytest

from maas.local.iam_requests import Authorization, Lookups, authorizations

LOOKUPS = Lookups(
    account_id="123456789012",
    region="us-east-1",
    partition_key=lambda table: None,
    resource_tags=lambda arn: None,
    guardrail_tags=lambda guardrail: None,
)
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:plan"


@pytest.mark.parametrize(
    ("params", "resource"),
    [
        ({"FunctionName": "plan"}, FUNCTION),
        ({"FunctionName": FUNCTION}, FUNCTION),
        ({"FunctionName": "123456789012:function:plan"}, FUNCTION),
        ({"FunctionName": f"{FUNCTION}:live"}, f"{FUNCTION}:live"),
        ({"FunctionName": "plan", "Qualifier": "3"}, f"{FUNCTION}:3"),
    ],
)
def test_an_invoke_is_authorized_on_the_function_as_the_call_qualifies_it(
    params: dict[str, str], resource: str
) -> None:
    assert authorizations("lambda", "Invoke", params, LOOKUPS) == [
        Authorization("lambda:InvokeFunction", resource, {})
    ]


def test_a_submitted_job_is_authorized_on_its_definition_and_its_queue() -> None:
    params = {
        "jobName": "pack",
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/maas-packager:1",
        "jobQueue": "maas-packager-queue",
    }

    assert [a.resource for a in authorizations("batch", "SubmitJob", params, LOOKUPS)] == [
        "arn:aws:batch:us-east-1:123456789012:job-definition/maas-packager:1",
        "arn:aws:batch:us-east-1:123456789012:job-queue/maas-packager-queue",
    ]


def test_describing_jobs_names_no_resource() -> None:
    assert authorizations("batch", "DescribeJobs", {"jobs": ["1"]}, LOOKUPS) == [
        Authorization("batch:DescribeJobs", "*", {})
    ]


def test_a_rule_on_the_default_bus_is_authorized_on_its_arn() -> None:
    found = authorizations("events", "PutTargets", {"Rule": "sync", "Targets": []}, LOOKUPS)

    assert found == [
        Authorization("events:PutTargets", "arn:aws:events:us-east-1:123456789012:rule/sync", {})
    ]
