"""Scoring the pipeline's answers with ragas: LLM metrics through a judge, and string metrics.

Every metric is ragas's own (0.4's ``ragas.metrics.collections`` where it has the metric,
the classic single-turn metrics for the non-LLM context metrics it has only there); nothing
is re-implemented here. What this module adds is the plumbing:

- :class:`JudgeLLM` puts any :class:`~maas.evaluation.judging.Judge` behind ragas's
  structured-output interface (``InstructorBaseRagasLLM``): ragas asks for a pydantic model,
  the judge answers one, constrained or parsed and retried as that judge does;
- :class:`EmbedderEmbeddings` puts the RAG pipeline's :class:`~maas.pipeline.Embedder`
  (all-MiniLM-L6-v2 locally, a SageMaker or Bedrock model) behind ragas's embeddings;
- faithfulness asks its verdicts in a schema that lists the statements it extracted
  (:func:`verdicts_model`): the same prompt and score, without verdicts on statements the
  judge invents;
- :func:`score` runs the asked metrics on each sample and records, for a metric that could
  not score a sample, why (the judge never parsed, ragas raised, ragas returned NaN): a
  failure is a row of ``failures``, never a NaN in ``scores``.

ragas is imported when :func:`score` runs (the ``evaluation`` extra); the metric names are in
:mod:`maas.evaluation.metric_names`, which needs nothing.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any, cast

from maas.evaluation.judging import JudgeAnswerError
from maas.evaluation.metric_names import LLM_METRICS, METRIC_NAMES
from maas.evaluation.records import JudgeUsage, ScoredSample
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ragas.embeddings.base import BaseRagasEmbedding
    from ragas.metrics.collections.faithfulness.util import NLIStatementOutput

    from maas.evaluation.judging import AnswerT, Judge
    from maas.evaluation.records import PipelineAnswer, QuestionRecord
    from maas.pipeline import Embedder

#: New tokens a judge may write for one answer: ragas's longest (a verdict per statement) fit.
DEFAULT_JUDGE_TOKENS = 256
#: Questions ragas's answer relevancy generates per answer. Its default, 3, asks a greedy
#: judge the same prompt three times for the same question: one is as good and a third the cost.
ANSWER_RELEVANCY_STRICTNESS = 1


def _instructor_base() -> type:
    from ragas.llms.base import InstructorBaseRagasLLM  # noqa: PLC0415 - the evaluation extra

    return InstructorBaseRagasLLM


def _embedding_base() -> type:
    from ragas.embeddings.base import BaseRagasEmbedding  # noqa: PLC0415 - the evaluation extra

    return BaseRagasEmbedding


def judge_llm(judge: Judge, *, max_new_tokens: int = DEFAULT_JUDGE_TOKENS) -> Any:
    """``judge`` as a ragas LLM (an ``InstructorBaseRagasLLM``), for ragas's LLM metrics."""
    base = _instructor_base()

    class JudgeLLM(base):  # type: ignore[valid-type,misc]
        """ragas's structured-output LLM, answered by a :class:`Judge`."""

        def __init__(self) -> None:
            self.judge = judge
            self.max_new_tokens = max_new_tokens

        def generate(self, prompt: str, response_model: type[AnswerT]) -> AnswerT:
            return judge.ask(prompt, response_model, max_new_tokens=max_new_tokens)

        async def agenerate(self, prompt: str, response_model: type[AnswerT]) -> AnswerT:
            # Called inline, not in a thread: metrics run one at a time (a local judge
            # generates one answer at a time anyway), and a remote judge's boto3 call is short.
            return judge.ask(prompt, response_model, max_new_tokens=max_new_tokens)

    return JudgeLLM()


def verdicts_model(statements: Sequence[str]) -> type[NLIStatementOutput]:
    """ragas's NLI answer model, whose JSON Schema asks for one verdict per ``statements``, in
    order, each naming its statement as given.

    ragas's faithfulness asks the judge for "a verdict for each statement" and divides the
    faithful verdicts by the verdicts given; its answer schema leaves the list open. A small
    judge then writes verdicts on statements it made up (eight for one statement, the last
    ones on invented text), which both takes most of an evaluation's time (a verdict with its
    reason is tens of tokens) and counts what is not in the answer. This schema says what the
    prompt says: the list's items are the statements given, in order, each copied word for
    word (a constrained judge is handed those words rather than writing them; a remote judge
    reads them in the schema). Validation is ragas's own (the schema is only what is asked),
    so a remote judge's answer is read as before.

    Examples
    --------
    >>> schema = verdicts_model(["Paris is in France."]).model_json_schema()
    >>> listed = schema["properties"]["statements"]
    >>> listed["minItems"], listed["maxItems"], listed["items"]
    (1, 1, False)
    >>> listed["prefixItems"][0]["properties"]["statement"]
    {'const': 'Paris is in France.', 'type': 'string'}
    """
    from pydantic import ConfigDict  # noqa: PLC0415
    from ragas.metrics.collections.faithfulness.util import (  # noqa: PLC0415
        NLIStatementOutput,
        StatementFaithfulnessAnswer,
    )

    given = list(statements)
    item = StatementFaithfulnessAnswer.model_json_schema()

    def per_statement(schema: dict[str, Any]) -> None:
        listed = schema["properties"]["statements"]
        listed["prefixItems"] = [
            {
                **item,
                "properties": {
                    **item["properties"],
                    "statement": {"type": "string", "const": statement},
                },
            }
            for statement in given
        ]
        listed["items"] = False
        listed["minItems"] = listed["maxItems"] = len(given)

    class Verdicts(NLIStatementOutput):
        model_config = ConfigDict(json_schema_extra=per_statement)

    return Verdicts


def _faithfulness(llm: Any) -> Any:
    """ragas's faithfulness, asking for the verdicts on the statements it made
    (:func:`verdicts_model`); the prompts, the statements and the score are ragas's."""
    from ragas.metrics.collections import Faithfulness  # noqa: PLC0415 - the evaluation extra
    from ragas.metrics.collections.faithfulness.util import NLIStatementInput  # noqa: PLC0415

    class StatementVerdictFaithfulness(Faithfulness):
        async def _create_verdicts(self, statements: list[str], context: str) -> Any:
            prompt = self.nli_statement_prompt.to_string(
                NLIStatementInput(context=context, statements=statements)
            )
            return await self.llm.agenerate(prompt, verdicts_model(statements))

    return StatementVerdictFaithfulness(llm=llm)


def embedder_embeddings(embedder: Embedder) -> BaseRagasEmbedding:
    """The pipeline's ``embedder`` as ragas embeddings (for answer relevancy)."""
    base = _embedding_base()

    class EmbedderEmbeddings(base):  # type: ignore[valid-type,misc]
        """ragas's embeddings, computed by a :class:`maas.pipeline.Embedder`."""

        def __init__(self) -> None:
            super().__init__(cache=None)
            self.embedder = embedder

        def embed_text(self, text: str, **kwargs: Any) -> list[float]:
            return embedder.embed([text], purpose="query")[0]

        async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
            return embedder.embed([text], purpose="query")[0]

        def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return embedder.embed(texts, purpose="query")

        async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
            return embedder.embed(texts, purpose="query")

    embeddings: BaseRagasEmbedding = EmbedderEmbeddings()
    return embeddings


def check_metrics(metrics: Sequence[str], *, judge: Judge | None) -> None:
    """Refuse unknown metric names, and LLM metrics without a judge.

    Raises
    ------
    maas.exceptions.ValidationError
        The message names the unknown metrics and lists the known ones.

    Examples
    --------
    >>> check_metrics(["rouge", "exact_match"], judge=None)
    >>> check_metrics(["rouge", "meteor"], judge=None)
    Traceback (most recent call last):
    ...
    maas.exceptions.ValidationError: metrics: unknown meteor; known: answer_relevancy, bleu, \
context_precision, context_recall, exact_match, faithfulness, non_llm_context_precision, \
non_llm_context_recall, rouge, string_similarity
    """
    if not metrics:
        raise ValidationError("metrics: name at least one")
    unknown = sorted(set(metrics) - METRIC_NAMES)
    if unknown:
        raise ValidationError(
            f"metrics: unknown {', '.join(unknown)}; known: {', '.join(sorted(METRIC_NAMES))}"
        )
    needing = sorted(set(metrics) & LLM_METRICS)
    if needing and judge is None:
        raise ValidationError(f"metrics: {', '.join(needing)} need a judge")


def _metric_objects(
    metrics: Sequence[str], llm: Any, embeddings: BaseRagasEmbedding | None
) -> dict[str, Any]:
    """ragas's metric object for each asked name, built once per :func:`score`."""
    from ragas.metrics import (  # noqa: PLC0415 - the evaluation extra
        NonLLMContextPrecisionWithReference,
        NonLLMContextRecall,
    )
    from ragas.metrics.collections import (  # noqa: PLC0415
        AnswerRelevancy,
        BleuScore,
        ContextPrecision,
        ContextRecall,
        ExactMatch,
        NonLLMStringSimilarity,
        RougeScore,
    )

    makers: dict[str, Callable[[], Any]] = {
        "faithfulness": lambda: _faithfulness(llm),
        "answer_relevancy": lambda: AnswerRelevancy(
            # score() makes embeddings whenever answer relevancy is asked.
            llm=llm,
            embeddings=cast("BaseRagasEmbedding", embeddings),
            strictness=ANSWER_RELEVANCY_STRICTNESS,
        ),
        "context_precision": lambda: ContextPrecision(llm=llm),
        "context_recall": lambda: ContextRecall(llm=llm),
        "non_llm_context_precision": NonLLMContextPrecisionWithReference,
        "non_llm_context_recall": NonLLMContextRecall,
        "string_similarity": NonLLMStringSimilarity,
        "rouge": RougeScore,
        "bleu": BleuScore,
        "exact_match": ExactMatch,
    }
    return {name: makers[name]() for name in dict.fromkeys(metrics)}


async def _ragas_score(
    name: str, metric: Any, question: QuestionRecord, answer: PipelineAnswer
) -> Any:
    """ragas's result for one metric and sample: each metric takes its own fields."""
    contexts = [context.text for context in answer.contexts]
    if name == "faithfulness":
        return await metric.ascore(
            user_input=question.question, response=answer.answer, retrieved_contexts=contexts
        )
    if name == "answer_relevancy":
        return await metric.ascore(user_input=question.question, response=answer.answer)
    if name == "context_precision":
        return await metric.ascore(
            user_input=question.question, reference=question.reference, retrieved_contexts=contexts
        )
    if name == "context_recall":
        return await metric.ascore(
            user_input=question.question, retrieved_contexts=contexts, reference=question.reference
        )
    if name in {"non_llm_context_precision", "non_llm_context_recall"}:
        from ragas.dataset_schema import SingleTurnSample  # noqa: PLC0415

        sample = SingleTurnSample(
            retrieved_contexts=contexts, reference_contexts=list(question.reference_contexts)
        )
        return await metric.single_turn_ascore(sample)
    return await metric.ascore(reference=question.reference, response=answer.answer)


def _missing_input(name: str, question: QuestionRecord, answer: PipelineAnswer) -> str | None:
    """Why ``name`` cannot score this sample before asking ragas, or None."""
    if name in {"non_llm_context_precision", "non_llm_context_recall"}:
        if not question.reference_contexts:
            return "the question has no reference_contexts"
        if not answer.contexts:
            return "the pipeline retrieved no contexts"
    if name in {"faithfulness", "context_precision", "context_recall"} and not answer.contexts:
        return "the pipeline retrieved no contexts"
    if name in {"faithfulness", "answer_relevancy"} and not answer.answer.strip():
        return "the answer is empty"
    return None


async def _score_sample(
    question: QuestionRecord,
    answer: PipelineAnswer,
    metrics: dict[str, Any],
) -> ScoredSample:
    scores: dict[str, float] = {}
    failures: dict[str, str] = {}
    for name, metric in metrics.items():
        missing = _missing_input(name, question, answer)
        if missing:
            failures[name] = missing
            continue
        try:
            result = await _ragas_score(name, metric, question, answer)
        except JudgeAnswerError as error:
            failures[name] = f"the judge's answer did not parse: {error}"
            continue
        except Exception as error:  # ragas raises what its checks and models raise
            failures[name] = f"ragas failed: {type(error).__name__}: {error}"
            continue
        value = getattr(result, "value", result)
        if not isinstance(value, int | float) or not math.isfinite(value):
            failures[name] = f"ragas gave no score ({value!r})"
        else:
            scores[name] = float(value)
    return ScoredSample(question=question, answer=answer, scores=scores, failures=failures)


def score(
    samples: Sequence[tuple[QuestionRecord, PipelineAnswer]],
    metrics: Sequence[str],
    judge: Judge | None = None,
    embeddings: Embedder | None = None,
    *,
    max_new_tokens: int = DEFAULT_JUDGE_TOKENS,
) -> tuple[list[ScoredSample], JudgeUsage]:
    """Score each (question, answer) with ``metrics``; what the judge did meanwhile.

    Parameters
    ----------
    samples
        Questions and the pipeline's answers to them.
    metrics
        Names from :data:`maas.evaluation.metric_names.METRIC_NAMES`.
    judge
        Answers the LLM metrics' prompts; needed when one is asked.
    embeddings
        Embeds for answer relevancy; all-MiniLM-L6-v2 in this process when omitted.
    max_new_tokens
        The most tokens the judge writes per answer.

    Returns
    -------
    The scored samples, in order, and the judge's calls, retries and parse failures made
    while scoring them (zeros without a judge).

    Raises
    ------
    maas.exceptions.ValidationError
        An unknown metric, or an LLM metric without a judge: before anything is scored.
    """
    check_metrics(metrics, judge=judge)
    llm = judge_llm(judge, max_new_tokens=max_new_tokens) if judge is not None else None
    ragas_embeddings = None
    if "answer_relevancy" in metrics:
        if embeddings is None:
            from maas.pipeline.local_embedder import LocalEmbedder  # noqa: PLC0415 - torch

            embeddings = LocalEmbedder()
        ragas_embeddings = embedder_embeddings(embeddings)
    objects = _metric_objects(metrics, llm, ragas_embeddings)
    before = judge.usage if judge is not None else JudgeUsage()

    async def run() -> list[ScoredSample]:
        return [await _score_sample(question, answer, objects) for question, answer in samples]

    scored = asyncio.run(run())
    after = judge.usage if judge is not None else JudgeUsage()
    usage = JudgeUsage(
        calls=after.calls - before.calls,
        retries=after.retries - before.retries,
        parse_failures=after.parse_failures - before.parse_failures,
    )
    return scored, usage


__all__ = [
    "ANSWER_RELEVANCY_STRICTNESS",
    "DEFAULT_JUDGE_TOKENS",
    "check_metrics",
    "embedder_embeddings",
    "judge_llm",
    "score",
    "verdicts_model",
]
