"""An evaluation of a dataset version from the CLI and the SDK, against the served API.

``maas evaluations run --dataset NAME[:VERSION]`` names the questions by a version of one of
the tenant's datasets instead of a file: the request it sends names that version (the latest,
asked of the API, when none is given), and the evaluation's plan reads it. What the API
refuses comes back as the CLI's usual error and exit code: an unknown dataset or version is
the API's 404 (exit code 3), a dataset of another kind its 422 (exit code 5). Both or neither
of ``--questions`` and ``--dataset`` is a usage error before anything is sent.

The pages' blocks that show this (docs/evaluation.md, docs/sdk.md) run here as written, with
``MAAS_API_URL`` and ``MAAS_TOKEN`` set and from the repository's folder (their files are
its own), on their premise: an endpoint ``chat`` in service.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.dynamodb import to_item
from maas.sdk import InvalidRequest, NotFound
from schemas.datasets import (
    DatasetKind,
    DatasetRecord,
    DatasetSpec,
    DatasetStatus,
    DatasetVersionRef,
    DatasetVersionSpec,
)
from schemas.deployment import DeploymentSpec, RegisteredModel
from schemas.evaluation import EvaluationSpec
from tests.docblocks import ROOT, containing, runs
from tests.local.support import wait_until
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from pathlib import Path

    from typer.testing import Result

    from maas.sdk import MaasClient
    from schemas.evaluation import EvaluationRecord
    from tests.docblocks import Block
    from tests.sdk.conftest import ServedApi

(EVALUATION_PAGE,) = runs("docs/evaluation.md", "console", containing("--dataset support-qa:1"))
(SDK_PAGE,) = runs("docs/sdk.md", "console", containing("--dataset support-qa"))
ENDPOINT = "chat"
QUESTIONS = [
    {"id": f"q{number}", "question": f"What is {number} + {number}?", "reference": str(2 * number)}
    for number in range(4)
]
#: ``# ... exit code 3`` after a page's command: the exit code it shows.
_EXIT = re.compile(r"#.*exit code (\d+)")


@pytest.fixture(autouse=True)
def no_user_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))


@pytest.fixture(scope="module")
def endpoint(served: ServedApi, maas: MaasClient) -> str:
    """The endpoint evaluated, in service (a placeholder model: what is checked here is what
    the evaluation asks, not how it scores)."""
    register_version(served.runtime, "eval-datasets-model")
    accepted = maas.create_endpoint(
        DeploymentSpec(
            endpoint_name=ENDPOINT,
            model=RegisteredModel(model_name="eval-datasets-model", version=1),
        )
    )
    maas.wait_until_in_service(ENDPOINT, execution=accepted, timeout=120)
    return ENDPOINT


@pytest.fixture(scope="module")
def datasets(maas: MaasClient) -> None:
    """``cli-qa``: a question set of two versions (3, then 4 questions); ``cli-kb``: a corpus."""
    maas.create_dataset(
        DatasetSpec(name="cli-qa", kind=DatasetKind.QUESTION_SET, rows=QUESTIONS[:3])
    )
    maas.create_dataset_version("cli-qa", DatasetVersionSpec(rows=QUESTIONS))
    maas.create_dataset(
        DatasetSpec(
            name="cli-kb", kind=DatasetKind.CORPUS, rows=[{"id": "d1", "text": "A passage."}]
        )
    )


def run(served: ServedApi, *args: str) -> Result:
    """``maas ARGS`` against the served API as the fixtures' tenant."""
    return CliRunner().invoke(app, [*args, "--api-url", served.url, "--token", served.token])


def evaluate(served: ServedApi, dataset: str, *more: str) -> Result:
    """``maas evaluations run chat --dataset DATASET``, on a cheap metric."""
    return run(
        served, "evaluations", "run", ENDPOINT, "--dataset", dataset, "--metric", "exact_match",
        *more,
    )  # fmt: skip


def planned(maas: MaasClient, evaluation_id: str) -> EvaluationRecord:
    """The evaluation's record, once its plan (which reads the questions) has written it."""

    def record() -> EvaluationRecord | None:
        try:
            return maas.get_evaluation(evaluation_id)
        except NotFound:
            return None

    found: EvaluationRecord = wait_until(record, timeout=120, interval=0.5)
    return found


@pytest.mark.usefixtures("endpoint", "datasets")
def test_run_asks_the_version_named_and_the_latest_when_none_is(
    served: ServedApi, maas: MaasClient
) -> None:
    named = evaluate(served, "cli-qa:1", "--json")
    latest = evaluate(served, "cli-qa", "--json")

    assert named.exit_code == 0, named.output
    assert latest.exit_code == 0, latest.output
    first = planned(maas, json.loads(named.stdout)["execution_name"])
    second = planned(maas, json.loads(latest.stdout)["execution_name"])
    assert (first.spec.dataset, first.spec.question_set_uri) == (
        DatasetVersionRef(name="cli-qa", version=1),
        None,
    )
    assert second.spec.dataset == DatasetVersionRef(name="cli-qa", version=2)
    # The plan read each version's questions: 3 in version 1, 4 in version 2.
    assert (first.questions, second.questions) == (3, 4)
    shown = run(served, "evaluations", "show", first.evaluation_id)
    assert "question set │ dataset cli-qa version 1" in shown.stdout, shown.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--questions", "s3://b/acme/q.jsonl", "--dataset", "cli-qa:1"), "not both"),
        ((), "give ENDPOINT and --questions or --dataset NAME[:VERSION], or --request FILE"),
        (("--dataset", "cli-qa:latest"), "write NAME or NAME:VERSION"),
        (("--dataset", "cli-qa:0"), "write NAME or NAME:VERSION"),
    ],
)
def test_both_neither_or_a_malformed_dataset_is_a_usage_error(
    served: ServedApi, args: tuple[str, ...], said: str
) -> None:
    result = run(served, "evaluations", "run", ENDPOINT, *args)

    assert result.exit_code == ExitCode.USAGE, result.output
    assert said in " ".join(result.output.replace("│", " ").split())


@pytest.mark.usefixtures("endpoint", "datasets")
@pytest.mark.parametrize(
    ("dataset", "said"),
    [
        ("never:1", "404 Not Found: dataset: no dataset 'never' for this tenant"),
        ("cli-qa:9", "404 Not Found: dataset: no version 9 of dataset 'cli-qa'"),
        # No version: the dataset itself is asked for, and is missing.
        ("never", "404 Not Found: name: no dataset 'never' for this tenant"),
    ],
)
def test_an_unknown_dataset_or_version_is_the_apis_404_exit_code_3(
    served: ServedApi, dataset: str, said: str
) -> None:
    result = evaluate(served, dataset)

    assert result.exit_code == ExitCode.NOT_FOUND, result.output
    assert f"error: {said}" in result.stderr


@pytest.mark.usefixtures("endpoint", "datasets")
@pytest.mark.parametrize("dataset", ["cli-kb:1", "cli-kb"])
def test_a_dataset_of_another_kind_is_the_apis_422_exit_code_5(
    served: ServedApi, dataset: str
) -> None:
    result = evaluate(served, dataset)

    assert result.exit_code == ExitCode.INVALID, result.output
    assert "422 Unprocessable Entity" in result.stderr
    assert "dataset: 'cli-kb' holds corpus rows, not a question_set" in result.stderr


@pytest.mark.usefixtures("endpoint")
def test_a_dataset_with_no_version_yet_has_no_latest_exit_code_4(served: ServedApi) -> None:
    # A dataset left CREATING: its creator died between its record and its first version
    # (docs/datasets.md); its record is written as maas.datasets.store writes it.
    record = DatasetRecord(
        tenant_id="acme",
        name="cli-half",
        kind=DatasetKind.QUESTION_SET,
        status=DatasetStatus.CREATING,
    )
    served.runtime.client("dynamodb").put_item(
        TableName=served.runtime.resources.tables["ModelsTable"],
        Item=to_item(record, {"pk": "TENANT#acme", "sk": "DATASET#cli-half"}),
    )

    result = evaluate(served, "cli-half")

    assert result.exit_code == ExitCode.CONFLICT, result.output
    assert "dataset 'cli-half' has no version yet (CREATING)" in result.stderr


@pytest.mark.usefixtures("endpoint", "datasets")
def test_the_sdk_raises_what_the_api_answers_for_a_dataset(maas: MaasClient) -> None:
    def spec(name: str) -> EvaluationSpec:
        return EvaluationSpec(
            endpoint_name=ENDPOINT,
            dataset=DatasetVersionRef(name=name, version=1),
            metrics=["exact_match"],
        )

    with pytest.raises(NotFound) as missing:
        maas.create_evaluation(spec("never"))
    with pytest.raises(InvalidRequest) as other_kind:
        maas.create_evaluation(spec("cli-kb"))

    assert missing.value.detail == "dataset: no dataset 'never' for this tenant"
    assert other_kind.value.status == 422
    assert other_kind.value.detail == "dataset: 'cli-kb' holds corpus rows, not a question_set"


@pytest.mark.usefixtures("endpoint")
@pytest.mark.parametrize("block", [EVALUATION_PAGE, SDK_PAGE], ids=lambda block: block.where)
def test_the_pages_commands_run_as_written(
    served: ServedApi, monkeypatch: pytest.MonkeyPatch, block: Block
) -> None:
    monkeypatch.setenv("MAAS_API_URL", served.url)
    monkeypatch.setenv("MAAS_TOKEN", served.token)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(ROOT)  # the pages name the repository's files by their path in it
    for example in block.examples:
        where = f"{block.page}:{example.line}"
        program, *args = shlex.split(example.command, comments=True)
        assert program == "maas", where
        result = CliRunner().invoke(app, args)
        shown = _EXIT.search(example.command)
        assert result.exit_code == (int(shown[1]) if shown else 0), f"{where}: {result.output}"
        for line in filter(None, (line.strip() for line in example.shown.splitlines())):
            # What the page elides (an execution's name) with "..." may be anything.
            pattern = ".*?".join(re.escape(" ".join(part.split())) for part in line.split("..."))
            printed = " ".join(result.output.split())
            assert re.search(pattern, printed), f"{where}: {line!r} not in:\n{result.output}"
