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


BUCKET = "arn:aws:s3:::artifacts"


@pytest.mark.parametrize(
    "operation", ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "PutObject"]
)
def test_each_step_of_a_multipart_upload_is_a_put_object(operation: str) -> None:
    """S3's permissions reference: CreateMultipartUpload, UploadPart and
    CompleteMultipartUpload need s3:PutObject
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html)."""
    params = {"Bucket": "artifacts", "Key": "acme/m/1/model.safetensors", "UploadId": "u"}
    assert authorizations("s3", operation, params, LOOKUPS) == [
        Authorization("s3:PutObject", f"{BUCKET}/acme/m/1/model.safetensors", {})
    ]


def test_a_copy_writes_its_target_and_reads_its_source() -> None:
    """CopyObject needs s3:PutObject on the target and s3:GetObject on the source
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)."""
    params = {"Bucket": "artifacts", "Key": "acme/copy", "CopySource": "artifacts/globex/a%20b"}
    assert authorizations("s3", "CopyObject", params, LOOKUPS) == [
        Authorization("s3:PutObject", f"{BUCKET}/acme/copy", {}),
        Authorization("s3:GetObject", f"{BUCKET}/globex/a b", {}),
    ]


def test_deleting_several_objects_deletes_each() -> None:
    params = {"Bucket": "artifacts", "Delete": {"Objects": [{"Key": "acme/a"}, {"Key": "b"}]}}
    assert authorizations("s3", "DeleteObjects", params, LOOKUPS) == [
        Authorization("s3:DeleteObject", f"{BUCKET}/acme/a", {}),
        Authorization("s3:DeleteObject", f"{BUCKET}/b", {}),
    ]
