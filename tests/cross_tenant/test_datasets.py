"""Two tenants' datasets, against the API served over HTTP as ``maas local up`` serves it.

``acme`` and ``globex`` each hold a token. ``globex`` names ``acme``'s dataset in every
operation, names ``acme``'s folder as a source, and uses its own session directly against
``acme``'s objects and records: each is answered as something that does not exist (404), or
refused by IAM (AccessDenied), and ``acme``'s dataset is the same afterwards.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from maas.datasets import dataset_folder, object_key
from maas.dynamodb import key
from maas.local import LocalRuntime
from maas.tenancy import TenantSessions
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from tests.cross_tenant.conftest import Tenant

QUESTIONS = [
    {"id": "q1", "question": "How long is the warranty?", "reference": "Two years."},
    {"id": "q2", "question": "Can I return an item?", "reference": "Within thirty days."},
]
PAIRS = [{"prompt": "2+2?", "chosen": "4", "rejected": "5"}]


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(FAST) as local:
        yield local


@pytest.fixture(scope="module")
def acme_only(tenants: dict[str, Tenant]) -> dict[str, Any]:
    """acme's dataset ``only-acme`` (version 1), which globex has no name for."""
    created = tenants["acme"](
        "POST", "/v1/datasets", {"name": "only-acme", "kind": "question_set", "rows": QUESTIONS}
    )
    assert created.status_code == 201, created.text
    version: dict[str, Any] = created.json()
    return version


def _state(runtime: LocalRuntime, tenant: str, name: str) -> tuple[list[str], list[str]]:
    """The dataset's objects and record keys, read with the runtime's own credentials."""
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    listed = runtime.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=dataset_folder(tenant, name)
    )
    items = runtime.client("dynamodb").query(
        TableName=runtime.resources.tables["ModelsTable"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant}"}},
    )["Items"]
    records = [
        item["sk"]["S"]
        for item in items
        if item["sk"]["S"] == f"DATASET#{name}"
        or item["sk"]["S"].startswith(f"DATASETVERSION#{name}#")
    ]
    return sorted(item["Key"] for item in listed.get("Contents", [])), sorted(records)


def test_both_tenants_keep_a_dataset_of_the_same_name_apart(
    runtime: LocalRuntime, tenants: dict[str, Tenant]
) -> None:
    acme = tenants["acme"](
        "POST", "/v1/datasets", {"name": "shared", "kind": "question_set", "rows": QUESTIONS}
    )
    globex = tenants["globex"](
        "POST", "/v1/datasets", {"name": "shared", "kind": "preference", "rows": PAIRS}
    )

    assert (acme.status_code, globex.status_code) == (201, 201), globex.text
    assert acme.json()["uri"] != globex.json()["uri"]
    assert "/globex/_datasets/shared/" in globex.json()["uri"]
    for tenant, kind in (("acme", "question_set"), ("globex", "preference")):
        described = tenants[tenant]("GET", "/v1/datasets/shared").json()
        assert (described["tenant_id"], described["kind"]) == (tenant, kind)
    # globex deleting its own leaves acme's whole.
    before = _state(runtime, "acme", "shared")
    assert tenants["globex"]("DELETE", "/v1/datasets/shared").status_code == 200
    assert _state(runtime, "globex", "shared") == ([], [])
    assert _state(runtime, "acme", "shared") == before
    assert tenants["acme"]("GET", "/v1/datasets/shared").json()["status"] == "ACTIVE"


#: What globex tries on acme's ``only-acme``: (method, path with {name}, body).
ATTEMPTS: list[tuple[str, str, Any]] = [
    ("GET", "/v1/datasets/{name}", None),
    ("DELETE", "/v1/datasets/{name}", None),
    ("GET", "/v1/datasets/{name}/versions", None),
    ("GET", "/v1/datasets/{name}/versions/1", None),
    ("POST", "/v1/datasets/{name}/versions", {"rows": QUESTIONS[:1]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ATTEMPTS)
def test_another_tenants_dataset_answers_exactly_as_a_missing_one(  # noqa: PLR0917 - fixtures
    runtime: LocalRuntime,
    tenants: dict[str, Tenant],
    acme_only: dict[str, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    before = _state(runtime, "acme", "only-acme")
    theirs = tenants["globex"](method, path.format(name="only-acme"), body)
    missing = tenants["globex"](method, path.format(name="never-was"), body)

    assert theirs.status_code == missing.status_code == 404
    assert _comparable(theirs.json(), "only-acme") == _comparable(missing.json(), "never-was")
    assert _state(runtime, "acme", "only-acme") == before
    assert tenants["acme"]("GET", "/v1/datasets/only-acme/versions/1").json() == acme_only


def test_another_tenants_dataset_is_not_in_the_list(
    tenants: dict[str, Tenant], acme_only: dict[str, Any]
) -> None:
    names = [item["name"] for item in tenants["globex"]("GET", "/v1/datasets").json()["items"]]

    assert "only-acme" not in names


def test_another_tenants_folder_as_a_source_answers_as_an_empty_one(
    runtime: LocalRuntime, tenants: dict[str, Tenant], acme_only: dict[str, Any]
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    runtime.client("s3").put_object(
        Bucket=bucket,
        Key="acme/private/qa.jsonl",
        Body=b'{"id":"s","question":"?","reference":"!"}',
    )

    def create(prefix: str) -> httpx.Response:
        return tenants["globex"](
            "POST",
            "/v1/datasets",
            {"name": "borrowed", "kind": "question_set", "source_uri": f"s3://{bucket}/{prefix}"},
        )

    for prefix in ("acme/private/", "acme/_datasets/only-acme/", "globex/../acme/private/"):
        theirs, missing = create(prefix), create("globex/never-was/")
        assert theirs.status_code == missing.status_code == 404, theirs.text
        assert theirs.json()["detail"].replace(prefix, "<p>") == missing.json()["detail"].replace(
            "globex/never-was/", "<p>"
        )
    assert tenants["globex"]("GET", "/v1/datasets/borrowed").status_code == 404
    assert _state(runtime, "globex", "borrowed") == ([], [])


def test_a_source_outside_the_artifacts_bucket_is_refused_by_iam_as_a_403(
    runtime: LocalRuntime, tenants: dict[str, Tenant]
) -> None:
    s3 = runtime.client("s3")
    s3.create_bucket(Bucket="someone-elses-bucket")
    s3.put_object(Bucket="someone-elses-bucket", Key="qa.jsonl", Body=b"{}")

    answer = tenants["globex"](
        "POST",
        "/v1/datasets",
        {"name": "outside", "kind": "question_set", "source_uri": "s3://someone-elses-bucket/"},
    )

    assert answer.status_code == 403, answer.text
    assert answer.json()["error_name"] == "Maas.SourceAccessDenied"


@pytest.mark.parametrize(
    "attempt",
    ["put object", "delete object", "list folder", "delete record", "read record"],
)
def test_iam_holds_a_tenants_session_to_its_own_datasets(
    runtime: LocalRuntime, acme_only: dict[str, Any], attempt: str
) -> None:
    """Were a route to forget a check, globex's session itself could not reach acme's."""
    session = TenantSessions(
        runtime.resources.roles["TenantAccessRole"], runtime.client("sts")
    ).for_tenant("globex")
    s3, dynamodb = session.client("s3"), session.client("dynamodb")
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    table = runtime.resources.tables["ModelsTable"]
    acme_object = object_key("acme", "only-acme", acme_only["sha256"])
    acme_record = key("TENANT#acme", "DATASET#only-acme")
    calls = {
        "put object": lambda: s3.put_object(Bucket=bucket, Key=acme_object, Body=b"x"),
        "delete object": lambda: s3.delete_object(Bucket=bucket, Key=acme_object),
        "list folder": lambda: s3.list_objects_v2(
            Bucket=bucket, Prefix=dataset_folder("acme", "only-acme")
        ),
        "delete record": lambda: dynamodb.delete_item(TableName=table, Key=acme_record),
        "read record": lambda: dynamodb.get_item(TableName=table, Key=acme_record),
    }
    before = _state(runtime, "acme", "only-acme")

    with pytest.raises(ClientError) as refused:
        calls[attempt]()

    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
    assert _state(runtime, "acme", "only-acme") == before


def _comparable(problem: dict[str, Any], name: str) -> dict[str, Any]:
    """A problem body without what differs between two requests: the name and request id."""
    return {
        field: re.sub(re.escape(name), "<name>", value) if isinstance(value, str) else value
        for field, value in problem.items()
        if field not in ("request_id", "instance")
    }
