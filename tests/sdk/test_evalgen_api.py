"""EvalGen through the SDK and ``maas evalgen``: grade, choose, store with the version.

The SDK drives an API session; the CLI grades the bundled labelled set in a local session,
selects, and stores the chosen set through the served API, where the SDK reads it back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.evaluation.evalgen import GradingSession, Thumb
from maas.evaluation.evalgen.sessions import CriteriaSpec, GradeSpec, SessionSpec
from maas.sdk import Conflict, InvalidRequest, NotFound
from tests.unit.evalgen.conftest import ScriptedJudge
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from typer.testing import Result

    from maas.sdk import MaasClient
    from tests.sdk.conftest import ServedApi

DATA = Path(__file__).resolve().parent.parent / "data" / "evalgen"
TASK = json.loads((DATA / "task.json").read_text())
OUTPUTS = [
    {"id": "o1", "input": "Returns?", "output": "Within 30 days."},
    {"id": "o2", "input": "Gift cards?", "output": "I cannot help with that, sorry."},
    {"id": "o3", "input": "E-books?", "output": "E-books cannot be returned once opened."},
]


@pytest.fixture(autouse=True)
def no_user_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE", "MAAS_EVALGEN_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))


@pytest.fixture(scope="module")
def version(served: ServedApi) -> int:
    return int(register_version(served.runtime, "evalgen-sdk").version)


def evalgen(directory: Path, *arguments: str) -> Result:
    return CliRunner().invoke(app, ["evalgen", *arguments, "--dir", str(directory)])


def task_flags() -> list[str]:
    """The bundled task's criteria and assertions as ``maas evalgen criteria`` flags."""
    flags = ["--task", TASK["description"]]
    for criterion in TASK["criteria"]:
        flags += ["--criterion", f"{criterion['name']}={criterion['description']}"]
        for assertion in criterion["assertions"]:
            params = json.dumps(assertion["params"])
            flags += ["--assertion", f"{criterion['name']}={assertion['kind']}:{params}"]
    return flags


def test_the_sdk_grades_selects_and_stores(maas: MaasClient, version: int) -> None:
    status = maas.create_evalgen_session(
        SessionSpec.model_validate({"name": "sdk", "task": "Answer briefly.", "outputs": OUTPUTS})
    )
    for output_id, grade in (("o1", Thumb.UP), ("o2", Thumb.DOWN)):
        maas.grade_evalgen_output("sdk", GradeSpec(output_id=output_id, grade=grade))
    ungraded = list(maas.iter_evalgen_outputs("sdk", ungraded=True, page_size=1))
    maas.set_evalgen_criteria(
        "sdk",
        CriteriaSpec.model_validate(
            {
                "criteria": [
                    {"name": "answers", "description": "No refusal.", "assertions": [
                        {"kind": "no_refusal"}, {"kind": "min_words", "limit": 4},
                    ]},
                ]
            }
        ),
    )  # fmt: skip
    report = maas.select_evalgen_assertions("sdk")
    stored = maas.put_assertion_set("evalgen-sdk", version, session="sdk")

    assert (status.name, status.outputs, status.graded) == ("sdk", 3, 0)
    assert [output.id for output in ungraded] == ["o3"]
    assert report.criteria[0].chosen.label == "code:no_refusal()"
    assert report.assertion_set.figures.alignment == 1.0
    assert maas.get_evalgen_session("sdk").selection == report
    assert "sdk" in [info.name for info in maas.iter_evalgen_sessions()]
    assert stored.assertion_set == report.assertion_set
    assert maas.get_assertion_set("evalgen-sdk", version) == stored


def test_the_sdk_raises_typed_errors(maas: MaasClient) -> None:
    maas.create_evalgen_session(
        SessionSpec.model_validate({"name": "typed", "task": "t", "outputs": OUTPUTS})
    )
    with pytest.raises(NotFound, match="no output 'o9'"):
        maas.grade_evalgen_output("typed", GradeSpec(output_id="o9", grade=Thumb.UP))
    with pytest.raises(Conflict, match="no criteria to select for"):
        maas.select_evalgen_assertions("typed")
    with pytest.raises(ValueError, match="give either session or assertion_set"):
        maas.put_assertion_set("evalgen-sdk", 1)
    with pytest.raises(InvalidRequest):
        maas.create_evalgen_session(SessionSpec.model_construct(name="x", task="t"))
    with pytest.raises(NotFound):
        maas.get_evalgen_session("nope")


def test_the_cli_grades_the_labelled_set_and_stores_the_choice(
    served: ServedApi, maas: MaasClient, version: int, tmp_path: Path
) -> None:
    connection = ["--api-url", served.url, "--token", served.token]

    imported = evalgen(tmp_path, "import", "bookstore", str(DATA / "labelled.jsonl"), "--grades")
    criteria = evalgen(tmp_path, "criteria", "bookstore", *task_flags())
    selected = evalgen(tmp_path, "select", "bookstore")
    report = json.loads(evalgen(tmp_path, "select", "bookstore", "--json").stdout)
    stored = evalgen(
        tmp_path, "store", "bookstore", "--model", "evalgen-sdk", "--version", str(version),
        *connection,
    )  # fmt: skip

    assert imported.exit_code == 0, imported.output
    assert criteria.exit_code == 0, criteria.output
    assert "3 criteria set for bookstore" in criteria.output
    assert selected.exit_code == 0, selected.output
    assert "the set" in selected.output
    chosen = {entry["criterion"]["name"]: entry["chosen"]["label"] for entry in report["criteria"]}
    assert chosen["faithful"] == "code:mentions_reference_terms(min_share=0.5)"
    assert stored.exit_code == 0, stored.output
    assert "3 assertions stored with version 1 of evalgen-sdk" in " ".join(stored.output.split())
    local = GradingSession.on_disk(tmp_path, "bookstore").chosen_set()
    assert maas.get_assertion_set("evalgen-sdk", version).assertion_set == local


def test_the_cli_says_what_is_missing_with_its_exit_code(served: ServedApi, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.jsonl"
    outputs.write_text("".join(json.dumps(line) + "\n" for line in OUTPUTS))
    evalgen(tmp_path, "import", "s1", str(outputs))

    no_task = evalgen(tmp_path, "criteria", "s1", "--criterion", "brief=Short.")
    no_candidate = evalgen(tmp_path, "criteria", "s1", "--task", "t", "--criterion", "brief=x")
    bad_kind = evalgen(
        tmp_path, "criteria", "s1", "--criterion", "brief=x", "--assertion", "brief=run_python"
    )
    bad_param = evalgen(
        tmp_path, "criteria", "s1", "--criterion", "brief=x",
        "--assertion", 'brief=max_words:{"limit": 0}',
    )  # fmt: skip
    evalgen(tmp_path, "criteria", "s1", "--criterion", "brief=x", "--assertion", "brief=no_refusal")
    no_grades = evalgen(tmp_path, "select", "s1")
    no_selection = evalgen(
        tmp_path, "store", "s1", "--model", "m", "--version", "1", "--api-url", served.url
    )

    assert no_task.exit_code == ExitCode.INVALID
    assert "session 's1' has none yet; give --task" in no_task.output
    assert no_candidate.exit_code == ExitCode.INVALID
    assert "brief without a candidate assertion" in no_candidate.output
    assert bad_kind.exit_code == ExitCode.INVALID
    assert "assertion 'run_python': not a vetted kind" in bad_kind.output
    assert bad_param.exit_code == ExitCode.INVALID
    assert "limit: Input should be greater than 0" in bad_param.output
    assert no_grades.exit_code == ExitCode.CONFLICT
    assert "(have 0 up, 0 down)" in no_grades.output
    assert no_selection.exit_code == ExitCode.CONFLICT
    assert "no selection yet" in no_selection.output


def test_a_judge_suggests_criteria_and_proposes_assertions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    judge = ScriptedJudge(
        [
            ("List 2 to 5 criteria", {"criteria": [
                {"name": "polite", "description": "No rude words.", "check": "code"},
            ]}),
            ("Propose up to 3 checks", {"assertions": [
                {"kind": "contains_none", "params": {"terms": ["lol"]}},
                {"kind": "run_python", "params": {"code": "1"}},
            ]}),
        ]
    )  # fmt: skip
    asked: list[Any] = []

    def make_judge(spec: Any) -> ScriptedJudge:
        asked.append(spec)
        return judge

    monkeypatch.setattr("maas.cli.evalgen.make_judge", make_judge)
    outputs = tmp_path / "outputs.jsonl"
    outputs.write_text("".join(json.dumps(line) + "\n" for line in OUTPUTS))
    evalgen(tmp_path, "import", "s1", str(outputs))

    result = evalgen(tmp_path, "criteria", "s1", "--task", "Answer politely.", "--judge", "local")

    assert result.exit_code == 0, result.output
    assert asked == [{"kind": "local"}]
    (entry,) = GradingSession.on_disk(tmp_path, "s1").criteria()
    assert entry.criterion.name == "polite"
    assert [impl.label for impl in entry.implementations] == ["code:contains_none(terms=('lol',))"]
    assert [rejected.kind for rejected in entry.rejected] == ["run_python"]
    assert "Input: Returns?" in judge.prompts[0]


def test_remote_grades_and_status_reach_the_apis_session(
    served: ServedApi, maas: MaasClient, tmp_path: Path
) -> None:
    maas.create_evalgen_session(
        SessionSpec.model_validate({"name": "remote", "task": "t", "outputs": OUTPUTS})
    )
    connection = ["--remote", "--api-url", served.url, "--token", served.token]

    graded = evalgen(tmp_path, "grade", "remote", "--output", "o2", "--down", *connection)
    unknown = evalgen(tmp_path, "grade", "remote", "--output", "o9", "--up", *connection)
    status = evalgen(tmp_path, "status", "remote", *connection)

    assert graded.exit_code == 0, graded.output
    assert "o2: thumbs down" in graded.output
    assert unknown.exit_code == ExitCode.NOT_FOUND
    assert "remote: 3 outputs, 1 graded (0 up, 1 down), 2 ungraded" in status.output
    assert maas.get_evalgen_session("remote").down == 1
    assert not (tmp_path / "remote").exists()
