"""A Batch job's calls, made over HTTP from its own process, are held to its roles.

On AWS a job's container gets credentials of its job definition's role (ECS's task role:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html); the
product's job roles may do nothing but assume their tenant role with one ``maas:tenant``
session tag, and the tenant role reaches only that tenant's files and secrets
(``stacks/packaging.py``). The local runtime gives each job a session of its definition's
role and evaluates what the job process sends to the emulation's HTTP server
(:mod:`maas.local.http_server`) against the synthesized statements: each test here runs a
real job of the manifest's Packager definition, whose command is overridden with a script.
"""

from __future__ import annotations

import copy
import textwrap
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from maas.local import iam_enforcement
from maas.local.batch import BATCH_LOG_GROUP
from maas.local.iam_roles import read_export, role_policies
from tests.local.support import wait_until

if TYPE_CHECKING:
    from maas.local import LocalRuntime

TENANT_ROLE = "PackagerTenantRole"
#: What every job script starts with: a way to report each call's outcome on a line.
PRELUDE = """
import os, boto3
from botocore.exceptions import ClientError
from maas.tenancy import act_as_tenant
bucket = os.environ["BUCKET"]

def attempt(label, call):
    try:
        call()
        print(label, "allowed")
    except ClientError as error:
        print(label, error.response["Error"]["Code"], error.response["Error"]["Message"])
"""


@pytest.fixture(scope="module")
def bucket(runtime: LocalRuntime) -> str:
    """The artifacts bucket, with a file and a Hub token secret for acme and for globex."""
    name = runtime.resources.buckets["ArtifactsBucket"]
    for tenant in ("acme", "globex"):
        runtime.client("s3").put_object(Bucket=name, Key=f"{tenant}/data.txt", Body=b"weights")
        runtime.client("secretsmanager").create_secret(
            Name=f"maas/{tenant}/hub-token",
            SecretString="hf_secret",
            Tags=[
                {"Key": "maas:tenant", "Value": tenant},
                {"Key": "maas:purpose", "Value": "hub-token"},
            ],
        )
    return name


def run_job(runtime: LocalRuntime, bucket: str, script: str) -> dict[str, list[str]]:
    """Run ``script`` as a Packager job; each line it printed, by its first word."""
    batch = runtime.client("batch")
    job_id = batch.submit_job(
        jobName="job-iam",
        jobQueue=runtime.resources.job_queues["Packager"],
        jobDefinition=runtime.resources.job_definitions["Packager"],
        containerOverrides={
            "command": ["python", "-c", PRELUDE + textwrap.dedent(script)],
            "environment": [{"name": "BUCKET", "value": bucket}],
        },
    )["jobId"]

    def stopped() -> dict[str, Any] | None:
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        return job if job["status"] in ("SUCCEEDED", "FAILED") else None

    job = wait_until(stopped, timeout=60)
    events = runtime.client("logs").get_log_events(
        logGroupName=BATCH_LOG_GROUP, logStreamName=job["container"]["logStreamName"]
    )["events"]
    lines = [event["message"] for event in events]
    assert job["status"] == "SUCCEEDED", lines
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1:] for line in lines if " " in line}


def test_a_job_runs_as_a_session_of_its_definitions_role(
    runtime: LocalRuntime, bucket: str
) -> None:
    said = run_job(
        runtime,
        bucket,
        """
        print("caller", boto3.client("sts").get_caller_identity()["Arn"])
        """,
    )
    role_name = runtime.resources.roles["PackagerJobRole"].rsplit("/", 1)[1]
    assert said["caller"][0].startswith(f"arn:aws:sts::{runtime.settings.account_id}:")
    assert f"assumed-role/{role_name}/" in said["caller"][0]


def test_the_job_role_alone_reads_nothing(runtime: LocalRuntime, bucket: str) -> None:
    said = run_job(
        runtime,
        bucket,
        """
        attempt("read", lambda: boto3.client("s3").get_object(Bucket=bucket, Key="acme/data.txt"))
        """,
    )
    code, message = said["read"][0].split(" ", 1)
    # S3 answers AccessDenied, with IAM's words for a role without an allowing statement.
    assert code == "AccessDenied"
    assert "is not authorized to perform: s3:GetObject" in message


def test_under_its_tenants_session_a_job_reaches_that_tenants_files_and_secrets_only(
    runtime: LocalRuntime, bucket: str
) -> None:
    said = run_job(
        runtime,
        bucket,
        """
        act_as_tenant("acme", purpose="packager")
        s3, secrets = boto3.client("s3"), boto3.client("secretsmanager")
        attempt("own-file", lambda: s3.get_object(Bucket=bucket, Key="acme/data.txt"))
        attempt("other-file", lambda: s3.get_object(Bucket=bucket, Key="globex/data.txt"))
        attempt("own-secret", lambda: secrets.get_secret_value(SecretId="maas/acme/hub-token"))
        attempt(
            "other-secret", lambda: secrets.get_secret_value(SecretId="maas/globex/hub-token")
        )
        # A package's large files are uploaded in parts (s3transfer, above 8 MB).
        attempt("own-upload", lambda: s3.create_multipart_upload(
            Bucket=bucket, Key="acme/chat/1/model.safetensors"
        ))
        attempt("other-upload", lambda: s3.create_multipart_upload(
            Bucket=bucket, Key="globex/chat/1/model.safetensors"
        ))
        """,
    )
    assert said["own-file"] == ["allowed"]
    assert said["other-file"][0].startswith("AccessDenied ")
    assert said["own-secret"] == ["allowed"]
    # Secrets Manager is a JSON service: its code is AccessDeniedException.
    assert said["other-secret"][0].startswith("AccessDeniedException ")
    assert "secretsmanager:GetSecretValue" in said["other-secret"][0]
    assert said["own-upload"] == ["allowed"]
    assert said["other-upload"][0].startswith("AccessDenied ")
    assert "s3:PutObject" in said["other-upload"][0]


def test_a_job_cannot_assume_its_tenant_role_with_a_second_session_tag(
    runtime: LocalRuntime, bucket: str
) -> None:
    said = run_job(
        runtime,
        bucket,
        """
        attempt("assume", lambda: boto3.client("sts").assume_role(
            RoleArn=os.environ["TENANT_ROLE_ARN"],
            RoleSessionName="forged",
            Tags=[{"Key": "maas:tenant", "Value": "acme"}, {"Key": "maas:admin", "Value": "yes"}],
        ))
        """,
    )
    # STS is a query service: AccessDenied, as STS words a refused AssumeRole.
    assert said["assume"][0].startswith("AccessDenied ")
    assert "sts:AssumeRole" in said["assume"][0] or "sts:TagSession" in said["assume"][0]


def test_without_the_tenant_in_its_resource_the_statement_lets_another_tenants_file_through(
    runtime: LocalRuntime, bucket: str
) -> None:
    """The proof that the statement's tenant scoping, not something else, holds the job."""
    loosened = _without_tenant_scope(read_export(), "s3:GetObject")
    policies = {
        runtime.resources.roles[role_id]: role_policies(role_id, runtime.resources, exported)
        for role_id, exported in (
            ("PackagerJobRole", read_export()),
            (TENANT_ROLE, loosened),
        )
    }
    enforcement = iam_enforcement.Enforcement(
        policies,
        iam_enforcement.moto_lookups(
            runtime.settings.account_id, runtime.settings.region, lambda _: None
        ),
    )
    script = """
        act_as_tenant("acme", purpose="packager")
        s3 = boto3.client("s3")
        attempt("other-file", lambda: s3.get_object(Bucket=bucket, Key="globex/data.txt"))
        """
    with ExitStack() as stack:
        iam_enforcement.install(stack, enforcement)
        assert run_job(runtime, bucket, script)["other-file"] == ["allowed"]
    assert run_job(runtime, bucket, script)["other-file"][0].startswith("AccessDenied ")


def _without_tenant_scope(exported: dict[str, Any], action: str) -> dict[str, Any]:
    """A copy of the export whose tenant-role statements granting ``action`` name every
    tenant's objects (``*`` where they named the session's tenant)."""
    loosened = copy.deepcopy(exported)
    changed = 0
    for document in loosened["Roles"][TENANT_ROLE]["PolicyDocuments"]:
        for statement in document["Statement"]:
            actions = statement["Action"]
            if action in ([actions] if isinstance(actions, str) else actions):
                text = repr(statement["Resource"])
                statement["Resource"] = _replace(
                    statement["Resource"], "${aws:PrincipalTag/maas:tenant}", "*"
                )
                changed += repr(statement["Resource"]) != text
    assert changed, f"no statement granting {action} names the session's tenant"
    return loosened


def _replace(node: Any, old: str, new: str) -> Any:
    if isinstance(node, str):
        return node.replace(old, new)
    if isinstance(node, list):
        return [_replace(item, old, new) for item in node]
    if isinstance(node, dict):
        return {key: _replace(value, old, new) for key, value in node.items()}
    return node
