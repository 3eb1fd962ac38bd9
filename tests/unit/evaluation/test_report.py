"""The evaluation report: the HTML page, the JSON summary, and both in S3."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import boto3
import pytest

from maas.evaluation.datasets import LineProblem
from maas.evaluation.evalgen.records import Grade, Thumb
from maas.evaluation.gate import judge_gate, summarize
from maas.evaluation.records import (
    JudgeUsage,
    PipelineAnswer,
    QuestionRecord,
    RetrievedContext,
    ScoredSample,
)
from maas.evaluation.report import (
    EvaluationReport,
    ReportSummary,
    read_summary,
    render_html,
    review_of,
    summary_document,
    trace_link,
    write_report,
)
from maas.exceptions import NotFound, ValidationError

METRICS = ["faithfulness", "rouge"]
HOSTILE = "<script>alert('pwned')</script> & more"
TRACE_IDS = [f"1-6748a1b{index}-0123456789abcdef0123456{index}" for index in range(4)]


def _sample(
    index: int, scores: dict[str, float], failures: dict[str, str] | None = None
) -> ScoredSample:
    return ScoredSample(
        question=QuestionRecord(
            id=f"q{index}", question=f"Question {index}?", reference=f"Reference {index}"
        ),
        answer=PipelineAnswer(
            answer=HOSTILE if index == 0 else f"Answer {index}",
            contexts=(
                RetrievedContext(id=f"doc-{index}", text=f"passage text {index}", score=0.812),
            ),
            trace_id=TRACE_IDS[index],
            latency_ms=41.5,
            tokens_in=120,
            tokens_out=12,
        ),
        scores=scores,
        failures=failures or {},
    )


@pytest.fixture
def report() -> EvaluationReport:
    samples = [
        _sample(0, {"faithfulness": 0.95, "rouge": 1.0}),
        _sample(1, {"faithfulness": 0.45, "rouge": 0.0}),
        _sample(2, {"rouge": 0.31}, {"faithfulness": "judge answer did not parse after 2 tries"}),
        _sample(3, {"faithfulness": 0.9, "rouge": 0.35}),
    ]
    metrics = summarize(samples, METRICS)
    verdict = judge_gate(metrics, {"faithfulness": 0.8}, on_failure="reject_version")
    grades = [
        Grade(output_id="q0", grade=Thumb.UP, note="correct"),
        Grade(output_id="q1", grade=Thumb.DOWN, note="made up <b>facts</b>"),
        Grade(output_id="q3", grade=Thumb.DOWN),
    ]
    return EvaluationReport(
        evaluation_id="eval-7",
        tenant_id="acme",
        endpoint_name="acme-smollm2",
        model_name="smollm2",
        model_version="3",
        region="eu-west-1",
        started_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        finished_at=datetime(2026, 11, 28, 9, 4, 10, tzinfo=UTC),
        metrics=metrics,
        verdict=verdict,
        judge="local:SmolLM2-135M-Instruct",
        judge_usage=JudgeUsage(calls=8, retries=3, parse_failures=2),
        samples=samples,
        skipped_lines=[LineProblem(4, "not JSON (Expecting value at column 1)")],
        review=review_of(samples, grades, verdict),
    )


def _histogram_counts(html: str) -> dict[str, list[int]]:
    svgs = re.findall(r'<svg class="histogram" data-metric="([^"]+)".*?</svg>', html, re.S)
    bodies = re.findall(r'<svg class="histogram".*?</svg>', html, re.S)
    return {
        metric: [int(count) for count in re.findall(r'<text class="count"[^>]*>(\d+)</text>', body)]
        for metric, body in zip(svgs, bodies, strict=True)
    }


def test_html_escapes_a_hostile_answer(report: EvaluationReport) -> None:
    html = render_html(report)

    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; &amp; more" in html
    assert "made up &lt;b&gt;facts&lt;/b&gt;" in html


def test_html_draws_one_histogram_per_metric_counting_the_scored_samples(
    report: EvaluationReport,
) -> None:
    counts = _histogram_counts(render_html(report))

    assert list(counts) == METRICS
    for summary in report.metrics:
        assert len(counts[summary.metric]) == 10
        assert sum(counts[summary.metric]) == summary.scored
    # rouge: 0.0 in the first bin, 0.31 and 0.35 in the fourth, 1.0 in the last
    assert counts["rouge"] == [1, 0, 0, 2, 0, 0, 0, 0, 0, 1]


def test_html_shows_each_metrics_failed_count_beside_its_plot(report: EvaluationReport) -> None:
    html = render_html(report)

    assert '<div class="failed some"><b>1</b>failed</div>' in html  # faithfulness
    assert '<div class="failed"><b>0</b>failed</div>' in html  # rouge


def test_a_failed_sample_shows_its_reason_not_a_number(report: EvaluationReport) -> None:
    html = render_html(report)
    row = next(row for row in html.split("<tr>") if "<b>q2</b>" in row)

    assert '<td class="failure">failed: judge answer did not parse after 2 tries</td>' in row
    assert "nan" not in row.lower()
    assert '<td class="num">0.310</td>' in row


def test_html_links_every_question_to_its_trace(report: EvaluationReport) -> None:
    html = render_html(report)

    for trace_id in TRACE_IDS:
        url = trace_link(trace_id, "eu-west-1")
        assert f'<a href="{url}">{trace_id}</a>' in html
        assert f"<code>maas traces show {trace_id}</code>" in html


def test_html_shows_the_gate_judge_review_contexts_and_skipped_lines(
    report: EvaluationReport,
) -> None:
    html = render_html(report)

    assert '<div class="verdict failed"><h2>Gate failed: reject_version</h2>' in html
    assert '<td class="num">&ge; 0.800</td><td class="num">0.767</td><td class="fail">' in html
    assert "local:SmolLM2-135M-Instruct" in html
    assert "2 answers that never parsed (25.0% of calls)" in html
    assert "<details><summary>1 passage</summary>" in html
    assert "<b>doc-1</b>" in html
    assert "passage text 1" in html
    assert '<td class="num">4</td><td>not JSON (Expecting value at column 1)</td>' in html
    assert "alignment 0.67" in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "").replace(
        "https://eu-west-1.console.aws.amazon.com/", ""
    )  # self-contained: no stylesheet, script or font from elsewhere


def test_review_measures_the_thresholds_against_the_grades(report: EvaluationReport) -> None:
    assert report.review is not None
    figures = report.review.alignment
    assert figures is not None
    # q1 (0.45, down) is caught; q3 (0.9, down) is missed; q0 (0.95, up) passes.
    assert (figures.graded, figures.caught, figures.false_failures) == (3, 1, 0)
    assert figures.coverage == 0.5
    assert figures.false_failure_rate == 0.0


def test_review_keeps_each_answers_latest_grade() -> None:
    samples = [_sample(0, {"faithfulness": 0.9})]
    grades = [
        Grade(output_id="q0", grade=Thumb.UP, graded_at=datetime(2026, 11, 28, 10, tzinfo=UTC)),
        Grade(output_id="q0", grade=Thumb.DOWN, graded_at=datetime(2026, 11, 28, 9, tzinfo=UTC)),
        Grade(output_id="elsewhere", grade=Thumb.DOWN),
    ]

    review = review_of(samples, grades, verdict=None)

    assert [(grade.output_id, grade.grade) for grade in review.grades] == [("q0", Thumb.UP)]
    assert review.alignment is None


def test_trace_link_opens_the_trace_in_the_cloudwatch_console() -> None:
    trace_id = TRACE_IDS[0]

    assert trace_link(trace_id, "us-east-1") == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        f"#xray:traces/{trace_id}"
    )
    assert trace_link(trace_id, "us-gov-west-1").startswith(
        "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#"
    )
    assert trace_link('1-x"><script>', "eu-west-1").endswith("#xray:traces/1-x%22%3E%3Cscript%3E")


def test_summary_leaves_out_context_text_and_keeps_scores_failures_and_traces(
    report: EvaluationReport,
) -> None:
    document = summary_document(report)
    text = json.dumps(document)

    assert "passage text" not in text
    assert document["samples"][1]["contexts"] == [{"id": "doc-1", "score": 0.812}]
    assert document["samples"][2]["scores"] == {"rouge": 0.31}
    assert document["samples"][2]["failures"] == {
        "faithfulness": "judge answer did not parse after 2 tries"
    }
    assert document["samples"][3]["trace_id"] == TRACE_IDS[3]
    assert document["samples"][3]["trace_url"] == trace_link(TRACE_IDS[3], "eu-west-1")
    assert document["judge_parse_failure_share"] == 0.25
    assert document["verdict"]["passed"] is False
    assert document["skipped_lines"] == [
        {"line": 4, "reason": "not JSON (Expecting value at column 1)"}
    ]


def test_summary_validates_and_round_trips(report: EvaluationReport) -> None:
    document = summary_document(report)

    parsed = ReportSummary.model_validate_json(json.dumps(document))

    assert parsed.model_dump(mode="json") == document
    assert parsed.metrics == report.metrics


def test_a_report_of_an_unknown_region_is_refused(report: EvaluationReport) -> None:
    fields = report.model_dump()
    fields["region"] = "mars"

    with pytest.raises(ValueError, match="region"):
        EvaluationReport.model_validate(fields)


@pytest.mark.usefixtures("aws")
def test_write_report_puts_the_page_and_the_summary_in_s3(report: EvaluationReport) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="reports")

    location = write_report(
        report, bucket="reports", prefix="evaluations/acme/eval-7/", s3_client=s3
    )

    assert location.html_uri == "s3://reports/evaluations/acme/eval-7/report.html"
    assert location.json_uri == "s3://reports/evaluations/acme/eval-7/summary.json"
    page = s3.get_object(Bucket="reports", Key="evaluations/acme/eval-7/report.html")
    assert page["ContentType"].startswith("text/html")
    assert page["Body"].read().decode() == render_html(report)
    summary = s3.get_object(Bucket="reports", Key="evaluations/acme/eval-7/summary.json")
    assert summary["ContentType"] == "application/json"
    assert read_summary(location.json_uri, s3_client=s3).model_dump(
        mode="json"
    ) == summary_document(report)


@pytest.mark.usefixtures("aws")
def test_read_summary_of_a_missing_object_is_not_found() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="reports")

    with pytest.raises(NotFound, match=r"no evaluation summary at s3://reports/nope\.json"):
        read_summary("s3://reports/nope.json", s3_client=s3)


@pytest.mark.usefixtures("aws")
def test_read_summary_of_another_document_is_a_validation_error() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="reports")
    s3.put_object(Bucket="reports", Key="other.json", Body=b'{"evaluation_id": "eval-7"}')

    with pytest.raises(ValidationError, match="is not an evaluation summary: tenant_id"):
        read_summary("s3://reports/other.json", s3_client=s3)
