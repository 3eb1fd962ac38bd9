"""What scores a shard: the job's metrics, its judge, and the embedder its pipeline uses.

The ragas metrics go to :func:`maas.evaluation.metrics.score`. The metric ``assertions`` is
the model version's EvalGen assertion set (:mod:`maas.evaluation.evalgen`, stored with the
version in the registry): a sample scores 1 when every chosen assertion passes, 0 when one
fails; a version with no stored set fails the metric on every sample, saying so.

The judge is built only when something needs it (an LLM metric, or an LLM grader in the
assertion set): the endpoint under test when the job names none. Answer relevancy embeds
with the pipeline's own embedder when the pipeline has a knowledge corpus, so the metric and
retrieval agree on what "similar" means.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.evaluation.evalgen.records import EvalOutput
from maas.evaluation.evalgen.selection import run_assertion_set
from maas.evaluation.judges.spec import make_judge
from maas.evaluation.metric_names import ASSERTIONS_METRIC, LLM_METRICS
from maas.evaluation.metrics import score
from maas.evaluation.records import JudgeUsage, ScoredSample
from maas.exceptions import MaasError
from maas.pipeline import embedder_for

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from maas.evaluation.evalgen.selection import AssertionSet
    from maas.evaluation.judging import Judge
    from maas.evaluation.plan import EvaluationJob
    from maas.evaluation.records import PipelineAnswer, QuestionRecord
    from maas.registry.assertion_sets import AssertionSetRegistry

    Scorer = Callable[
        [Sequence[tuple[QuestionRecord, PipelineAnswer]], Sequence[str]],
        tuple[list[ScoredSample], JudgeUsage, str | None],
    ]


def stored_assertions(
    job: EvaluationJob, registry: AssertionSetRegistry
) -> tuple[AssertionSet | None, str | None]:
    """The version's assertion set, or None and why there is none."""
    try:
        version = int(job.model_version)
    except ValueError:
        return None, f"version {job.model_version!r} of {job.model_id!r} is not a registry version"
    try:
        return registry.get(job.tenant_id, job.model_id, version).assertion_set, None
    except MaasError as exc:
        return None, str(exc)


def scorer_for(job: EvaluationJob, *, assertion_sets: AssertionSetRegistry) -> Scorer:
    """Score answers as ``job`` asks; returns the samples, the judge's usage and its name."""
    assertions, missing = (
        stored_assertions(job, assertion_sets) if ASSERTIONS_METRIC in job.metrics else (None, None)
    )
    graders = assertions is not None and any(
        chosen.implementation.type == "llm" for chosen in assertions.assertions
    )
    judge = (
        make_judge(job.judge, endpoint_under_test=job.sagemaker_endpoint_name)
        if LLM_METRICS & set(job.metrics) or graders
        else None
    )
    knowledge = job.pipeline.knowledge
    embedder = embedder_for(knowledge.embedding) if knowledge is not None else None

    def scorer(
        answered: Sequence[tuple[QuestionRecord, PipelineAnswer]], metrics: Sequence[str]
    ) -> tuple[list[ScoredSample], JudgeUsage, str | None]:
        ragas_metrics = [metric for metric in metrics if metric != ASSERTIONS_METRIC]
        if ragas_metrics:
            samples, usage = score(answered, ragas_metrics, judge, embedder)
        else:
            samples = [ScoredSample(question=q, answer=a) for q, a in answered]
            usage = JudgeUsage()
        if ASSERTIONS_METRIC in metrics:
            samples = _with_assertions(samples, assertions, missing or "no assertion set", judge)
        return samples, usage, judge.name if judge is not None else None

    return scorer


def _with_assertions(
    samples: list[ScoredSample],
    assertions: AssertionSet | None,
    missing: str,
    judge: Judge | None,
) -> list[ScoredSample]:
    if assertions is None:
        return [
            sample.model_copy(update={"failures": {**sample.failures, ASSERTIONS_METRIC: missing}})
            for sample in samples
        ]
    outputs = [EvalOutput.of_sample(sample) for sample in samples]
    results = {
        result.output_id: result for result in run_assertion_set(assertions, outputs, judge=judge)
    }
    scored = []
    for sample in samples:
        result = results[sample.question.id]
        if result.passed is None:
            failures = {**sample.failures, ASSERTIONS_METRIC: "an assertion could not judge"}
            scored.append(sample.model_copy(update={"failures": failures}))
        else:
            value = 1.0 if result.passed else 0.0
            scored.append(
                sample.model_copy(update={"scores": {**sample.scores, ASSERTIONS_METRIC: value}})
            )
    return scored


__all__ = ["scorer_for", "stored_assertions"]
