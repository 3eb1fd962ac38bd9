"""Grading sessions keep the same rules on disk and in the models table.

The rules (the latest grade counts, an id names one output, selection needs criteria and
both kinds of grade) are :class:`GradingSession`'s, whichever storage keeps the records; the
table's own concerns are the tenant's partition, keys other listings never meet, and two
writers adding the same output id at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.evaluation.evalgen import (
    Candidates,
    CodeImplementation,
    Criterion,
    EvalOutput,
    GradingSession,
    Thumb,
    validate_assertion,
)
from maas.evaluation.evalgen.session_table import SessionTable, TableSessionStorage
from maas.evaluation.store import EvaluationStore
from maas.exceptions import Conflict, NotFound
from maas.registry import ModelRegistry
from schemas import PackagingRequest
from tests.factories import ARTIFACTS_BUCKET, packaging_request

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

TASK = "Answer a bookstore customer's policy question in at most 8 words."
OUTPUTS = [
    EvalOutput(id="o1", input="Returns?", output="Within 30 days.", reference="30 days."),
    EvalOutput(id="o2", input="Shipping?", output="Free over $35, sent within two days."),
    EvalOutput(id="o3", input="Gift cards?", output="I cannot help with that, sorry."),
    EvalOutput(id="o4", input="E-books?", output="E-books cannot be returned once opened."),
]


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb")
    client.create_table(**table_arguments("models"))
    return client


@pytest.fixture(params=["file", "table"])
def new_session(
    request: pytest.FixtureRequest, tmp_path: Path, dynamodb: Any
) -> Callable[[str], GradingSession]:
    """A factory of sessions (one name, one place) in each storage in turn."""
    if request.param == "file":
        return lambda name: GradingSession.on_disk(tmp_path, name)
    return lambda name: SessionTable("models", dynamodb).session("acme", name)


def concise_and_answers() -> list[Candidates]:
    def code(kind: str, **params: Any) -> CodeImplementation:
        return CodeImplementation(assertion=validate_assertion(kind, params))

    return [
        Candidates(
            criterion=Criterion(name="concise", description="At most 8 words.", check="code"),
            implementations=(code("max_words", limit=8), code("max_words", limit=3)),
        ),
        Candidates(
            criterion=Criterion(name="answers", description="Does not refuse.", check="code"),
            implementations=(code("no_refusal"),),
        ),
    ]


def test_the_latest_grade_counts_and_outputs_keep_the_order_added(
    new_session: Callable[[str], GradingSession],
) -> None:
    session = new_session("s1")
    assert session.add_outputs(OUTPUTS[2:]) == 2
    assert session.add_outputs(OUTPUTS) == 2
    session.grade("o3", Thumb.UP)
    session.grade("o3", Thumb.DOWN, note="a refusal")

    again = new_session("s1")
    assert [output.id for output in again.outputs()] == ["o3", "o4", "o1", "o2"]
    assert again.latest_grades() == {"o3": False}
    assert [output.id for output in again.ungraded()] == ["o4", "o1", "o2"]
    assert [grade.note for grade in again.grades()] == [None, "a refusal"]


def test_an_output_id_cannot_be_reused_for_other_text(
    new_session: Callable[[str], GradingSession],
) -> None:
    session = new_session("s1")
    session.add_outputs(OUTPUTS[:1])
    changed = OUTPUTS[0].model_copy(update={"output": "Within 14 days."})

    with pytest.raises(Conflict, match="output 'o1' is already held with other text"):
        session.add_outputs([changed])
    assert new_session("s1").outputs() == OUTPUTS[:1]


def test_a_session_grades_for_one_task(new_session: Callable[[str], GradingSession]) -> None:
    session = new_session("s1")

    assert session.begin(TASK) is True
    assert new_session("s1").begin(TASK) is False
    with pytest.raises(Conflict, match="grades for another task"):
        new_session("s1").begin("Write a poem.")


def test_selection_is_kept_with_the_criteria_it_chose_from(
    new_session: Callable[[str], GradingSession],
) -> None:
    session = new_session("s1")
    session.begin(TASK)
    session.add_outputs(OUTPUTS)
    session.set_criteria(concise_and_answers())
    for output_id, thumb in (("o1", Thumb.UP), ("o2", Thumb.DOWN), ("o3", Thumb.DOWN)):
        session.grade(output_id, thumb)
    session.grade("o4", Thumb.UP)

    report = session.select()

    again = new_session("s1")
    status = again.status()
    assert (status.outputs, status.graded, status.up, status.down, status.ungraded) == (
        4, 4, 2, 2, 0,
    )  # fmt: skip
    assert status.task == TASK
    assert again.criteria() == concise_and_answers()
    assert status.selection == report
    assert again.chosen_set() == report.assertion_set
    # Every output has at most 8 words: that candidate catches nothing, the 3-word limit
    # catches both thumbs-down and fails one thumbs-up; only o3 refuses.
    assert [entry.chosen.label for entry in report.criteria] == [
        "code:max_words(limit=3)",
        "code:no_refusal()",
    ]
    figures = report.assertion_set.figures
    assert (figures.caught, figures.bad, figures.false_failures, figures.good) == (2, 2, 1, 2)


def test_selection_waits_for_a_task_criteria_and_both_kinds_of_grade(
    new_session: Callable[[str], GradingSession],
) -> None:
    session = new_session("s1")
    session.add_outputs(OUTPUTS)
    with pytest.raises(Conflict, match="no task given yet"):
        session.select()
    session.begin(TASK)
    with pytest.raises(Conflict, match="no criteria to select for"):
        session.select()
    session.set_criteria(concise_and_answers())
    session.grade("o1", Thumb.UP)
    with pytest.raises(Conflict, match=r"one thumbs-down grade \(have 1 up, 0 down\)"):
        session.select()
    with pytest.raises(Conflict, match="no selection yet"):
        session.chosen_set()


def test_sessions_are_the_tenants_and_other_listings_never_meet_them(dynamodb: Any) -> None:
    versions = ModelRegistry("models", dynamodb)
    versions.open_version(
        PackagingRequest.model_validate(packaging_request()),
        model_name="smollm2",
        correlation_id="run-1",
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    sessions = SessionTable("models", dynamodb)
    for name in ("support-v2", "support-v1"):
        session = sessions.session("acme", name)
        session.begin(TASK)
        session.add_outputs(OUTPUTS)
        session.grade("o1", Thumb.UP)
        session.set_criteria(concise_and_answers())

    assert [info.name for info in sessions.list("acme")] == ["support-v1", "support-v2"]
    assert sessions.list("globex") == []
    with pytest.raises(NotFound, match="no grading session 'support-v1' for this tenant"):
        sessions.get("globex", "support-v1")
    assert [v.version for v in versions.tenant_versions("acme")] == [1]
    assert EvaluationStore("models", dynamodb).list("acme") == []


def test_two_writers_adding_one_id_agree_or_conflict(dynamodb: Any) -> None:
    first = TableSessionStorage("models", dynamodb, "acme", "s1")
    second = TableSessionStorage("models", dynamodb, "acme", "s1")
    first.append_outputs(OUTPUTS[:1])

    # The same output raced in: no change. Other text under the same id: refused.
    second.append_outputs(OUTPUTS[:1])
    with pytest.raises(Conflict, match="output 'o1' is already held with other text"):
        second.append_outputs([OUTPUTS[0].model_copy(update={"output": "Never."})])
    assert first.read_outputs() == OUTPUTS[:1]
