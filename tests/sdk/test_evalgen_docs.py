"""docs/evalgen.md's code, commands and requests, run as written against the served API.

- The Python block runs with the premises the page names: a scripted judge (it suggests two
  criteria and proposes a check, and grades as the people did), the outputs and grades of
  ``tests/unit/evalgen/test_selection.py``, the runtime's models table and a registered
  version.
- The ``maas evalgen`` session runs in ``bash`` from a folder where ``tests/`` is the
  repository's, with the API's connection in the environment and version 3 of
  ``glm-4-9b-chat`` registered; ``[...]`` (options the page leaves out) are dropped. Each
  command must exit 0 and print the lines the page shows (a table's cells compared, whatever
  its rules).
- The ``curl`` block runs as docs/api.md's do (``API`` and ``TOKEN`` set).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from maas.evaluation.evalgen import CodeImplementation, EvalOutput, validate_assertion
from tests.api.test_api_docs import _answer, _keys, _run, _shown_keys
from tests.docblocks import ROOT, containing, runs
from tests.docs.support import bash, environment, run_code
from tests.unit.evalgen.conftest import ScriptedJudge
from tests.unit.evalgen.test_selection import BRIEF, GRADES, OUTPUTS, TASK
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from pathlib import Path

    from tests.sdk.conftest import ServedApi

PAGE = "docs/evalgen.md"
(PIPELINE,) = runs(PAGE, "python", containing("suggest_criteria("))
(SESSION,) = runs(PAGE, "console", containing("maas evalgen import"))
(REQUESTS,) = runs(PAGE, "console", containing("curl -X POST $API/v1/evalgen/sessions"))


@pytest.fixture(scope="module")
def glm4(served: ServedApi) -> int:
    """Version 3 of ``glm-4-9b-chat``, as the page's commands store their set with it."""
    versions = [register_version(served.runtime, "glm-4-9b-chat") for _ in range(3)]
    return int(versions[-1].version)


def test_the_pipeline_chooses_stores_and_reruns_a_set(served: ServedApi) -> None:
    judge = ScriptedJudge(
        [
            (
                "List 2 to 5 criteria",
                {
                    "criteria": [
                        {"name": "correct", "description": "States the policy.", "check": "llm"},
                        {"name": "brief", "description": "Short.", "check": "code"},
                    ]
                },
            ),
            ("Propose up to 3 checks", {"assertions": [{"kind": "no_refusal", "params": {}}]}),
            # The grader agrees with the people: the outputs marked [wrong] fail.
            ("Output", lambda prompt: {"passed": "[wrong]" not in prompt}),
        ]
    )
    version = register_version(served.runtime, "evalgen-page")
    new = [
        EvalOutput(id="n1", input="Free shipping?", output="Free over $35."),
        EvalOutput(id="n2", input="Returns?", output="Within 14 days [wrong]."),
    ]
    scope = run_code(
        PIPELINE,
        {
            "judge": judge,
            "task": TASK,
            "outputs": OUTPUTS,
            "grades": GRADES,
            "my_criteria": [BRIEF],
            "my_assertions": {
                "brief": [
                    CodeImplementation(assertion=validate_assertion("max_words", {"limit": 8}))
                ]
            },
            "table": served.runtime.resources.tables["ModelsTable"],
            "dynamodb": served.runtime.client("dynamodb"),
            "tenant": "acme",
            "model": "evalgen-page",
            "version": int(version.version),
            "new_outputs": new,
        },
    )

    assert [criterion.name for criterion in scope["criteria"]] == ["correct", "brief"]
    assert scope["report"].assertion_set.assertions
    assert {r.output_id: r.passed for r in scope["results"]} == {"n1": True, "n2": False}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"[|┃│]", line)]


def test_the_terminal_session_prints_what_the_page_shows(
    served: ServedApi, glm4: int, tmp_path: Path
) -> None:
    assert glm4 == 3
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    env = environment(
        MAAS_API_URL=served.url,
        MAAS_TOKEN=served.token,
        MAAS_CONFIG=str(tmp_path / "no-profiles.toml"),
        MAAS_EVALGEN_DIR=str(tmp_path / "sessions"),
    )
    env.pop("MAAS_PROFILE", None)
    for example in SESSION.examples:
        command = re.sub(r"[ \t]*\[[^\]]*\]", "", example.command)
        printed = bash(command, cwd=tmp_path, env=env, where=f"{SESSION.page}:{example.line}")
        rows = [_cells(line) for line in printed.splitlines()]
        flat = " ".join(printed.split())
        for line in example.shown.splitlines():
            if "|" in line:
                assert _cells(line) in rows, (example.line, line, printed)
            else:
                assert " ".join(line.split()) in flat, (example.line, line, printed)


def test_the_requests_answer_as_the_page_shows(
    served: ServedApi, glm4: int, tmp_path: Path
) -> None:
    assert glm4 == 3
    block = REQUESTS.examples
    outputs = _run(block, served.url, {"API": served.url, "TOKEN": served.token}, tmp_path)
    for example, (status, body) in zip(block, outputs, strict=True):
        where = f"{REQUESTS.page}:{example.line}"
        assert 200 <= status < 300, f"{where}: {status} {body}"
        missing = _shown_keys(example.shown) - _keys(_answer(body))
        assert not missing, f"{where}: the page shows {sorted(missing)}: {body}"
