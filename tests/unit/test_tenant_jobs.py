"""Jobs act as their tenant: maas.tenancy.act_as_tenant and the containers' entrypoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from containers.evaluator.entrypoint import job_tenant as evaluation_tenant
from containers.packager.entrypoint import job_tenant as packaging_tenant
from maas.aws import client, reset_clients
from maas.tenancy import TENANT_ROLE_VARIABLE, TENANT_TAG, act_as_tenant, tenant_session

if TYPE_CHECKING:
    from collections.abc import Iterator

ROLE_ARN = "arn:aws:iam::123456789012:role/maas-dev-PackagerTenantRole"


class RecordingSts:
    """An STS client that records each AssumeRole and answers as moto's STS does."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._sts = boto3.client("sts", region_name="us-east-1")

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        response: dict[str, Any] = self._sts.assume_role(**kwargs)
        return response


@pytest.fixture
def default_session() -> Iterator[None]:
    """Put boto3's default session back after a test replaced it."""
    kept = boto3.DEFAULT_SESSION
    yield
    boto3.DEFAULT_SESSION = kept
    reset_clients()


def test_a_tenant_session_is_assumed_with_the_tenant_as_its_session_tag(aws: None) -> None:
    sts = RecordingSts()
    session = tenant_session(ROLE_ARN, "acme", sts, purpose="packager")
    session.client("s3", region_name="us-east-1").list_buckets()
    [call] = sts.calls
    assert call["RoleArn"] == ROLE_ARN
    assert call["RoleSessionName"] == "maas-packager-acme"
    assert call["Tags"] == [{"Key": TENANT_TAG, "Value": "acme"}]


def test_a_tenant_session_is_assumed_when_first_used_not_before(aws: None) -> None:
    sts = RecordingSts()
    tenant_session(ROLE_ARN, "acme", sts, purpose="packager")
    assert sts.calls == []


def test_a_session_name_keeps_to_what_sts_accepts(aws: None) -> None:
    sts = RecordingSts()
    session = tenant_session(ROLE_ARN, "a" * 80 + " x", sts, purpose="evaluator")
    session.client("s3", region_name="us-east-1").list_buckets()
    name = sts.calls[0]["RoleSessionName"]
    assert len(name) == 64
    assert name.startswith("maas-evaluator-aaa")


def test_acting_as_a_tenant_makes_every_later_client_the_tenants(
    aws: None, default_session: None
) -> None:
    before = client("sts").get_caller_identity()["Arn"]
    session = act_as_tenant("acme", purpose="packager", environ={TENANT_ROLE_VARIABLE: ROLE_ARN})
    assert session is not None
    after = client("sts").get_caller_identity()["Arn"]
    assert after != before
    assert after.endswith(":assumed-role/maas-dev-PackagerTenantRole/maas-packager-acme")
    assert boto3.client("sts").get_caller_identity()["Arn"] == after


def test_without_a_tenant_role_a_job_keeps_its_own_credentials(
    aws: None, default_session: None, caplog: pytest.LogCaptureFixture
) -> None:
    before = client("sts").get_caller_identity()["Arn"]
    assert act_as_tenant("acme", purpose="packager", environ={}) is None
    assert client("sts").get_caller_identity()["Arn"] == before
    assert TENANT_ROLE_VARIABLE in caplog.text


def test_the_packaging_job_acts_for_the_tenant_of_its_job_document() -> None:
    job = {
        "tenant_id": "acme",
        "model_name": "m",
        "version": 1,
        "correlation_id": "c",
        "source": {"kind": "s3", "uri": "s3://artifacts/acme/m/"},
        "serving": {},
        "artifact_uri": "s3://artifacts/acme/m/1/",
    }
    assert packaging_tenant({"MAAS_PACKAGING_JOB": json.dumps(job)}) == "acme"
    assert packaging_tenant({"MAAS_PACKAGING_JOB": "not json"}) is None
    assert packaging_tenant({}) is None


@pytest.mark.parametrize(
    ("uri", "tenant"),
    [
        ("s3://artifacts/evaluations/acme/e1/job.json", "acme"),
        ("s3://artifacts/acme/e1/job.json", None),
        ("s3://artifacts/evaluations/acme", None),
        ("", None),
    ],
)
def test_the_evaluation_job_acts_for_the_tenant_whose_folder_holds_its_document(
    uri: str, tenant: str | None
) -> None:
    assert evaluation_tenant({"MAAS_EVALUATION_JOB": uri}) == tenant


class ExpiringSts:
    """An STS whose sessions run out within a minute: each use must assume again."""

    def __init__(self) -> None:
        self.calls = 0

    def assume_role(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{self.calls:016d}",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": datetime.now(UTC) + timedelta(minutes=1),
            }
        }


def test_a_tenant_session_is_renewed_before_it_runs_out() -> None:
    sts = ExpiringSts()
    credentials = tenant_session(ROLE_ARN, "acme", sts, purpose="packager").get_credentials()
    assert credentials is not None
    first = credentials.get_frozen_credentials().access_key
    second = credentials.get_frozen_credentials().access_key
    assert (first, second, sts.calls) == ("ASIA0000000000000001", "ASIA0000000000000002", 2)
