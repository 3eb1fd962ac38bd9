"""/v1/evalgen/sessions and a version's assertions: grade, align, choose, store, read back.

The model version and the evaluation are written as their workflows leave them (a
registered version; an evaluation record with its job document and shard results in S3),
rather than by running the workflows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from maas.evaluation.outcome import ShardJudging, judging_uri
from maas.evaluation.plan import EvaluationJob, evaluation_prefix
from maas.evaluation.records import PipelineAnswer, QuestionRecord, ScoredSample
from maas.evaluation.store import EvaluationStore
from schemas.evaluation import (
    EvaluationRecord,
    EvaluationSpec,
    EvaluationStatus,
    ReviewGrade,
    ReviewState,
)
from schemas.pipeline import PipelineSpec
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import ApiCaller

MODEL = "evalgen-chat"
TASK = "Answer a bookstore customer's policy question in at most 8 words, without refusing."
OUTPUTS = [
    {"id": "o1", "input": "Returns?", "output": "Within 30 days.", "reference": "30 days."},
    {"id": "o2", "input": "Shipping?", "output": "Free over $35, sent within two days."},
    {"id": "o3", "input": "Gift cards?", "output": "I cannot help with that, sorry."},
    {"id": "o4", "input": "E-books?", "output": "E-books cannot be returned once opened."},
]
GRADES = {"o1": "up", "o2": "down", "o3": "down", "o4": "up"}
CRITERIA = {
    "criteria": [
        {
            "name": "concise",
            "description": "At most 8 words.",
            "assertions": [{"kind": "max_words", "limit": 8}, {"kind": "max_words", "limit": 3}],
        },
        {
            "name": "answers",
            "description": "Does not refuse.",
            "assertions": [{"kind": "no_refusal"}],
        },
    ]
}


@pytest.fixture(scope="module")
def version(runtime: LocalRuntime) -> int:
    return int(register_version(runtime, MODEL).version)


def evaluation(
    runtime: LocalRuntime, evaluation_id: str, status: EvaluationStatus = EvaluationStatus.PASSED
) -> EvaluationRecord:
    """An evaluation of three questions whose review graded q3 down and q2 up, as the
    workflow leaves it: the record, the job document and one shard's results."""
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    prefix = evaluation_prefix(bucket, "acme", evaluation_id)
    job = EvaluationJob(
        tenant_id="acme",
        evaluation_id=evaluation_id,
        endpoint_name="chat",
        sagemaker_endpoint_name="acme-chat-c7bee5eb",
        model_id=MODEL,
        model_version="1",
        pipeline=PipelineSpec(),
        metrics=["rouge"],
        judge=None,
        shard_uris=[f"{prefix}shards/0000.jsonl"],
    )
    samples = [
        ScoredSample(
            question=QuestionRecord(id=f"q{n}", question=f"Question {n}?", reference=f"Ref {n}."),
            answer=PipelineAnswer(answer=f"Answer {n}."),
            scores={"rouge": 0.5},
        )
        for n in (1, 2, 3)
    ]
    s3 = runtime.client("s3")
    results = job.results_uri(0)
    for uri, text in (
        (f"{prefix}job.json", job.model_dump_json()),
        (results, "".join(sample.model_dump_json() + "\n" for sample in samples)),
        (judging_uri(results), ShardJudging().model_dump_json()),
    ):
        s3.put_object(Bucket=bucket, Key=uri.removeprefix(f"s3://{bucket}/"), Body=text.encode())
    now = datetime.now(UTC)
    record = EvaluationRecord(
        tenant_id="acme",
        evaluation_id=evaluation_id,
        status=status,
        correlation_id=evaluation_id,
        endpoint_name="chat",
        model_id=MODEL,
        model_version="1",
        spec=EvaluationSpec(endpoint_name="chat", question_set_uri=f"s3://{bucket}/q.jsonl"),
        questions=3,
        shards=1,
        review=ReviewState(
            question_ids=["q3", "q2"],
            grades=[
                ReviewGrade(question_id="q3", grade="down", note="vague"),
                ReviewGrade(question_id="q2", grade="up"),
            ],
        ),
        created_at=now,
        updated_at=now,
    )
    store = EvaluationStore(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    return store.create(record)


def begin(api: ApiCaller, name: str, **body: Any) -> Any:
    return api("POST", "/v1/evalgen/sessions", body={"name": name, "task": TASK, **body})


def graded_session(api: ApiCaller, name: str) -> None:
    assert begin(api, name, outputs=OUTPUTS).status == 201
    for output_id, grade in GRADES.items():
        answer = api(
            "POST",
            f"/v1/evalgen/sessions/{name}/grades",
            body={"output_id": output_id, "grade": grade},
        )
        assert answer.status == 201, answer.body


def test_grades_choose_the_assertions_stored_with_the_version(
    api: ApiCaller, runtime: LocalRuntime, version: int
) -> None:
    evaluation(runtime, "eval-listed")
    created = begin(api, "support-v1", outputs=OUTPUTS)
    again = begin(api, "support-v1", outputs=OUTPUTS[:2])
    first = api(
        "POST", "/v1/evalgen/sessions/support-v1/grades", body={"output_id": "o1", "grade": "up"}
    )
    ungraded = api("GET", "/v1/evalgen/sessions/support-v1/outputs?ungraded=true&limit=2")

    assert created.status == 201, created.body
    assert created.headers["location"] == "/v1/evalgen/sessions/support-v1"
    assert (created.body["outputs"], created.body["graded"], created.body["task"]) == (4, 0, TASK)
    assert again.status == 200
    assert again.body["outputs"] == 4
    assert first.body["output_id"] == "o1" and first.body["grade"] == "up"
    assert [output["id"] for output in ungraded.body["items"]] == ["o2", "o3"]
    following = api(
        "GET",
        "/v1/evalgen/sessions/support-v1/outputs?ungraded=true&next_token="
        + ungraded.body["next_token"],
    )
    assert [output["id"] for output in following.body["items"]] == ["o4"]

    for output_id in ("o2", "o3", "o4"):
        grade = {"output_id": output_id, "grade": GRADES[output_id], "note": "by hand"}
        api("POST", "/v1/evalgen/sessions/support-v1/grades", body=grade)
    criteria = api("PUT", "/v1/evalgen/sessions/support-v1/criteria", body=CRITERIA)
    selection = api("POST", "/v1/evalgen/sessions/support-v1/selection")
    described = api("GET", "/v1/evalgen/sessions/support-v1")

    assert criteria.status == 200, criteria.body
    assert [entry["criterion"]["name"] for entry in criteria.body["criteria"]] == [
        "concise",
        "answers",
    ]
    assert selection.status == 200, selection.body
    # Every output has at most 8 words, so that limit catches nothing; 3 words catches both
    # thumbs-down outputs and fails one thumbs-up; only o3 refuses.
    chosen = {e["criterion"]["name"]: e["chosen"] for e in selection.body["criteria"]}
    assert chosen["concise"]["label"] == "code:max_words(limit=3)"
    assert round(chosen["concise"]["figures"]["alignment"], 3) == 0.667
    assert chosen["answers"]["label"] == "code:no_refusal()"
    figures = selection.body["assertion_set"]["figures"]
    assert (figures["coverage"], figures["false_failure_rate"]) == (1.0, 0.5)
    counts = {key: described.body[key] for key in ("outputs", "graded", "up", "down", "ungraded")}
    assert counts == {"outputs": 4, "graded": 4, "up": 2, "down": 2, "ungraded": 0}
    assert described.body["selection"] == selection.body

    path = f"/v1/models/{MODEL}/versions/{version}/assertions"
    stored = api("PUT", path, body={"session": "support-v1"})
    read = api("GET", path)

    assert stored.status == 200, stored.body
    assert stored.body["assertion_set"] == selection.body["assertion_set"]
    assert read.body == stored.body
    # The items beside the versions and evaluations are met by neither listing.
    listed = api("GET", "/v1/evalgen/sessions").body["items"]
    assert "support-v1" in [item["name"] for item in listed]
    versions = api("GET", f"/v1/models/{MODEL}/versions").body["items"]
    assert [item["version"] for item in versions] == [version]
    evaluations = api("GET", "/v1/evaluations")
    assert evaluations.status == 200
    assert "eval-listed" in [item["evaluation_id"] for item in evaluations.body["items"]]


def test_a_set_chosen_elsewhere_is_stored_as_sent(api: ApiCaller, version: int) -> None:
    graded_session(api, "elsewhere")
    api("PUT", "/v1/evalgen/sessions/elsewhere/criteria", body=CRITERIA)
    chosen = api("POST", "/v1/evalgen/sessions/elsewhere/selection").body["assertion_set"]

    path = f"/v1/models/{MODEL}/versions/{version}/assertions"
    stored = api("PUT", path, body={"assertion_set": chosen})

    assert stored.status == 200, stored.body
    assert stored.body["assertion_set"] == chosen
    assert api("GET", path).body["assertion_set"] == chosen


def test_an_evaluations_answers_come_with_its_reviews_grades(
    api: ApiCaller, runtime: LocalRuntime
) -> None:
    evaluation(runtime, "eval-reviewed")

    created = begin(api, "from-eval", evaluation_id="eval-reviewed")
    outputs = api("GET", "/v1/evalgen/sessions/from-eval/outputs").body["items"]
    again = begin(api, "from-eval", evaluation_id="eval-reviewed")

    assert created.status == 201, created.body
    body = created.body
    assert (body["outputs"], body["graded"], body["up"], body["down"]) == (3, 2, 1, 1)
    # The reviewed answers first, in the order the review asked; the question is the input.
    assert [output["id"] for output in outputs] == ["q3", "q2", "q1"]
    assert outputs[0] == {
        "id": "q3",
        "input": "Question 3?",
        "output": "Answer 3.",
        "reference": "Ref 3.",
    }
    # Sent again: nothing new, and the review's grades are not given twice.
    assert again.status == 200
    assert again.body["graded"] == 2


def test_a_running_evaluation_has_no_answers_to_grade_yet(
    api: ApiCaller, runtime: LocalRuntime
) -> None:
    evaluation(runtime, "eval-running", EvaluationStatus.RUNNING)

    answer = begin(api, "too-early", evaluation_id="eval-running")

    assert answer.status == 409
    assert "'eval-running' is Running" in answer.body["detail"]
    assert api("GET", "/v1/evalgen/sessions/too-early").status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outputs": OUTPUTS, "evaluation_id": "eval-x"}, "body"),
        ({}, "body"),
        ({"outputs": [OUTPUTS[0], OUTPUTS[0]]}, "body"),
        ({"outputs": [{"id": "o1", "input": "q"}]}, "outputs.0.output"),
        ({"outputs": OUTPUTS, "name": "../up"}, "name"),
    ],
)
def test_a_bad_session_body_is_a_422_naming_the_field(
    api: ApiCaller, body: dict[str, Any], field: str
) -> None:
    answer = api("POST", "/v1/evalgen/sessions", body={"name": "bad", "task": TASK, **body})

    assert answer.status == 422, answer.body
    assert field in answer.problem_fields


def test_the_same_session_with_other_outputs_or_task_is_a_409(api: ApiCaller) -> None:
    begin(api, "fixed", outputs=OUTPUTS)

    other_text = begin(api, "fixed", outputs=[{**OUTPUTS[0], "output": "Never."}])
    other_task = api(
        "POST",
        "/v1/evalgen/sessions",
        body={"name": "fixed", "task": "Write a poem.", "outputs": OUTPUTS},
    )

    assert other_text.status == 409
    assert other_text.body["detail"] == (
        "session 'fixed': output 'o1' is already held with other text"
    )
    assert other_task.status == 409
    assert "grades for another task" in other_task.body["detail"]


def test_what_does_not_exist_is_a_404(api: ApiCaller, version: int) -> None:
    begin(api, "known", outputs=OUTPUTS)

    no_evaluation = begin(api, "unknown-eval", evaluation_id="eval-nope")
    no_session = api("GET", "/v1/evalgen/sessions/nope")
    no_output = api(
        "POST", "/v1/evalgen/sessions/known/grades", body={"output_id": "o9", "grade": "up"}
    )
    no_version = api("PUT", f"/v1/models/{MODEL}/versions/99/assertions", body={"session": "known"})
    no_set = api("GET", f"/v1/models/{MODEL}-none/versions/1/assertions")

    assert no_evaluation.status == 404
    assert "no evaluation 'eval-nope'" in no_evaluation.body["detail"]
    assert no_session.status == 404
    assert no_output.status == 404
    assert no_output.body["error_name"] == "Maas.UnknownOutput"
    assert no_output.body["detail"] == "session 'known': no output 'o9'"
    assert no_version.status == 404
    assert no_set.status == 404


def test_an_unknown_kind_or_a_bad_parameter_is_a_422_naming_it(api: ApiCaller) -> None:
    begin(api, "kinds", outputs=OUTPUTS)

    def criteria(assertion: dict[str, Any]) -> Any:
        body = {
            "criteria": [{"name": "concise", "description": "Short.", "assertions": [assertion]}]
        }
        return api("PUT", "/v1/evalgen/sessions/kinds/criteria", body=body)

    unknown = criteria({"kind": "run_python", "code": "print(1)"})
    bad = criteria({"kind": "max_words", "limit": 0})
    regex = criteria({"kind": "matches_regex", "pattern": "("})

    assert unknown.status == 422
    assert "run_python" in unknown.body["detail"]
    assert bad.status == 422
    assert "criteria.0.assertions.0.max_words.limit" in bad.problem_fields
    assert regex.status == 422
    assert "not a regular expression" in regex.body["detail"]


def test_selection_waits_for_criteria_and_grades_and_storing_for_a_selection(
    api: ApiCaller, version: int
) -> None:
    begin(api, "waiting", outputs=OUTPUTS)

    no_criteria = api("POST", "/v1/evalgen/sessions/waiting/selection")
    api("PUT", "/v1/evalgen/sessions/waiting/criteria", body=CRITERIA)
    no_grades = api("POST", "/v1/evalgen/sessions/waiting/selection")
    no_selection = api(
        "PUT", f"/v1/models/{MODEL}/versions/{version}/assertions", body={"session": "waiting"}
    )

    assert no_criteria.status == 409
    assert no_criteria.body["detail"] == "session 'waiting': no criteria to select for"
    assert no_grades.status == 409
    assert "(have 0 up, 0 down)" in no_grades.body["detail"]
    assert no_selection.status == 409
    assert no_selection.body["detail"] == "session 'waiting': no selection yet"
