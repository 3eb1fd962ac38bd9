"""/v1/datasets on the local runtime: create, versions, list, get, delete, as the tenant.

The API function acts through the tenant's session, whose calls the local runtime checks
against the tenant access role's synthesized statements: a write outside the tenant's folder
or partition would fail here as on AWS.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.datasets import dataset_folder
from tests.local.support import wait_until
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import ApiCaller

QUESTIONS = [
    {"id": "q1", "question": "How long is the warranty?", "reference": "Two years."},
    {"id": "q2", "question": "Can I return an item?", "reference": "Within thirty days."},
]
CHAT = [
    {
        "messages": [
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi! How can I help?"},
        ]
    }
]


def _canonical(rows: list[dict[str, Any]], defaults: dict[str, Any]) -> bytes:
    """The JSONL a version stores: each row compact, in its schema's field order."""
    return b"".join(
        json.dumps({**row, **defaults}, separators=(",", ":")).encode() + b"\n" for row in rows
    )


def _objects(runtime: LocalRuntime, tenant: str, name: str) -> list[str]:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    listed = runtime.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=dataset_folder(tenant, name)
    )
    return [item["Key"] for item in listed.get("Contents", [])]


def _records(runtime: LocalRuntime, tenant: str, name: str) -> list[str]:
    table = runtime.resources.tables["ModelsTable"]
    items = runtime.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant}"}},
    )["Items"]
    return [
        item["sk"]["S"]
        for item in items
        if item["sk"]["S"] in (f"DATASET#{name}",)
        or item["sk"]["S"].startswith(f"DATASETVERSION#{name}#")
    ]


def test_a_dataset_is_created_with_its_first_version_content_addressed(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    answer = api(
        "POST",
        "/v1/datasets",
        body={"name": "support-qa", "kind": "question_set", "rows": QUESTIONS},
    )

    assert answer.status == 201, answer.body
    assert answer.headers["location"] == "/v1/datasets/support-qa"
    version = answer.body
    body = _canonical(QUESTIONS, {"reference_contexts": []})
    assert version["version"] == 1
    assert version["rows"] == 2
    assert version["sha256"] == hashlib.sha256(body).hexdigest()
    assert version["source"] == {"type": "upload", "uri": None, "objects": []}
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    key = f"acme/_datasets/support-qa/{version['sha256']}.jsonl"
    assert version["uri"] == f"s3://{bucket}/{key}"
    stored = runtime.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == body
    described = api("GET", "/v1/datasets/support-qa").body
    assert described["status"] == "ACTIVE"
    assert described["latest_version"] == 1
    assert described["kind"] == "question_set"


def test_the_same_create_again_answers_the_version_and_another_is_a_conflict(
    api: ApiCaller,
) -> None:
    body = {"name": "retry-qa", "kind": "question_set", "rows": QUESTIONS}
    first = api("POST", "/v1/datasets", body=body)
    again = api("POST", "/v1/datasets", body=body)
    other = api("POST", "/v1/datasets", body={**body, "rows": QUESTIONS[:1]})

    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert other.status == 409, other.body
    assert "POST /v1/datasets/retry-qa/versions" in other.body["detail"]


def test_versions_are_numbered_and_the_same_rows_answer_the_version_holding_them(
    api: ApiCaller,
) -> None:
    api("POST", "/v1/datasets", body={"name": "growing", "kind": "chat", "rows": CHAT})
    more = [*CHAT, {"messages": [CHAT[0]["messages"][1], CHAT[0]["messages"][2]]}]

    second = api("POST", "/v1/datasets/growing/versions", body={"rows": more})
    # The same rows, spaced and ordered otherwise, are the same content.
    repeated = api(
        "POST",
        "/v1/datasets/growing/versions",
        raw_body=json.dumps({"rows": json.loads(json.dumps(more)), "description": "again"}),
    )

    assert second.status == 201, second.body
    assert second.headers["location"] == "/v1/datasets/growing/versions/2"
    assert repeated.status == 200
    assert repeated.body["version"] == 2
    versions = api("GET", "/v1/datasets/growing/versions").body["items"]
    assert [item["version"] for item in versions] == [1, 2]
    assert versions[0]["sha256"] != versions[1]["sha256"]
    assert api("GET", "/v1/datasets/growing").body["latest_version"] == 2
    assert api("GET", "/v1/datasets/growing/versions/2").body == second.body


def test_bad_rows_are_a_422_naming_each_row_and_nothing_is_written(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    rows: list[Any] = [
        QUESTIONS[0],
        {"id": "q2", "question": "Shipping?"},
        "not an object",
        {**QUESTIONS[1], "id": "q1"},
        {"id": "q5", "question": "How long is the  WARRANTY?", "reference": "2y"},
        {**QUESTIONS[1], "answer": "typo"},
    ]
    answer = api(
        "POST", "/v1/datasets", body={"name": "bad-qa", "kind": "question_set", "rows": rows}
    )

    assert answer.status == 422, answer.body
    assert answer.body["errors"] == [
        {"field": "rows", "message": "row 2: reference: Field required"},
        {"field": "rows", "message": "row 3: not a JSON object but a string"},
        {"field": "rows", "message": "row 4: duplicate of row 1 (the same id)"},
        {"field": "rows", "message": "row 5: duplicate of row 1 (the same question)"},
        {"field": "rows", "message": "row 6: answer: Extra inputs are not permitted"},
    ]
    assert api("GET", "/v1/datasets/bad-qa").status == 404
    assert _objects(runtime, "acme", "bad-qa") == []
    assert _records(runtime, "acme", "bad-qa") == []


@pytest.mark.parametrize(
    ("kind", "rows", "message"),
    [
        ("corpus", [{"id": "d1"}], "row 1: text: Field required"),
        (
            "chat",
            [{"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "?"}]}],
            "row 1: messages.1: a user message where a assistant one belongs",
        ),
        (
            "preference",
            [{"prompt": "Hi", "chosen": "Hello!", "rejected": "hello! "}],
            "row 1: rejected: the same answer as chosen",
        ),
    ],
)
def test_each_kind_validates_its_own_schema(
    api: ApiCaller, kind: str, rows: list[Any], message: str
) -> None:
    answer = api("POST", "/v1/datasets", body={"name": f"bad-{kind}", "kind": kind, "rows": rows})

    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["message"].startswith(message)


def test_a_version_of_another_kinds_rows_is_refused(api: ApiCaller) -> None:
    api(
        "POST",
        "/v1/datasets",
        body={
            "name": "pairs",
            "kind": "preference",
            "rows": [{"prompt": "2+2?", "chosen": "4", "rejected": "5"}],
        },
    )

    answer = api("POST", "/v1/datasets/pairs/versions", body={"rows": QUESTIONS})

    assert answer.status == 422
    assert answer.body["errors"][0]["message"].startswith("row 1: prompt: Field required")


def test_a_version_is_read_from_an_s3_prefix_of_the_tenants_own(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    s3 = runtime.client("s3")
    s3.put_object(
        Bucket=bucket, Key="acme/corpus/part-0.jsonl", Body=b'{"id": "a", "text": "Alpha."}\n'
    )
    s3.put_object(
        Bucket=bucket,
        Key="acme/corpus/part-1.jsonl",
        Body=b'{"id": "b", "text": "Beta."}\n\n{"id": "c", "text": "Gamma.", "title": "G"}\n',
    )

    answer = api(
        "POST",
        "/v1/datasets",
        body={"name": "kb", "kind": "corpus", "source_uri": f"s3://{bucket}/acme/corpus/"},
    )

    assert answer.status == 201, answer.body
    assert answer.body["rows"] == 3
    assert answer.body["source"]["uri"] == f"s3://{bucket}/acme/corpus/"
    assert [item["key"] for item in answer.body["source"]["objects"]] == [
        "acme/corpus/part-0.jsonl",
        "acme/corpus/part-1.jsonl",
    ]


def test_a_bad_line_of_a_source_is_named_by_its_object_and_line(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    runtime.client("s3").put_object(
        Bucket=bucket,
        Key="acme/broken/qa.jsonl",
        Body=json.dumps(QUESTIONS[0]).encode() + b"\n\n{not json\n",
    )

    answer = api(
        "POST",
        "/v1/datasets",
        body={
            "name": "broken",
            "kind": "question_set",
            "source_uri": f"s3://{bucket}/acme/broken/",
        },
    )

    assert answer.status == 422, answer.body
    assert answer.body["errors"] == [
        {
            "field": "source_uri",
            "message": f"s3://{bucket}/acme/broken/qa.jsonl line 3: not JSON "
            "(Expecting property name enclosed in double quotes at column 2)",
        }
    ]


def test_an_empty_prefix_is_a_404(runtime: LocalRuntime, api: ApiCaller) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    answer = api(
        "POST",
        "/v1/datasets",
        body={"name": "nothing", "kind": "corpus", "source_uri": f"s3://{bucket}/acme/none/"},
    )

    assert answer.status == 404
    assert answer.body["detail"] == f"source_uri: no objects under s3://{bucket}/acme/none/"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "corpus"}, "body"),
        ({"name": "x", "kind": "corpus", "rows": [], "source_uri": "s3://bucket/acme/"}, "body"),
        ({"name": "Not_A_Name", "kind": "corpus", "rows": []}, "name"),
        ({"name": "x", "kind": "images", "rows": []}, "kind"),
        ({"name": "x", "kind": "corpus", "rows": []}, "rows"),
    ],
)
def test_a_malformed_request_is_a_422_naming_the_field(
    api: ApiCaller, body: dict[str, Any], field: str
) -> None:
    answer = api("POST", "/v1/datasets", body=body)

    assert answer.status == 422, answer.body
    assert field in answer.problem_fields


def test_a_row_json_can_spell_but_not_encode_is_a_422_not_a_fault(api: ApiCaller) -> None:
    body = '{"name": "surrogate", "kind": "corpus", "rows": [{"id": "a", "text": "\\ud800"}]}'

    answer = api("POST", "/v1/datasets", raw_body=body)

    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["message"].startswith("row 1: text: Input should be a valid")


def test_a_delete_removes_every_object_and_record(runtime: LocalRuntime, api: ApiCaller) -> None:
    api("POST", "/v1/datasets", body={"name": "gone", "kind": "chat", "rows": CHAT})
    api(
        "POST",
        "/v1/datasets/gone/versions",
        body={
            "rows": [
                *CHAT,
                {
                    "messages": [
                        {"role": "user", "content": "2+2?"},
                        {"role": "assistant", "content": "4"},
                    ]
                },
            ]
        },
    )
    # An object left in the folder by a writer that died before its record: a delete takes it.
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    runtime.client("s3").put_object(
        Bucket=bucket, Key=f"{dataset_folder('acme', 'gone')}{'0' * 64}.jsonl", Body=b"{}\n"
    )
    assert len(_objects(runtime, "acme", "gone")) == 3

    deleted = api("DELETE", "/v1/datasets/gone")

    assert deleted.status == 200, deleted.body
    assert deleted.body == {"name": "gone", "versions": 2, "objects": 3}
    assert _objects(runtime, "acme", "gone") == []
    assert _records(runtime, "acme", "gone") == []
    assert api("GET", "/v1/datasets/gone").status == 404
    assert api("DELETE", "/v1/datasets/gone").status == 404
    # The name is free again.
    assert (
        api("POST", "/v1/datasets", body={"name": "gone", "kind": "chat", "rows": CHAT}).status
        == 201
    )


def test_the_list_is_the_tenants_datasets_by_name_in_pages(api: ApiCaller) -> None:
    for name in ("page-a", "page-b", "page-c"):
        api("POST", "/v1/datasets", body={"name": name, "kind": "chat", "rows": CHAT})

    first = api("GET", "/v1/datasets?limit=2").body
    names = [item["name"] for item in first["items"]]
    rest = api("GET", f"/v1/datasets?limit=100&next_token={first['next_token']}").body
    names += [item["name"] for item in rest["items"]]

    assert names == sorted(names)
    assert {"page-a", "page-b", "page-c"} <= set(names)
    assert all(item["tenant_id"] == "acme" for item in first["items"] + rest["items"])


def test_an_unknown_dataset_or_version_is_a_404(api: ApiCaller) -> None:
    api("POST", "/v1/datasets", body={"name": "one-version", "kind": "chat", "rows": CHAT})

    assert api("GET", "/v1/datasets/never").status == 404
    assert api("GET", "/v1/datasets/never/versions").status == 404
    assert api("POST", "/v1/datasets/never/versions", body={"rows": CHAT}).status == 404
    missing = api("GET", "/v1/datasets/one-version/versions/2")
    assert missing.status == 404
    assert missing.body["detail"] == "version: no version 2 of dataset 'one-version'"


@pytest.fixture(scope="module")
def evaluated_endpoint(runtime: LocalRuntime, api: ApiCaller) -> str:
    """An endpoint in service to evaluate (a placeholder model: planning is what is tested)."""
    register_version(runtime, "dataset-eval-model")
    deployed = api(
        "POST",
        "/v1/endpoints",
        body={
            "endpoint_name": "judged",
            "model": {"model_name": "dataset-eval-model", "version": 1},
        },
    )
    assert deployed.status == 202, deployed.body
    wait_until(
        lambda: api("GET", "/v1/endpoints/judged").body.get("status") == "IN_SERVICE",
        timeout=60,
        interval=0.5,
    )
    return "judged"


@pytest.mark.parametrize(
    ("dataset", "status", "detail"),
    [
        ({"name": "never", "version": 1}, 404, "dataset: no dataset 'never' for this tenant"),
        ({"name": "pairs-for-eval", "version": 1}, 422, "dataset: 'pairs-for-eval' holds"),
    ],
)
def test_an_evaluation_of_a_dataset_it_cannot_use_is_refused_at_the_door(  # noqa: PLR0917
    runtime: LocalRuntime,
    api: ApiCaller,
    evaluated_endpoint: str,
    dataset: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    api(
        "POST",
        "/v1/datasets",
        body={
            "name": "pairs-for-eval",
            "kind": "preference",
            "rows": [{"prompt": "2+2?", "chosen": "4", "rejected": "5"}],
        },
    )
    before = _executions(runtime)

    answer = api(
        "POST", "/v1/evaluations", body={"endpoint_name": evaluated_endpoint, "dataset": dataset}
    )

    assert answer.status == status, answer.body
    assert answer.body["detail"].startswith(detail)
    assert _executions(runtime) == before


def test_an_evaluation_asks_the_questions_of_a_dataset_version(
    api: ApiCaller, evaluated_endpoint: str
) -> None:
    api("POST", "/v1/datasets", body={"name": "eval-qa", "kind": "question_set", "rows": QUESTIONS})

    accepted = api(
        "POST",
        "/v1/evaluations",
        body={
            "endpoint_name": evaluated_endpoint,
            "dataset": {"name": "eval-qa", "version": 1},
            "metrics": ["exact_match"],
        },
    )

    assert accepted.status == 202, accepted.body
    evaluation = accepted.body["execution_name"]
    record = wait_until(
        lambda: (found := api("GET", f"/v1/evaluations/{evaluation}")).status == 200 and found.body,
        timeout=60,
        interval=0.5,
    )
    assert record["questions"] == len(QUESTIONS)
    assert record["spec"]["dataset"] == {"name": "eval-qa", "version": 1}


def _executions(runtime: LocalRuntime) -> int:
    stepfunctions = runtime.client("stepfunctions")
    return sum(
        len(stepfunctions.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"])
        for machine in stepfunctions.list_state_machines()["stateMachines"]
    )


def test_a_422_names_the_first_hundred_bad_rows_and_counts_the_rest(api: ApiCaller) -> None:
    rows = [{"id": f"d{number}"} for number in range(1, 131)]

    answer = api("POST", "/v1/datasets", body={"name": "many-bad", "kind": "corpus", "rows": rows})

    assert answer.status == 422
    messages = [error["message"] for error in answer.body["errors"]]
    assert messages[0] == "row 1: text: Field required"
    assert messages[99] == "row 100: text: Field required"
    assert messages[100:] == ["and 30 more invalid rows"]


def test_a_source_past_a_limit_says_which(runtime: LocalRuntime, api: ApiCaller) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    for number in range(101):
        runtime.client("s3").put_object(
            Bucket=bucket, Key=f"acme/too-many/{number:03d}.jsonl", Body=b"{}"
        )

    answer = api(
        "POST",
        "/v1/datasets",
        body={"name": "too-many", "kind": "corpus", "source_uri": f"s3://{bucket}/acme/too-many/"},
    )

    assert answer.status == 422
    assert answer.body["errors"] == [
        {
            "field": "source_uri",
            "message": f"more than 100 objects under s3://{bucket}/acme/too-many/: a version "
            "reads at most 100",
        }
    ]
