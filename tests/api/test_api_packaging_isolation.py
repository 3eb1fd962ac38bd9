"""A second tenant (globex) tries to package what is not its own, through the HTTP API.

Each attempt is refused with a 422 before any workflow starts; acme's files stay as they are
and globex's registry stays empty. A ``local`` source (a folder of the API's host) is
refused over the API whoever sends it. Registering a version again is the owner's alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from maas.registry import ModelRegistry
from schemas.packaging import ApprovalStatus, ModelVersionRecord, PackagingRequest
from tests.factories import packaging_request

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import ApiCaller

#: acme's weights, in acme's prefix of the artifacts bucket.
ACME_WEIGHTS = "acme/uploads/tiny/model.safetensors"
ACME_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maas/acme/hub-token-AbCdEf"


@pytest.fixture(scope="module")
def bucket(runtime: LocalRuntime) -> str:
    name = runtime.resources.buckets["ArtifactsBucket"]
    runtime.client("s3").put_object(Bucket=name, Key=ACME_WEIGHTS, Body=b"acme's weights")
    return name


def started_packagings(runtime: LocalRuntime) -> int:
    """Executions of the workflows that package: ``package_model`` and ``lifecycle``."""
    stepfunctions = runtime.client("stepfunctions")
    return sum(
        len(stepfunctions.list_executions(stateMachineArn=arn)["executions"])
        for name, arn in runtime.resources.state_machines.items()
        if name in {"PackageModel", "Lifecycle"}
    )


def assert_acme_untouched(runtime: LocalRuntime, api: ApiCaller) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    kept = runtime.client("s3").get_object(Bucket=bucket, Key=ACME_WEIGHTS)["Body"].read()
    assert kept == b"acme's weights"
    assert api("GET", "/v1/models", tenant="globex").body["items"] == []


@pytest.mark.parametrize("path", ["/v1/packaging-jobs", "/preparation"])
def test_another_tenants_s3_prefix_cannot_be_packaged(
    runtime: LocalRuntime, api: ApiCaller, bucket: str, path: str
) -> None:
    before = started_packagings(runtime)
    body = {"model_name": "stolen", "source": {"kind": "s3", "uri": f"s3://{bucket}/acme/uploads/"}}

    refused = api("POST", path, tenant="globex", body=body)

    assert refused.status == 422, refused.body
    assert refused.body["detail"].startswith(f"source.uri: in s3://{bucket}/ only the tenant's")
    assert started_packagings(runtime) == before
    assert_acme_untouched(runtime, api)


def test_the_original_create_model_refuses_another_tenants_artifact(
    runtime: LocalRuntime, api: ApiCaller, bucket: str
) -> None:
    before = started_packagings(runtime)
    body = {
        "modelName": "stolen",
        "primaryContainer": {"ModelDataUrl": f"s3://{bucket}/{ACME_WEIGHTS}"},
    }

    refused = api("POST", "/models", tenant="globex", body=body)

    assert refused.status == 422, refused.body
    assert refused.body["detail"].startswith("primaryContainer.ModelDataUrl: in s3://")
    assert started_packagings(runtime) == before
    assert_acme_untouched(runtime, api)


def test_another_tenants_token_secret_cannot_be_named(
    runtime: LocalRuntime, api: ApiCaller, bucket: str
) -> None:
    before = started_packagings(runtime)
    source = {"kind": "huggingface", "model_id": "acme/private", "token_secret_arn": ACME_SECRET}

    refused = api("POST", "/v1/packaging-jobs", tenant="globex", body={"source": source})

    assert refused.status == 422, refused.body
    assert refused.body["detail"].startswith("source.token_secret_arn: only the tenant's own")
    assert started_packagings(runtime) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/packaging-jobs", {"source": {"kind": "local", "path": "/etc"}}, "source.kind"),
        ("/preparation", {"source": {"kind": "local", "path": "/etc"}}, "source.kind"),
        (
            "/v1/lifecycles",
            {
                "package": {"source": {"kind": "local", "path": "/etc"}},
                "deployment": {"endpoint_name": "chat"},
            },
            "package.source.kind",
        ),
    ],
)
@pytest.mark.usefixtures("bucket")
def test_a_local_source_is_refused_over_the_api(
    runtime: LocalRuntime, api: ApiCaller, path: str, body: dict[str, Any], field: str
) -> None:
    before = started_packagings(runtime)

    refused = api("POST", path, tenant="globex", body=body)

    assert refused.status == 422, refused.body
    assert refused.problem_fields == [field]
    assert started_packagings(runtime) == before
    assert_acme_untouched(runtime, api)


@pytest.fixture(scope="module")
def failed_registration(runtime: LocalRuntime) -> ModelVersionRecord:
    """acme's version whose package is complete and whose registration failed."""
    registry = ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    request = PackagingRequest.model_validate(
        packaging_request(
            model_name="unregistered", source={"kind": "s3", "uri": f"s3://{bucket}/acme/up/"}
        )
    )
    opened = registry.open_version(
        request,
        model_name="unregistered",
        correlation_id="acme-unregistered-1",
        execution_arn=None,
        artifacts_bucket=bucket,
    )
    return registry.mark_registration_failed(
        "acme",
        "unregistered",
        opened.version,
        correlation_id=opened.correlation_id,
        error="Maas.Conflict",
        cause="SageMaker refused",
        approval_status=ApprovalStatus.APPROVED,
    )


def test_another_tenants_version_cannot_be_registered_again(
    runtime: LocalRuntime, api: ApiCaller, failed_registration: ModelVersionRecord
) -> None:
    before = started_packagings(runtime)
    path = f"/v1/models/unregistered/versions/{failed_registration.version}/registration"

    refused = api("POST", path, tenant="globex")

    # Exactly what a version that does not exist answers.
    assert refused.status == 404, refused.body
    assert refused.body["detail"] == (
        f"model: no version {failed_registration.version} of model 'unregistered' for this tenant"
    )
    assert started_packagings(runtime) == before
    kept = api("GET", f"/v1/models/unregistered/versions/{failed_registration.version}")
    assert ModelVersionRecord.model_validate(kept.body) == failed_registration


def test_only_a_version_whose_registration_failed_is_registered_again(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    registry = ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    request = PackagingRequest.model_validate(packaging_request(model_name="busy"))
    opened = registry.open_version(
        request,
        model_name="busy",
        correlation_id="c-1",
        execution_arn=None,
        artifacts_bucket=bucket,
    )

    refused = api("POST", f"/v1/models/busy/versions/{opened.version}/registration")

    assert refused.status == 409, refused.body
    assert "PACKAGING" in refused.body["detail"]
