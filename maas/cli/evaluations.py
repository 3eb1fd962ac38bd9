"""``maas evaluations run|list|show|review``: evaluations through the REST API.

``run`` starts one (from flags, or a whole request file) on a question set named by its
file (``--questions``) or as a version of one of the tenant's datasets (``--dataset``);
``--wait`` follows it to its verdict; ``review`` shows each answer a waiting evaluation asks
about and takes a thumbs up or down per answer (``--grade ID=up`` for scripts), then resumes
it.
"""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 - typer reads the annotations when the app is built
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.table import Table

from maas.cli.api_common import (
    ApiOptions,
    ApiUrl,
    JsonOutput,
    ProfileName,
    Token,
    Wait,
    WaitTimeout,
    api_client,
    console,
    err_console,
    finish_workflow,
    print_fields,
    print_json,
    print_records,
    when,
)
from maas.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from typing import Any

    from maas.sdk import MaasClient
    from schemas.api import ExecutionAccepted, ExecutionView
    from schemas.datasets import DatasetVersionRef
    from schemas.evaluation import EvaluationRecord, EvaluationSpec, ReviewGrade, ReviewItem

evaluations_app = typer.Typer(
    help="Evaluate endpoints: scores, gates, reviews, reports.", no_args_is_help=True
)

EvaluationId = Annotated[str, typer.Argument(help="The evaluation's id (its execution name).")]


def _thresholds(values: list[str]) -> dict[str, float]:
    """``metric=0.8`` pairs as a mapping; a malformed one is a usage error naming it."""
    parsed = {}
    for value in values:
        metric, _, number = value.partition("=")
        try:
            parsed[metric.strip()] = float(number)
        except ValueError:
            raise typer.BadParameter(
                f"{value!r}: write METRIC=MINIMUM, e.g. faithfulness=0.8", param_hint="--threshold"
            ) from None
    return parsed


def _dataset(value: str) -> tuple[str, int | None]:
    """``NAME[:VERSION]`` as the name and the version (None: the latest, asked of the API).

    A dataset's name holds no ``:`` (``schemas.datasets.DATASET_NAME_PATTERN``), so the last
    one, if any, starts the version.
    """
    name, colon, version = value.rpartition(":")
    if not colon:
        return value, None
    if not version.isdigit() or int(version) < 1:
        raise typer.BadParameter(
            f"{value!r}: write NAME or NAME:VERSION, e.g. support-qa:2", param_hint="--dataset"
        )
    return name, int(version)


def _latest_version(client: MaasClient, name: str) -> int:
    """The dataset's latest version: the one an evaluation then names, and so keeps."""
    record = client.get_dataset(name)  # another tenant's or none: NotFound, exit code 3
    if record.latest_version is None:
        err_console.print(
            f"[bold red]error[/]: dataset {name!r} has no version yet ({record.status.value})",
            highlight=False,
        )
        raise typer.Exit(code=ExitCode.CONFLICT)
    return record.latest_version


def _validated(document: dict[str, Any]) -> EvaluationSpec:
    """The request, or a usage error naming what is wrong with it."""
    import pydantic

    from schemas.evaluation import EvaluationSpec

    try:
        return EvaluationSpec.model_validate(document)
    except pydantic.ValidationError as error:
        raise typer.BadParameter(str(error)) from None


@evaluations_app.command("run")
def run_evaluation(
    endpoint: Annotated[str | None, typer.Argument(help="The endpoint to evaluate.")] = None,
    *,
    questions: Annotated[
        str | None, typer.Option(help="The question set: an s3:// JSONL of the tenant's.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            metavar="NAME[:VERSION]",
            help="Instead of --questions: a version of one of the tenant's question_set "
            "datasets (its latest when VERSION is left out).",
        ),
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option(help="A metric to compute (repeat for more).")
    ] = None,
    threshold: Annotated[
        list[str] | None, typer.Option(help="METRIC=MINIMUM the gate holds (repeat for more).")
    ] = None,
    judge: Annotated[
        str | None, typer.Option(help="The LLM judge: local, sagemaker or bedrock (as JSON).")
    ] = None,
    on_gate_failure: Annotated[
        str, typer.Option(help="report, reject_version or teardown.")
    ] = "report",
    review: Annotated[
        int, typer.Option(min=0, help="Answers a person grades before it completes (0: none).")
    ] = 0,
    runner: Annotated[
        str,
        typer.Option(help="Where shards are scored: auto, batch or lambda (small sets)."),
    ] = "auto",
    request: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="A JSON file with the whole request."),
    ] = None,
    wait: Wait = False,
    timeout: WaitTimeout = 7200,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Evaluate ENDPOINT on a question set (or run the request in --request)."""
    latest_of: str | None = None  # a dataset whose latest version the API is asked for
    if request is not None:
        document = json.loads(request.read_text())
    else:
        if questions is not None and dataset is not None:
            raise typer.BadParameter("give --questions or --dataset, not both")
        if endpoint is None or (questions is None and dataset is None):
            raise typer.BadParameter(
                "give ENDPOINT and --questions or --dataset NAME[:VERSION], or --request FILE"
            )
        document = {"endpoint_name": endpoint}
        if dataset is not None:
            name, version = _dataset(dataset)
            document["dataset"] = {"name": name, "version": version}
            latest_of = name if version is None else None
        else:
            document["question_set_uri"] = questions
        if metric:
            document["metrics"] = metric
        if threshold:
            document["thresholds"] = _thresholds(threshold)
        if judge:
            document["judge"] = json.loads(judge) if judge.startswith("{") else {"kind": judge}
        document["on_gate_failure"] = on_gate_failure
        document["runner"] = runner
        if review:
            document["human_review"] = {"sample_size": review}
    # Checked before the API is called, but for a version still to be asked for.
    spec = None if latest_of is not None else _validated(document)
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        if spec is None:
            document["dataset"]["version"] = _latest_version(client, str(latest_of))
            spec = _validated(document)
        accepted = client.create_evaluation(spec)
        _finish_run(client, accepted, options, wait=wait, timeout=timeout)


def _finish_run(
    client: MaasClient,
    accepted: ExecutionAccepted,
    options: ApiOptions,
    *,
    wait: bool,
    timeout: float,
) -> None:
    """Follow the evaluation with ``wait``: to its verdict, or to where a person's grades are
    awaited, which is said with the command that gives them."""
    view = finish_workflow(
        client, accepted, options, wait=wait, timeout=timeout, until=_awaiting_grades
    )
    if view is None or options.as_json:
        return
    if view.status == "RUNNING":
        err_console.print(
            f"waiting for a person's grades: maas evaluations review {accepted.execution_name}",
            highlight=False,
            soft_wrap=True,
        )
        return
    _print_evaluation(client.get_evaluation(accepted.execution_name))


#: The evaluate workflow's state that waits for the review's grades (state_machines/evaluate.json).
REVIEW_STATE = "Wait for a person's grades"


def _awaiting_grades(view: ExecutionView) -> bool:
    """Whether the evaluation waits for a person: ``--wait`` stops there rather than hang.

    >>> from datetime import UTC, datetime
    >>> from schemas.api import ExecutionView, StateVisitView
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> def at(state: str) -> ExecutionView:
    ...     visit = StateVisitView(name=state, state_type="Task", status="running",
    ...                            entered_at=now, attempts=1)
    ...     return ExecutionView(workflow="evaluate", execution_name="acme-1",
    ...                          execution_arn="arn", status="RUNNING", started_at=now,
    ...                          path=[visit])
    >>> _awaiting_grades(at(REVIEW_STATE)), _awaiting_grades(at("Score the shards"))
    (True, False)
    """
    return (
        bool(view.path)
        and view.path[-1].name == REVIEW_STATE
        and (view.path[-1].status == "running")
    )


@evaluations_app.command("list")
def list_evaluations(
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """List the tenant's evaluations."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        records = list(client.list_evaluations().items)
    print_records(
        records,
        options,
        ("evaluation", "endpoint", "status", "questions", "gate", "created"),
        lambda record: (
            record.evaluation_id,
            record.endpoint_name,
            record.status.value,
            str(record.questions),
            _gate(record),
            when(record.created_at),
        ),
    )


def _gate(record: EvaluationRecord) -> str:
    """The gate's verdict in a word: passed, failed, or '-' before there is one."""
    if record.verdict is None:
        return "-"
    return "passed" if record.verdict.passed else "failed"


@evaluations_app.command("show")
def show_evaluation(
    evaluation_id: EvaluationId,
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Show an evaluation: status, each metric, the gate, the judge, the report."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        record = client.get_evaluation(evaluation_id)
    if options.as_json:
        print_json(record)
        return
    _print_evaluation(record)


@evaluations_app.command("review")
def review_evaluation(
    evaluation_id: EvaluationId,
    *,
    grade: Annotated[
        list[str] | None,
        typer.Option(help="QUESTION_ID=up or =down, without prompting (repeat for each)."),
    ] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who grades, for the record.")] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Grade the answers a waiting evaluation asks about; it then resumes."""
    from schemas.evaluation import ReviewSubmission

    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        grades = _given(grade) if grade else _asked(client.review_items(evaluation_id))
        record = client.submit_review(
            evaluation_id, ReviewSubmission(grades=grades, reviewer=reviewer)
        )
    if options.as_json:
        print_json(record)
        return
    console.print(f"{len(grades)} grades sent; the evaluation resumes ({record.status.value}).")


@evaluations_app.command("export")
def export_evaluation(
    evaluation_id: EvaluationId,
    *,
    out: Annotated[Path, typer.Option(dir_okay=False, help="The JSONL file to write.")],
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
) -> None:
    """Write the evaluation's answers, with the review's grades, as EvalGen outputs (JSONL).

    ``maas evalgen import SESSION FILE --grades`` then takes them, so the answers graded in
    the evaluation's review choose the assertions later evaluations run.
    """
    options = ApiOptions(api_url, token, profile, as_json=False)
    with api_client(options) as client:
        summary = client.get_evaluation_summary(evaluation_id)
    grades = {grade.output_id: grade for grade in (summary.review.grades if summary.review else [])}
    lines = []
    for sample in summary.samples:
        line: dict[str, str | None] = {
            "id": sample.id,
            "input": sample.question,
            "output": sample.answer,
            "reference": sample.reference,
        }
        if sample.id in grades:
            line["grade"] = grades[sample.id].grade.value
            line["note"] = grades[sample.id].note
        lines.append(json.dumps(line, ensure_ascii=False))
    out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    console.print(f"{len(lines)} answers ({len(grades)} graded) written to {out}")


def _given(values: list[str]) -> list[ReviewGrade]:
    from schemas.evaluation import ReviewGrade

    grades = []
    for value in values:
        question_id, _, thumb = value.partition("=")
        if thumb not in {"up", "down"}:
            raise typer.BadParameter(
                f"{value!r}: write QUESTION_ID=up or =down", param_hint="--grade"
            )
        grades.append(ReviewGrade(question_id=question_id, grade=thumb))
    return grades


def _asked(items: list[ReviewItem]) -> list[ReviewGrade]:
    from schemas.evaluation import ReviewGrade

    grades = []
    for number, item in enumerate(items, start=1):
        scores = ", ".join(f"{name} {value:.2f}" for name, value in item.scores.items())
        print_fields(
            f"answer {number}/{len(items)}: {item.question_id}",
            {
                "question": item.question,
                "reference": item.reference,
                "answer": item.answer,
                "contexts": ", ".join(item.context_ids) or None,
                "scores": scores or None,
                "trace": item.trace_id,
            },
        )
        thumb = typer.prompt("good answer? (up/down)", type=click.Choice(["up", "down"]))
        note = typer.prompt("note (optional)", default="", show_default=False) or None
        grades.append(ReviewGrade(question_id=item.question_id, grade=thumb, note=note))
    return grades


def _named(ref: DatasetVersionRef) -> str:
    """A dataset version, as ``show`` names the question set it was."""
    return f"dataset {ref.name} version {ref.version}"


def _print_evaluation(record: EvaluationRecord) -> None:
    verdict = record.verdict
    print_fields(
        f"evaluation {record.evaluation_id}",
        {
            "status": record.status.value,
            "endpoint": record.endpoint_name,
            "model": f"{record.model_id} version {record.model_version}",
            "question set": record.spec.question_set_uri
            or (record.spec.dataset and _named(record.spec.dataset)),
            "questions": f"{record.questions} in {record.shards} shards"
            + (f" ({record.runner})" if record.runner else "")
            + (f", {len(record.skipped_lines)} lines skipped" if record.skipped_lines else ""),
            "judge": record.judge
            and f"{record.judge} ({record.judge_parse_failures}/{record.judge_calls} "
            "answers did not parse)",
            "gate": None if verdict is None else ("passed" if verdict.passed else "failed"),
            "report": record.report_uri,
            "summary": record.summary_uri,
            "failure": record.failure,
        },
    )
    if not record.metrics:
        return
    thresholds = {check.metric: check for check in (verdict.checks if verdict else [])}
    table = Table(show_edge=False, title="metrics", title_justify="left")
    for column in ("metric", "mean", "median", "scored", "failed", "threshold"):
        table.add_column(column)
    for summary in record.metrics:
        check = thresholds.get(summary.metric)
        table.add_row(
            summary.metric,
            "-" if summary.mean is None else f"{summary.mean:.3f}",
            "-" if summary.median is None else f"{summary.median:.3f}",
            str(summary.scored),
            str(summary.failed),
            "-" if check is None else f"{'✓' if check.passed else '✗'} {check.threshold:g}",
        )
    console.print(table)


__all__ = ["evaluations_app"]
