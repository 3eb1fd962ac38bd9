"""docs/evaluation.md's report block, run as written on the premises it names.

The block uses what an evaluation has at its end (the scored samples, their summaries, the
gate's verdict, the judge's usage, the question set's skipped lines, people's grades) and an
S3 client; here they are those of ``tests/unit/evaluation/test_report.py``'s evaluation, and
moto's S3.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
from moto import mock_aws

from maas.evaluation.datasets import LineProblem
from maas.evaluation.evalgen.records import Grade, Thumb
from maas.evaluation.gate import judge_gate, summarize
from maas.evaluation.records import JudgeUsage
from maas.evaluation.report import read_summary
from tests.docblocks import containing, runs
from tests.docs.support import run_code
from tests.unit.evaluation.test_report import METRICS, _sample

(REPORT,) = runs("docs/evaluation.md", "python", containing("write_report("))


def test_the_report_block_writes_the_page_and_the_summary_where_it_says() -> None:
    samples = [_sample(0, {"faithfulness": 0.95, "rouge": 1.0}), _sample(1, {"rouge": 0.2})]
    summaries = summarize(samples, METRICS)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        scope = run_code(
            REPORT,
            {
                "started": datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
                "finished": datetime(2026, 11, 28, 9, 4, tzinfo=UTC),
                "summaries": summaries,
                "verdict": judge_gate(summaries, {"faithfulness": 0.8}, on_failure="report"),
                "usage": JudgeUsage(calls=2, retries=0, parse_failures=0),
                "samples": samples,
                "parsed": SimpleNamespace(problems=[LineProblem(3, "not JSON")]),
                "grades": [Grade(output_id="q0", grade=Thumb.UP)],
                "bucket": "artifacts",
                "s3": s3,
            },
        )
        location = scope["location"]
        page = s3.get_object(Bucket="artifacts", Key="evaluations/acme/eval-7/report.html")
        summary = read_summary(location.json_uri, s3_client=s3)

    assert location.html_uri == "s3://artifacts/evaluations/acme/eval-7/report.html"
    assert location.json_uri == "s3://artifacts/evaluations/acme/eval-7/summary.json"
    assert page["ContentType"].startswith("text/html")
    assert summary.evaluation_id == "eval-7"
