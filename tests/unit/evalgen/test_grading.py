"""Grading sessions on disk and ``maas evalgen``: import, grade, review, status."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.evaluation.evalgen import EvalOutput, GradingSession, Thumb, UnknownOutput
from maas.exceptions import Conflict, ValidationError

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()

OUTPUTS = [
    {"id": "o1", "input": "Free shipping?", "output": "Over $35.", "grade": "up", "note": "ok"},
    {"id": "o2", "input": "Returns?", "output": "14 days.", "reference": "30 days."},
    {"id": "o3", "input": "Gift cards?", "output": "They never expire."},
]


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in OUTPUTS))
    return path


def evalgen(directory: Path, *arguments: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(
        app, ["evalgen", *arguments, "--dir", str(directory)], input=stdin, catch_exceptions=False
    )
    return result.exit_code, result.output


def test_the_latest_grade_of_an_output_counts(tmp_path: Path) -> None:
    session = GradingSession.on_disk(tmp_path, "s1")
    session.add_outputs([EvalOutput(id="o1", input="q", output="a")])
    session.grade("o1", Thumb.UP)
    session.grade("o1", Thumb.DOWN, note="wrong on second look")
    assert GradingSession.on_disk(tmp_path, "s1").latest_grades() == {"o1": False}
    assert [grade.note for grade in session.grades()] == [None, "wrong on second look"]


def test_an_output_id_cannot_be_reused_for_other_text(tmp_path: Path) -> None:
    session = GradingSession.on_disk(tmp_path, "s1")
    assert session.add_outputs([EvalOutput(id="o1", input="q", output="a")]) == 1
    assert session.add_outputs([EvalOutput(id="o1", input="q", output="a")]) == 0
    with pytest.raises(Conflict, match="output 'o1' is already held with other text"):
        session.add_outputs([EvalOutput(id="o1", input="q", output="b")])


def test_grading_an_unknown_output_or_naming_a_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownOutput, match="session 's1': no output 'nope'"):
        GradingSession.on_disk(tmp_path, "s1").grade("nope", Thumb.UP)
    with pytest.raises(ValidationError, match=r"session: '\.\./up' is not a session name"):
        GradingSession.on_disk(tmp_path, "../up")


def test_outputs_are_imported_and_graded_from_the_command_line(
    tmp_path: Path, outputs_file: Path
) -> None:
    code, output = evalgen(tmp_path, "import", "s1", str(outputs_file), "--grades")
    assert code == 0
    assert " ".join(output.split()) == "3 new outputs in session s1 (0 already held), 1 grades"
    assert (
        evalgen(tmp_path, "grade", "s1", "--output", "o2", "--down", "--note", "wrong window")[0]
        == 0
    )
    code, output = evalgen(tmp_path, "status", "s1")
    assert "3 outputs, 2 graded (1 up, 1 down), 1 ungraded" in output
    latest = GradingSession.on_disk(tmp_path, "s1").grades()[-1]
    assert (latest.output_id, latest.grade, latest.note) == ("o2", Thumb.DOWN, "wrong window")


def test_grading_an_unknown_output_exits_not_found(tmp_path: Path, outputs_file: Path) -> None:
    evalgen(tmp_path, "import", "s1", str(outputs_file))
    code, output = evalgen(tmp_path, "grade", "s1", "--output", "o9", "--up")
    assert code == ExitCode.NOT_FOUND
    assert "Maas.UnknownOutput: session 's1': no output 'o9'" in output


def test_a_bad_line_is_reported_by_its_number(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "o1", "input": "q", "output": "a"}\n{"id": "o2", "input": "q"}\n')
    code, output = evalgen(tmp_path, "import", "s1", str(bad))
    assert code == ExitCode.INVALID
    assert "line 2: output: Field required" in output


def test_review_asks_for_each_ungraded_output_in_turn(tmp_path: Path, outputs_file: Path) -> None:
    evalgen(tmp_path, "import", "s1", str(outputs_file), "--grades")
    # o2: an unknown key, then down with a note; o3: skipped; then the review ends.
    code, output = evalgen(tmp_path, "review", "s1", stdin="x\nd\ntoo short\ns\n")
    assert code == 0, output
    assert "o2 (1/2)" in output and "Reference" in output and "o3 (2/2)" in output
    assert "1 graded in this review, 1 left ungraded in s1" in output
    assert GradingSession.on_disk(tmp_path, "s1").latest_grades() == {"o1": True, "o2": False}
    code, output = evalgen(tmp_path, "review", "s1", stdin="u\n\n")
    assert GradingSession.on_disk(tmp_path, "s1").latest_grades()["o3"] is True
    assert GradingSession.on_disk(tmp_path, "s1").grades()[-1].note is None
