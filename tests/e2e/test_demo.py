"""The README's main job: `make demo` deploys an endpoint and tears it down on the local runtime."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

from maas.cli.demo import run_demo
from maas.cli.main import app
from maas.local import LocalSettings

pytestmark = pytest.mark.xdist_group("demo")


def test_the_demo_deploys_tears_down_and_shows_each_state_and_event() -> None:
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    result = run_demo(console, LocalSettings(endpoint_create_seconds=1.5))
    text = output.getvalue()
    assert result.succeeded, text
    assert [event["detail-type"] for event in result.events] == [
        "EndpointInService",
        "EndpointDeleted",
    ]
    assert {event["detail"]["correlation_id"] for event in result.events} == {
        result.deployment.name,
        result.teardown.name,
    }
    for state in ("Wait for endpoint", "Check endpoint status", "Endpoint torn down"):
        assert state in text
    assert "path taken" in text
    assert "nothing left behind" in text
    assert result.leftovers == []


def test_the_cli_lists_its_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "demo" in result.output
    assert "local" in result.output
