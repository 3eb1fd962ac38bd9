"""The ``maas`` commands of the API against the served API: tables, --json, exit codes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from schemas.packaging import ApprovalStatus
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result

    from tests.sdk.conftest import ServedApi


@pytest.fixture(autouse=True)
def no_user_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))


@pytest.fixture(scope="module")
def model(served: ServedApi) -> str:
    register_version(served.runtime, "cli-model")
    return "cli-model"


def maas(served: ServedApi, *args: str, token: str | None = None) -> Result:
    """Run ``maas ARGS`` against the served API as the fixtures' tenant."""
    connection = ["--api-url", served.url, "--token", token or served.token]
    return CliRunner().invoke(app, [*args, *connection])


def json_of(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_models_list_is_a_table_or_json(served: ServedApi, model: str) -> None:
    table = maas(served, "models", "list")
    document = json_of(maas(served, "models", "list", "--json"))

    assert table.exit_code == 0, table.output
    assert model in table.stdout
    assert "latest" in table.stdout
    assert model in [item["model_name"] for item in document]


def test_versions_list_and_show(served: ServedApi, model: str) -> None:
    listed = maas(served, "versions", "list", model)
    shown = json_of(maas(served, "versions", "show", model, "1", "--json"))

    assert listed.exit_code == 0, listed.output
    assert "REGISTERED" in listed.stdout
    assert (shown["model_name"], shown["version"], shown["status"]) == (model, 1, "REGISTERED")


def test_a_missing_endpoint_exits_3(served: ServedApi) -> None:
    result = maas(served, "endpoints", "show", "no-such-endpoint")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "404 Not Found" in result.stderr
    assert result.stdout == ""


def test_an_invalid_name_exits_5_naming_the_field(served: ServedApi) -> None:
    result = maas(served, "endpoints", "show", "not_valid!")

    assert result.exit_code == ExitCode.INVALID
    assert "name" in result.stderr


def test_deploying_an_unapproved_version_exits_4(served: ServedApi) -> None:
    version = register_version(
        served.runtime, "cli-pending", approval_status=ApprovalStatus.PENDING
    ).version

    result = maas(
        served, "endpoints", "deploy", "cli-pending", "--model", "cli-pending",
        "--version", str(version),
    )  # fmt: skip

    assert result.exit_code == ExitCode.CONFLICT
    assert "PendingManualApproval" in result.stderr


def test_a_refused_token_exits_5(served: ServedApi) -> None:
    result = maas(served, "endpoints", "list", token="not-a-token")

    assert result.exit_code == ExitCode.INVALID
    assert "401 Unauthorized" in result.stderr


def test_no_api_url_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["endpoints", "list"])

    assert result.exit_code == ExitCode.USAGE
    assert "no API URL" in result.stderr


def test_deploy_wait_follows_the_workflow_until_in_service(served: ServedApi, model: str) -> None:
    deployed = maas(
        served, "endpoints", "deploy", "cli-chat", "--model", model, "--version", "1",
        "--wait", "--json",
    )  # fmt: skip
    listed = maas(served, "endpoints", "list")
    shown = json_of(maas(served, "endpoints", "show", "cli-chat", "--json"))

    record = json_of(deployed)
    assert record["endpoint_name"] == "cli-chat"
    assert record["status"] == "IN_SERVICE"
    assert "Validate and plan deployment" in deployed.stderr
    assert "SUCCEEDED" in deployed.stderr
    assert "cli-chat" in listed.stdout
    assert "IN_SERVICE" in listed.stdout
    assert shown == record


def test_executions_show_refuses_an_unknown_workflow(served: ServedApi) -> None:
    result = maas(served, "executions", "show", "no-such-workflow", "acme-1")

    assert result.exit_code == ExitCode.USAGE


def test_evaluations_are_listed_and_a_missing_one_exits_3(served: ServedApi) -> None:
    assert json_of(maas(served, "evaluations", "list", "--json")) == []
    missing = maas(served, "evaluations", "show", "nope")
    assert missing.exit_code == ExitCode.NOT_FOUND, missing.output


def test_an_evaluation_of_a_missing_endpoint_is_refused_with_404(served: ServedApi) -> None:
    bucket = served.runtime.resources.buckets["ArtifactsBucket"]
    refused = maas(
        served, "evaluations", "run", "absent", "--questions", f"s3://{bucket}/acme/q.jsonl"
    )
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output


def test_a_malformed_threshold_or_grade_is_a_usage_error(served: ServedApi) -> None:
    threshold = maas(
        served,
        "evaluations",
        "run",
        "chat",
        "--questions",
        "s3://b/acme/q.jsonl",
        "--threshold",
        "faithfulness>0.8",
    )
    grade = maas(served, "evaluations", "review", "e1", "--grade", "q1=maybe")
    runner = maas(
        served,
        "evaluations",
        "run",
        "chat",
        "--questions",
        "s3://b/acme/q.jsonl",
        "--runner",
        "ec2",
    )
    assert threshold.exit_code == 2 and "METRIC=MINIMUM" in threshold.output
    assert grade.exit_code == 2 and "QUESTION_ID=up or =down" in grade.output
    assert runner.exit_code == 2 and "runner" in runner.output
