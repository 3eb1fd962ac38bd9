"""After the shards: gather their results, judge the gate, pick what a person reviews.

Each shard's job writes ``results/<shard>.jsonl`` (one :class:`ScoredSample` per line) and
``results/<shard>.judge.json`` (a :class:`ShardJudging`). A shard whose results are missing
fails the evaluation: a gate over part of the questions would not say what it seems to.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from maas.aws import error_code, split_s3_uri
from maas.evaluation.gate import judge_gate, summarize
from maas.evaluation.records import JudgeUsage, ScoredSample
from maas.exceptions import IntegrityError
from schemas.evaluation import GateVerdict, MetricSummary

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.evaluation.plan import EvaluationJob
    from schemas.evaluation import EvaluationSpec


class ShardJudging(BaseModel):
    """Which judge scored a shard, and how often its answers failed to parse."""

    judge: str | None = None
    usage: JudgeUsage = JudgeUsage()


class Outcome(BaseModel):
    """The evaluation's scores over every shard."""

    samples: list[ScoredSample]
    metrics: list[MetricSummary]
    verdict: GateVerdict
    judge: str | None
    usage: JudgeUsage


def judging_uri(results_uri: str) -> str:
    """Where a shard's judge usage is written beside its results.

    >>> judging_uri("s3://b/evaluations/acme/e1/results/0000.jsonl")
    's3://b/evaluations/acme/e1/results/0000.judge.json'
    """
    return results_uri.removesuffix(".jsonl") + ".judge.json"


def gather(job: EvaluationJob, spec: EvaluationSpec, s3: Any) -> Outcome:
    """Read every shard's results and judge the gate over all of them."""
    samples: list[ScoredSample] = []
    usage = JudgeUsage()
    judges: set[str] = set()
    for shard in range(len(job.shard_uris)):
        results = job.results_uri(shard)
        text = _read(s3, results)
        samples.extend(ScoredSample.model_validate_json(line) for line in text.splitlines() if line)
        judging = ShardJudging.model_validate_json(_read(s3, judging_uri(results)))
        usage = usage + judging.usage
        if judging.judge:
            judges.add(judging.judge)
    metrics = summarize(samples, job.metrics)
    verdict = judge_gate(metrics, spec.thresholds, on_failure=spec.on_gate_failure)
    return Outcome(
        samples=samples,
        metrics=metrics,
        verdict=verdict,
        judge=", ".join(sorted(judges)) or None,
        usage=usage,
    )


def review_sample(samples: Sequence[ScoredSample], size: int, *, seed: str) -> list[str]:
    """The ids of ``size`` questions for a person to grade, the same for the same ``seed``.

    Ordered by a hash of the seed and the id, so the sample is spread over the question set
    and a retried step picks the same questions.

    >>> from maas.evaluation.records import PipelineAnswer, QuestionRecord
    >>> rows = [ScoredSample(question=QuestionRecord(id=f"q{n}", question="?", reference="!"),
    ...                      answer=PipelineAnswer(answer="a")) for n in range(10)]
    >>> review_sample(rows, 3, seed="e1") == review_sample(rows, 3, seed="e1")
    True
    >>> len(review_sample(rows, 30, seed="e1"))
    10
    """

    def rank(sample: ScoredSample) -> str:
        return hashlib.sha256(f"{seed}/{sample.question.id}".encode()).hexdigest()

    return [sample.question.id for sample in sorted(samples, key=rank)[:size]]


def _read(s3: Any, uri: str) -> str:
    bucket, key = split_s3_uri(uri)
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.ClientError as exc:
        if error_code(exc) in {"NoSuchKey", "404"}:
            raise IntegrityError(f"evaluation: a shard wrote no results at {uri}") from None
        raise
    return body.decode()


def load_json(s3: Any, uri: str) -> Any:
    """A JSON document of the evaluation's files."""
    return json.loads(_read(s3, uri))


__all__ = ["Outcome", "ShardJudging", "gather", "judging_uri", "load_json", "review_sample"]
