"""A signed request is read back as the API call botocore made of it.

Each case has botocore serialize and sign a call, as a job's client does, and checks that
:func:`maas.local.http_operations.read_call` finds the same operation and the parameters IAM
authorization needs, for each protocol the jobs' services speak (JSON: Secrets Manager,
DynamoDB; query: STS; REST-JSON: SageMaker Runtime, X-Ray; REST-XML: S3). Signature Version
4's credential scope: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import pytest

from maas.local.http_operations import SignedRequest, read_call, signer

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest

ENDPOINT = "http://127.0.0.1:5999"


class _Captured(Exception):
    """Stops a call once botocore has prepared its request."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def signed(service: str, operation: str, **params: Any) -> SignedRequest:
    """The request botocore sends for ``operation``, as the emulation's server receives it."""
    client = boto3.client(  # type: ignore[call-overload]
        service,
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="ASIAJOBSESSION",
        aws_secret_access_key="secret",
        aws_session_token="token",
    )

    def capture(request: AWSPreparedRequest, **_: Any) -> None:
        raise _Captured(request)

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Captured) as captured:
        getattr(client, operation)(**params)
    request = captured.value.request
    url = urlsplit(request.url)
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    return SignedRequest(
        method=request.method,
        path=url.path,
        query=url.query,
        headers={
            key: value.decode() if isinstance(value, bytes) else str(value)
            for key, value in request.headers.items()
        },
        body=body,
    )


def test_the_signer_is_the_access_key_and_service_of_the_credential_scope() -> None:
    request = signed("s3", "get_object", Bucket="b", Key="acme/x")
    assert signer(request.headers, request.query) == ("ASIAJOBSESSION", "s3")


def test_an_unsigned_request_has_no_signer() -> None:
    assert signer({"Host": "127.0.0.1"}, "") is None


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected_operation", "expected"),
    [
        (
            "secretsmanager",
            "get_secret_value",
            {"SecretId": "maas/acme/hub-token"},
            "GetSecretValue",
            {"SecretId": "maas/acme/hub-token"},
        ),
        (
            "dynamodb",
            "get_item",
            {"TableName": "models", "Key": {"pk": {"S": "TENANT#acme"}}},
            "GetItem",
            {"TableName": "models", "Key": {"pk": {"S": "TENANT#acme"}}},
        ),
        (
            "sts",
            "assume_role",
            {
                "RoleArn": "arn:aws:iam::123456789012:role/tenant",
                "RoleSessionName": "job",
                "Tags": [{"Key": "maas:tenant", "Value": "acme"}],
            },
            "AssumeRole",
            {
                "RoleArn": "arn:aws:iam::123456789012:role/tenant",
                "RoleSessionName": "job",
                "Tags": [{"Key": "maas:tenant", "Value": "acme"}],
            },
        ),
        (
            "sagemaker-runtime",
            "invoke_endpoint",
            {"EndpointName": "acme-chat-c7bee5eb", "Body": b"{}"},
            "InvokeEndpoint",
            {"EndpointName": "acme-chat-c7bee5eb"},
        ),
        (
            "sagemaker",
            "describe_endpoint",
            {"EndpointName": "acme-chat-c7bee5eb"},
            "DescribeEndpoint",
            {"EndpointName": "acme-chat-c7bee5eb"},
        ),
        (
            "xray",
            "put_trace_segments",
            {"TraceSegmentDocuments": ["{}"]},
            "PutTraceSegments",
            {"TraceSegmentDocuments": ["{}"]},
        ),
        (
            "s3",
            "get_object",
            {"Bucket": "artifacts", "Key": "acme/model/config.json"},
            "GetObject",
            {"Bucket": "artifacts", "Key": "acme/model/config.json"},
        ),
        (
            "s3",
            "put_object",
            {"Bucket": "artifacts", "Key": "acme/a b/weights.bin", "Body": b"x"},
            "PutObject",
            {"Bucket": "artifacts", "Key": "acme/a b/weights.bin"},
        ),
        (
            "s3",
            "copy_object",
            {"Bucket": "artifacts", "Key": "acme/copy", "CopySource": "artifacts/globex/x"},
            "CopyObject",
            {"Bucket": "artifacts", "Key": "acme/copy", "CopySource": "artifacts/globex/x"},
        ),
        (
            "s3",
            "list_objects_v2",
            {"Bucket": "artifacts", "Prefix": "acme/"},
            "ListObjectsV2",
            {"Bucket": "artifacts", "Prefix": "acme/"},
        ),
        (
            "s3",
            "head_object",
            {"Bucket": "artifacts", "Key": "acme/x"},
            "HeadObject",
            {"Bucket": "artifacts", "Key": "acme/x"},
        ),
    ],
)
def test_a_call_is_read_back_with_its_parameters(
    service: str,
    operation: str,
    params: dict[str, Any],
    expected_operation: str,
    expected: dict[str, Any],
) -> None:
    request = signed(service, operation, **params)
    found = signer(request.headers, request.query)
    assert found is not None
    call = read_call(found[1], request)
    assert call is not None
    assert call.model.name == expected_operation
    assert {key: call.params.get(key) for key in expected} == expected


def test_cloudwatch_is_read_as_the_json_botocore_speaks_to_it() -> None:
    request = signed(
        "cloudwatch", "put_metric_data", Namespace="maas", MetricData=[{"MetricName": "m"}]
    )
    call = read_call("monitoring", request)
    assert call is not None
    assert (call.model.name, call.params["Namespace"]) == ("PutMetricData", "maas")


def test_a_request_no_operation_matches_is_not_read() -> None:
    request = SignedRequest(method="PATCH", path="/nowhere", query="", headers={}, body=b"")
    assert read_call("s3", request) is None
