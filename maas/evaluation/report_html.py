"""The evaluation report as one self-contained HTML page: inline CSS and SVG, no script.

The page reads top to bottom as a person asks: did the gate pass (each threshold against
its metric's mean), how are the scores spread (a histogram per metric, ten bins over
[0, 1], with the samples the metric could not score beside it), how did the judge fare,
what did the people grade, then every question with its answer, retrieved passages, scores
(or why a score is missing) and a link to its X-Ray trace, and the question-set lines left
out. Answers come from a model and questions from a tenant's file, so every text is escaped.

Examples
--------
>>> histogram([0.0, 0.05, 0.5, 0.99, 1.0])
[2, 0, 0, 0, 0, 1, 0, 0, 0, 2]
"""

from __future__ import annotations

import math
from datetime import UTC
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from maas.htmlpage import page

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from maas.evaluation.records import ScoredSample
    from maas.evaluation.report import EvaluationReport, ReportReview
    from schemas.evaluation import GateVerdict, MetricSummary, ThresholdCheck

#: Bins of each metric's histogram, of equal width over [0, 1].
BINS = 10

#: The histogram's drawing, in SVG user units.
_WIDTH, _HEIGHT, _TOP, _BOTTOM = 300, 130, 14, 18

_STYLE = """
h2 { font-size: 14px; margin: 20px 0 6px; }
div.verdict { padding: 8px 12px; border-left: 4px solid #5b6475; background: #f3f4f7; }
div.verdict.passed { border-color: #2e8b57; background: #eef7f1; }
div.verdict.failed { border-color: #c0392b; background: #fbeeed; }
div.verdict h2 { margin: 0 0 6px; }
div.verdict table { width: auto; }
td.pass { color: #2e8b57; } td.fail { color: #c0392b; font-weight: 600; }
div.metrics { display: flex; flex-wrap: wrap; gap: 16px; }
figure.metric { margin: 0; padding: 8px; border: 1px solid #e6e8ee; }
figure.metric figcaption { margin: 0 0 6px; color: #5b6475; }
figure.metric figcaption b { color: #1d2330; }
div.plot { display: flex; align-items: flex-end; gap: 8px; }
div.failed { color: #5b6475; text-align: center; min-width: 56px; }
div.failed.some { color: #c0392b; }
div.failed b { display: block; font-size: 18px; }
svg.histogram rect { fill: #3b82c4; }
svg.histogram text { font: 10px system-ui, sans-serif; fill: #5b6475; }
svg.histogram text.count { fill: #1d2330; }
svg.histogram line { stroke: #c9cdd6; }
td.text { white-space: pre-wrap; max-width: 32em; }
td.failure { color: #c0392b; max-width: 16em; }
td.missing { color: #5b6475; }
span.badge { display: inline-block; padding: 0 4px; color: #fff; background: #c0392b; }
span.meta { display: block; color: #5b6475; }
details summary { cursor: pointer; color: #3b82c4; white-space: nowrap; }
div.passage { white-space: pre-wrap; color: #5b6475; margin: 2px 0 6px; max-width: 40em; }
code { font: 12px ui-monospace, monospace; background: #f3f4f7; padding: 0 3px; }
"""


def trace_link(trace_id: str, region: str) -> str:
    """The CloudWatch console's page of the X-Ray trace ``trace_id`` in ``region``.

    X-Ray's console lives in CloudWatch (the old ``xray/home#/traces/<id>`` links redirect
    there); China and GovCloud regions have their own console domains.

    Examples
    --------
    >>> trace_link("1-5f84c7a1-2b7c3a0e9d1f4e5a6b7c8d9e", "eu-west-1")
    'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#xray:traces/1-5f84c7a1-2b7c3a0e9d1f4e5a6b7c8d9e'
    >>> trace_link("1-5f84c7a1-2b7c3a0e9d1f4e5a6b7c8d9e", "cn-north-1").split("#")[0]
    'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1'
    """
    region = quote(region, safe="")
    if region.startswith("cn-"):
        host = "console.amazonaws.cn"
    elif region.startswith("us-gov-"):
        host = "console.amazonaws-us-gov.com"
    else:
        host = f"{region}.console.aws.amazon.com"
    return f"https://{host}/cloudwatch/home?region={region}#xray:traces/{quote(trace_id, safe='')}"


def histogram(scores: Iterable[float], bins: int = BINS) -> list[int]:
    """Counts of ``scores`` in ``bins`` equal bins over [0, 1].

    A bin holds its lower edge; 1.0 falls in the last bin, and a score outside [0, 1] (a
    cosine similarity can dip below 0) in the nearest end bin.
    """
    counts = [0] * bins
    for score in scores:
        if not math.isfinite(score):
            continue  # not a score: the evaluator records a failure instead
        counts[min(bins - 1, max(0, math.floor(score * bins)))] += 1
    return counts


def render_html(report: EvaluationReport) -> str:
    """The report's page."""
    title = f"evaluation {report.evaluation_id}"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(_meta(report))}</p>',
        _verdict(report.verdict),
        "<h2>Metrics</h2>",
        _judge(report),
        _metrics(report.metrics, report.samples),
    ]
    if report.review is not None:
        sections.append(_review(report.review))
    sections += [
        f"<h2>Questions ({len(report.samples)})</h2>",
        _samples_table(report),
        f"<h2>Skipped lines ({len(report.skipped_lines)})</h2>",
        _skipped(report),
    ]
    return page(title, "\n".join(sections), style=_STYLE)


def _meta(report: EvaluationReport) -> str:
    duration = (report.finished_at - report.started_at).total_seconds()
    return (
        f"tenant {report.tenant_id} · endpoint {report.endpoint_name} · model "
        f"{report.model_name} version {report.model_version} · {report.region} · "
        f"{_utc(report.started_at)} to {_utc(report.finished_at)} UTC ({duration:.0f} s)"
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _verdict(verdict: GateVerdict | None) -> str:
    if verdict is None:
        return '<div class="verdict"><h2>No gate</h2>The request set no threshold.</div>'
    state = "passed" if verdict.passed else "failed"
    heading = "Gate passed" if verdict.passed else f"Gate failed: {verdict.action or 'report'}"
    rows = "".join(
        f'<tr><td>{escape(check.metric)}</td><td class="num">&ge; {check.threshold:.3f}</td>'
        f'<td class="num">{_number(check.mean)}</td>{_check_result(check)}</tr>'
        for check in verdict.checks
    )
    return (
        f'<div class="verdict {state}"><h2>{escape(heading)}</h2>'
        "<table><thead><tr><th>metric</th><th>threshold</th><th>mean</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _check_result(check: ThresholdCheck) -> str:
    if check.passed:
        return '<td class="pass">passed</td>'
    return '<td class="fail">failed' + (" (no score)" if check.mean is None else "") + "</td>"


def _judge(report: EvaluationReport) -> str:
    if report.judge is None:
        return '<p class="meta">No LLM judge: every metric was computed without one.</p>'
    usage = report.judge_usage
    return (
        f'<p class="meta">Judge <b>{escape(report.judge)}</b>: {usage.calls} calls, '
        f"{usage.retries} retries, {usage.parse_failures} answers that never parsed "
        f"({usage.failure_share:.1%} of calls).</p>"
    )


def _metrics(summaries: Sequence[MetricSummary], samples: Sequence[ScoredSample]) -> str:
    figures = []
    for summary in summaries:
        counts = histogram(
            sample.scores[summary.metric] for sample in samples if summary.metric in sample.scores
        )
        stats = (
            f"mean {_number(summary.mean)} · median {_number(summary.median)} · "
            f"range {_number(summary.minimum)} to {_number(summary.maximum)} · "
            f"{summary.scored} scored"
        )
        some = " some" if summary.failed else ""
        figures.append(
            f'<figure class="metric"><figcaption><b>{escape(summary.metric)}</b> '
            f"{escape(stats)}</figcaption>"
            f'<div class="plot">{_histogram_svg(summary.metric, counts)}'
            f'<div class="failed{some}"><b>{summary.failed}</b>failed</div></div></figure>'
        )
    return f'<div class="metrics">{"".join(figures)}</div>'


def _histogram_svg(metric: str, counts: list[int]) -> str:
    plot_height = _HEIGHT - _TOP - _BOTTOM
    slot = _WIDTH / len(counts)
    tallest = max(*counts, 1)
    parts = []
    for index, count in enumerate(counts):
        height = count / tallest * plot_height
        x = index * slot
        y = _TOP + plot_height - height
        low, high = index / len(counts), (index + 1) / len(counts)
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{slot - 2:.1f}" height="{height:.1f}">'
            f"<title>{low:.1f} to {high:.1f}: {count}</title></rect>"
            f'<text class="count" x="{x + slot / 2:.1f}" y="{y - 3:.1f}" '
            f'text-anchor="middle">{count}</text>'
        )
    baseline = _TOP + plot_height
    axis = (
        f'<line x1="0" y1="{baseline}" x2="{_WIDTH}" y2="{baseline}"/>'
        f'<text x="0" y="{_HEIGHT - 4}">0</text>'
        f'<text x="{_WIDTH / 2:.0f}" y="{_HEIGHT - 4}" text-anchor="middle">0.5</text>'
        f'<text x="{_WIDTH}" y="{_HEIGHT - 4}" text-anchor="end">1</text>'
    )
    label = escape(f"{metric}: {sum(counts)} scores in {len(counts)} bins over 0 to 1")
    return (
        f'<svg class="histogram" data-metric="{escape(metric)}" role="img" '
        f'width="{_WIDTH}" height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        f"{''.join(parts)}{axis}</svg>"
    )


def _review(review: ReportReview) -> str:
    up = sum(1 for grade in review.grades if grade.good)
    down = len(review.grades) - up
    text = f"{len(review.grades)} answers graded by people: {up} up, {down} down."
    figures = review.alignment
    if figures is None:
        agreement = "No agreement figure: it needs thresholds and both up and down grades."
    else:
        agreement = (
            f"The thresholds, applied to each answer, caught {figures.caught} of {figures.bad} "
            f"thumbs-down answers (coverage {figures.coverage:.0%}) and failed "
            f"{figures.false_failures} of {figures.good} thumbs-up answers (false failure rate "
            f"{figures.false_failure_rate:.0%}): alignment {figures.alignment:.2f}."
        )
    return f"<h2>Review</h2><p>{escape(text)} {escape(agreement)}</p>"


def _samples_table(report: EvaluationReport) -> str:
    metrics = [summary.metric for summary in report.metrics]
    grades = {grade.output_id: grade for grade in report.review.grades} if report.review else {}
    head = "".join(f"<th>{escape(metric)}</th>" for metric in metrics)
    grade_head = "<th>grade</th>" if report.review is not None else ""
    rows = []
    for sample in report.samples:
        question, answer = sample.question, sample.answer
        cells = [
            f'<td class="text"><b>{escape(question.id)}</b>\n{escape(question.question)}</td>',
            f'<td class="text">{escape(question.reference)}</td>',
            f'<td class="text">{_answer(sample)}</td>',
            f"<td>{_contexts(sample)}</td>",
            *(_score_cell(sample, metric) for metric in metrics),
        ]
        if report.review is not None:
            grade = grades.get(question.id)
            cells.append(
                "<td></td>"
                if grade is None
                else f'<td class="text">{escape(grade.grade.value)}'
                + (f"\n{escape(grade.note)}" if grade.note else "")
                + "</td>"
            )
        cells.append(f"<td>{_trace(answer.trace_id, report.region)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        "<table><thead><tr><th>question</th><th>reference</th><th>answer</th><th>contexts</th>"
        f"{head}{grade_head}<th>trace</th></tr></thead>\n"
        f"<tbody>\n{chr(10).join(rows)}\n</tbody></table>"
    )


def _answer(sample: ScoredSample) -> str:
    answer = sample.answer
    badge = '<span class="badge">blocked by guardrail</span> ' if answer.blocked else ""
    figures = f"{answer.latency_ms:.0f} ms · {answer.tokens_in} tokens in, {answer.tokens_out} out"
    return f'{badge}{escape(answer.answer)}<span class="meta">{escape(figures)}</span>'


def _contexts(sample: ScoredSample) -> str:
    contexts = sample.answer.contexts
    if not contexts:
        return '<span class="meta">none</span>'
    items = "".join(
        f'<li><b>{escape(context.id)}</b> <span class="num">{context.score:.3f}</span>'
        f'<div class="passage">{escape(context.text)}</div></li>'
        for context in contexts
    )
    noun = "passage" if len(contexts) == 1 else "passages"
    return f"<details><summary>{len(contexts)} {noun}</summary><ol>{items}</ol></details>"


def _score_cell(sample: ScoredSample, metric: str) -> str:
    if metric in sample.scores:
        return f'<td class="num">{sample.scores[metric]:.3f}</td>'
    if metric in sample.failures:
        return f'<td class="failure">failed: {escape(sample.failures[metric])}</td>'
    return '<td class="missing">not scored</td>'


def _trace(trace_id: str | None, region: str) -> str:
    if trace_id is None:
        return '<span class="meta">no trace</span>'
    return (
        f'<a href="{escape(trace_link(trace_id, region))}">{escape(trace_id)}</a>'
        f'<span class="meta">or <code>maas traces show {escape(trace_id)}</code></span>'
    )


def _skipped(report: EvaluationReport) -> str:
    if not report.skipped_lines:
        return '<p class="meta">None: every line of the question set was read.</p>'
    rows = "".join(
        f'<tr><td class="num">{problem.line}</td><td>{escape(problem.reason)}</td></tr>'
        for problem in report.skipped_lines
    )
    return (
        f"<table><thead><tr><th>line</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


__all__ = ["BINS", "histogram", "render_html", "trace_link"]
