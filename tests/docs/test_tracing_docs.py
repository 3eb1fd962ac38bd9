"""docs/tracing.md's code and commands, run as written against a local runtime's X-Ray.

The pipeline block runs with stand-ins for the parts the page names (a template, an
embedder, an index, a model and a guardrail verdict) and its trace is then read back with
the page's ``maas traces`` commands, run in this process (as ``maas`` would run them with
``AWS_ENDPOINT_URL`` naming the runtime), ``$TRACE_ID`` being that trace's id.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from maas.cli.main import app
from maas.local import LocalRuntime
from tests.docblocks import containing, runs
from tests.docs.support import run_code
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PAGE = "docs/tracing.md"
(PIPELINE,) = runs(PAGE, "python", containing("RequestTrace("))
(COMMANDS,) = runs(PAGE, "console", containing("maas traces list"))


@dataclass(frozen=True)
class Hit:
    id: str
    score: float


@dataclass(frozen=True)
class Answer:
    text: str
    prompt_tokens: int
    completion_tokens: int


class Template:
    def render(self, question: str) -> str:
        return f"Answer briefly: {question}"


class Index:
    def search(self, vector: list[float], k: int) -> list[Hit]:
        return [Hit("paris", 0.91), Hit("tokyo", 0.42)][:k]


class Model:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    def generate(self, prompt: str, headers: dict[str, str]) -> Answer:
        self.headers = headers
        return Answer("Paris.", prompt_tokens=12, completion_tokens=2)


@dataclass(frozen=True)
class Verdict:
    blocked: bool


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(FAST) as local:
        yield local


@pytest.fixture(scope="module")
def traced(runtime: LocalRuntime) -> dict[str, Any]:
    """The page's pipeline block, run once: its scope (``trace`` is the request's)."""
    before = runtime.xray.stored
    scope = run_code(
        PIPELINE,
        {
            "incoming_headers": {},
            "template": Template(),
            "question": "What is the capital of France?",
            "embed": lambda text: [0.1, 0.2, 0.3],
            "index": Index(),
            "model": Model(),
            "verdict": Verdict(blocked=False),
        },
    )
    assert runtime.xray.wait_stored(before + 1)
    return scope


def trace_id(traced: dict[str, Any]) -> str:
    """The trace's id, as the model was sent it (``Root=...;Parent=...``)."""
    header: str = traced["model"].headers["X-Amzn-Trace-Id"]
    return header.split(";", maxsplit=1)[0].removeprefix("Root=")


def test_the_pipeline_sends_the_stage_as_the_generations_parent(traced: dict[str, Any]) -> None:
    header = traced["model"].headers["X-Amzn-Trace-Id"]
    assert header.startswith("Root=1-")
    assert ";Parent=" in header
    assert "Sampled=1" in header


def test_the_commands_list_and_show_the_trace(
    traced: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("maas.cli.main.console", Console(width=240))
    monkeypatch.setenv("TRACE_ID", trace_id(traced))
    monkeypatch.chdir(tmp_path)
    listed, shown = (
        CliRunner().invoke(app, shlex.split(os.path.expandvars(e.command), comments=True)[1:])
        for e in COMMANDS.examples
    )

    assert listed.exit_code == 0, listed.output
    assert os.environ["TRACE_ID"] in listed.output
    assert shown.exit_code == 0, shown.output
    for stage in ("prompt", "embedding", "retrieval", "generation", "guardrail"):
        assert stage in shown.output
    assert "document_ids=paris,tokyo" in shown.output
    assert (tmp_path / "trace.html").read_text().startswith("<!DOCTYPE html>")
