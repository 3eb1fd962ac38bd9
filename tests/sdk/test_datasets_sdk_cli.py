"""Datasets through the SDK and ``maas datasets``, against the served API: typed answers,
pages, each bad row of a file by its line, and the exit codes that tell outcomes apart."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.sdk import Conflict, InvalidRequest, NotFound
from schemas.datasets import DatasetKind, DatasetSpec, DatasetStatus, DatasetVersionSpec

if TYPE_CHECKING:
    from pathlib import Path

    from typer.testing import Result

    from maas.sdk import MaasClient
    from tests.sdk.conftest import ServedApi

DOCUMENTS = [{"id": f"d{number}", "text": f"Passage number {number}."} for number in range(5)]


@pytest.fixture(autouse=True)
def no_user_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))


def run(served: ServedApi, *args: str) -> Result:
    """``maas ARGS`` against the served API as the fixtures' tenant."""
    return CliRunner().invoke(app, [*args, "--api-url", served.url, "--token", served.token])


def test_the_sdk_creates_pages_and_deletes(maas: MaasClient) -> None:
    first = maas.create_dataset(
        DatasetSpec(name="sdk-kb", kind=DatasetKind.CORPUS, rows=DOCUMENTS[:2])
    )
    second = maas.create_dataset_version("sdk-kb", DatasetVersionSpec(rows=DOCUMENTS))

    assert (first.version, second.version) == (1, 2)
    assert [item.version for item in maas.iter_dataset_versions("sdk-kb", page_size=1)] == [1, 2]
    assert maas.get_dataset_version("sdk-kb", 2) == second
    dataset = maas.get_dataset("sdk-kb")
    assert (dataset.status, dataset.latest_version) == (DatasetStatus.ACTIVE, 2)
    assert "sdk-kb" in [item.name for item in maas.iter_datasets(page_size=1)]
    assert maas.delete_dataset("sdk-kb").versions == 2
    with pytest.raises(NotFound):
        maas.get_dataset("sdk-kb")


def test_the_sdk_raises_what_the_api_answers(maas: MaasClient) -> None:
    maas.create_dataset(DatasetSpec(name="sdk-taken", kind=DatasetKind.CORPUS, rows=DOCUMENTS))

    with pytest.raises(Conflict):
        maas.create_dataset(
            DatasetSpec(name="sdk-taken", kind=DatasetKind.CORPUS, rows=DOCUMENTS[:1])
        )
    with pytest.raises(InvalidRequest) as invalid:
        maas.create_dataset_version("sdk-taken", DatasetVersionSpec(rows=[{"id": "x"}, "y"]))
    assert [problem.message for problem in invalid.value.errors] == [
        "row 1: text: Field required",
        "row 2: not a JSON object but a string",
    ]


def test_the_cli_creates_adds_shows_lists_and_deletes(served: ServedApi, tmp_path: Path) -> None:
    rows = tmp_path / "kb.jsonl"
    rows.write_text("\n".join(json.dumps(row) for row in DOCUMENTS[:3]) + "\n")
    more = tmp_path / "more.jsonl"
    more.write_text("\n".join(json.dumps(row) for row in DOCUMENTS) + "\n")

    created = run(served, "datasets", "create", "cli-kb", "--kind", "corpus", "--file", str(rows))
    added = run(served, "datasets", "add-version", "cli-kb", "--file", str(more), "--json")
    shown = run(served, "datasets", "show", "cli-kb", "--json")
    one = run(served, "datasets", "show", "cli-kb", "--version", "1")
    listed = run(served, "datasets", "list")
    deleted = run(served, "datasets", "delete", "cli-kb")

    assert created.exit_code == 0, created.output
    assert "cli-kb version 1" in created.stdout
    assert json.loads(added.stdout)["version"] == 2
    described: dict[str, Any] = json.loads(shown.stdout)
    assert [item["version"] for item in described["versions"]] == [1, 2]
    assert "rows        │ 3" in one.stdout
    assert "cli-kb" in listed.stdout
    assert deleted.stdout.strip() == "deleted dataset cli-kb: 2 versions, 2 objects"


def test_the_cli_names_each_bad_row_by_its_line_in_the_file(
    served: ServedApi, tmp_path: Path
) -> None:
    rows = tmp_path / "bad.jsonl"
    lines = [DOCUMENTS[0], {"id": "d9"}, DOCUMENTS[0]]
    rows.write_text(json.dumps(lines[0]) + "\n\n" + "\n".join(json.dumps(r) for r in lines[1:]))

    result = run(served, "datasets", "create", "cli-bad", "--kind", "corpus", "--file", str(rows))

    assert result.exit_code == ExitCode.INVALID
    assert "line 3: text: Field required" in result.stderr
    assert "line 4: duplicate of row 1 (the same id)" in result.stderr


def test_the_cli_refuses_a_line_that_is_not_json_before_sending(
    served: ServedApi, tmp_path: Path
) -> None:
    rows = tmp_path / "broken.jsonl"
    rows.write_text('{"id": "a", "text": "A"}\n{oops\n')

    result = run(
        served, "datasets", "create", "cli-broken", "--kind", "corpus", "--file", str(rows)
    )

    assert result.exit_code == ExitCode.INVALID
    assert "line 2: not JSON" in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("datasets", "show", "never"), ExitCode.NOT_FOUND),
        (("datasets", "delete", "never"), ExitCode.NOT_FOUND),
        (
            ("datasets", "create", "Bad_Name", "--kind", "corpus", "--source", "s3://x/acme/"),
            ExitCode.INVALID,
        ),
        (("datasets", "create", "x", "--kind", "corpus"), ExitCode.USAGE),
    ],
)
def test_the_cli_exit_codes(served: ServedApi, args: tuple[str, ...], code: ExitCode) -> None:
    assert run(served, *args).exit_code == code
