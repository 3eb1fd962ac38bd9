"""``maas traces list`` and ``maas traces show`` against the local runtime's X-Ray."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from rich.console import Console
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.tracing import RequestTrace

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result

    from maas.local import LocalRuntime


@pytest.fixture(scope="module")
def trace_id(runtime: LocalRuntime) -> str:
    """A served request with three stages, the last of which failed, stored in X-Ray."""
    before = runtime.xray.stored
    with (
        pytest.raises(RuntimeError),
        RequestTrace(model="smollm2", version="3", tenant="acme", endpoint="acme-ep") as trace,
    ):
        traced = str(trace.entity.trace_id)
        with trace.stage("prompt") as stage:
            stage.prompt("<b>Answer</b> & cite")
        with trace.stage("retrieval") as stage:
            stage.documents([("doc-1", 0.9)])
        with trace.stage("generation"):
            raise RuntimeError("out of memory")
    assert runtime.xray.wait_stored(before + 1)
    return traced


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A console wide enough for a whole row on one line, whatever the terminal."""
    monkeypatch.setattr("maas.cli.main.console", Console(width=240))


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["traces", *args])


def test_list_shows_the_trace_with_its_tenant_and_fault(trace_id: str) -> None:
    result = _run("list", "--since", "5")

    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if trace_id in line)
    assert "maas-serving" in line
    assert "tenant=acme" in line
    assert "endpoint=acme-ep" in line
    assert "fault" in line


def test_list_as_json(trace_id: str) -> None:
    result = _run("list", "--json")

    assert result.exit_code == 0, result.output
    (row,) = [row for row in json.loads(result.output) if row["id"] == trace_id]
    assert row["root"] == "maas-serving"
    assert row["annotations"]["tenant"] == "acme"
    assert row["status"] == "fault"
    assert row["duration_ms"] > 0


def test_show_prints_the_stages_nested_under_the_request(trace_id: str) -> None:
    result = _run("show", trace_id)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    names = [
        next(line for line in lines if f" {name} " in line)
        for name in ("maas-serving", "prompt", "retrieval", "generation")
    ]
    request_indent = names[0].index("maas-serving")
    assert all(
        line.index(name) == request_indent + 2
        for line, name in zip(names[1:], ("prompt", "retrieval", "generation"), strict=True)
    )
    assert "document_ids=doc-1" in names[2]
    assert "█" in names[3]


def test_show_as_json_places_each_stage_within_the_trace(trace_id: str) -> None:
    result = _run("show", trace_id, "--json")

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    spans = {span["name"]: span for span in shown["spans"]}
    assert spans["maas-serving"]["depth"] == 0
    assert spans["generation"]["depth"] == 1
    assert spans["generation"]["status"] == "fault"
    assert spans["retrieval"]["annotations"]["k"] == 1
    # Stage annotations that repeat the request's are not shown again.
    assert "tenant" not in spans["prompt"]["annotations"]
    for span in shown["spans"]:
        assert 0 <= span["start_ms"] <= span["start_ms"] + span["duration_ms"]
        assert span["start_ms"] + span["duration_ms"] <= shown["duration_ms"] + 0.01


def test_show_writes_the_waterfall_as_self_contained_html(trace_id: str, tmp_path: Path) -> None:
    page = tmp_path / "trace.html"
    result = _run("show", trace_id, "--html", str(page))

    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert trace_id in html
    assert html.count('<div class="bar"') == 4
    assert '<tr class="fault">' in html
    assert "http" not in html.lower().replace("<!doctype html>", "")  # no CDN, no link


def test_show_an_unknown_trace_is_not_found() -> None:
    unknown = "1-00000000-000000000000000000000000"
    result = _run("show", unknown)

    assert result.exit_code == ExitCode.NOT_FOUND
    assert f"trace not found: {unknown}" in result.output


def test_show_a_malformed_trace_id_is_a_usage_error() -> None:
    result = _run("show", "abc")

    assert result.exit_code == ExitCode.USAGE
    assert "invalid trace id 'abc'" in result.output
