"""The README's main job: `make demo` runs a lifecycle that packages and serves a real model."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

from maas.cli.demo import run_demo
from maas.cli.main import app
from maas.local import LocalSettings


# The packaging job finds the demo model converted in the run's model cache (the conversion is
# test_gguf_conversion's), as `make demo` does on a second run.
@pytest.mark.usefixtures("converted_smollm2")
def test_the_demo_packages_serves_evaluates_and_tears_down_a_real_model() -> None:
    # Without the LLM judge: its path is tests/unit/evaluation/test_judges.py's, and each of
    # its calls costs seconds of CPU; everything else runs as `make demo` runs it.
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    result = run_demo(console, LocalSettings(endpoint_create_seconds=1.5), judged=False)
    text = output.getvalue()
    assert result.succeeded, text
    assert [event["detail-type"] for event in result.events] == [
        "ModelPackaged",
        "EndpointDeploying",
        "EndpointInService",
        "EvaluationCompleted",
        "EndpointDeleted",
    ]
    # The bundled corpus holds every answer: retrieval finds each question's passage.
    (evaluated,) = [
        event["detail"] for event in result.events if "Evaluation" in event["detail-type"]
    ]
    recall = next(m for m in evaluated["metrics"] if m["metric"] == "non_llm_context_recall")
    assert (recall["scored"], recall["mean"]) == (6, 1.0)
    assert result.report is not None and result.report.is_file()
    assert "capital-france" in result.report.read_text()
    executions = (result.packaging, result.deployment, result.evaluation, result.teardown)
    assert {event["detail"]["correlation_id"] for event in result.events} == {
        execution.name for execution in executions if execution is not None
    }
    # The packaged SmolLM2 itself answers, greedily, through InvokeEndpoint.
    assert "Paris" in (result.answer or "")
    assert "Paris" in (result.chat_answer or "")
    # One lifecycle ran the children, each named after it; the demo's teardown too.
    assert result.lifecycle.path[-1] == "Lifecycle complete"
    assert {execution.name for execution in executions if execution is not None} == {
        f"{result.lifecycle.name}-{stage}" for stage in ("package", "deploy", "eval", "teardown")
    }
    for state in (
        "Package the model",
        "Deploy the version",
        "Register the version",
        "Wait for endpoint",
    ):
        assert state in text
    assert "nothing left behind" in text
    assert result.leftovers == []


def test_the_cli_lists_its_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("demo", "local", "recommend"):
        assert command in result.output
