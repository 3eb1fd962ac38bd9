"""The demo's evaluation: its scores, the judge's parse failures, one question's trace.

The report the evaluation wrote to S3 is copied to ``build/demo-evaluation/`` so it can be
opened after the demo (the emulated account is gone by then), with the summary beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from maas.aws import split_s3_uri
from maas.cli.traces import fetch_waterfall, render_waterfall
from maas.evaluation.report import read_summary
from maas.evaluation.store import EvaluationStore
from maas.exceptions import NotFound

if TYPE_CHECKING:
    from rich.console import Console

    from maas.local import LocalRuntime

#: Where the demo leaves the evaluation's report.
REPORT_FOLDER = Path("build") / "demo-evaluation"


def show_evaluation(
    console: Console, runtime: LocalRuntime, tenant: str, evaluation_id: str
) -> Path | None:
    """Print the evaluation's scores and one trace; the local copy of its report."""
    store = EvaluationStore(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    try:
        record = store.get(tenant, evaluation_id)
    except NotFound:
        console.print("[red]the evaluation left no record[/]")
        return None
    verdict = record.verdict
    table = Table(
        title=f"evaluation {evaluation_id}: {record.questions} questions in {record.shards} "
        f"shards, judge {record.judge or '-'}",
        title_justify="left",
    )
    for column in ("metric", "mean", "scored", "failed", "gate"):
        table.add_column(column)
    checks = {check.metric: check for check in (verdict.checks if verdict else [])}
    for summary in record.metrics:
        check = checks.get(summary.metric)
        table.add_row(
            summary.metric,
            "-" if summary.mean is None else f"{summary.mean:.3f}",
            str(summary.scored),
            str(summary.failed),
            ""
            if check is None
            else f"{'passed' if check.passed else 'FAILED'} (>= {check.threshold:g})",
        )
    console.print(table)
    if record.judge_calls:
        share = record.judge_parse_failures / record.judge_calls
        console.print(
            f"judge answers that did not parse: {record.judge_parse_failures} of "
            f"{record.judge_calls} calls ({share:.0%}); their samples are recorded as failed"
        )
    if record.report_uri is None or record.summary_uri is None:
        console.print(f"[red]no report[/]: {record.status.value} {record.failure or ''}")
        return None
    s3 = runtime.client("s3")
    written = read_summary(record.summary_uri, s3_client=s3)
    traced = next((sample.trace_id for sample in written.samples if sample.trace_id), None)
    if traced is not None:
        found = fetch_waterfall(runtime.client("xray"), traced)
        if found is not None:
            console.print(render_waterfall(found))
    REPORT_FOLDER.mkdir(parents=True, exist_ok=True)
    for uri in (record.report_uri, record.summary_uri):
        bucket, key = split_s3_uri(uri)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        (REPORT_FOLDER / Path(key).name).write_bytes(body)
    report = REPORT_FOLDER / Path(split_s3_uri(record.report_uri)[1]).name
    console.print(f"report: {record.report_uri}, copied to [bold]{report}[/]")
    return report


__all__ = ["REPORT_FOLDER", "show_evaluation"]
