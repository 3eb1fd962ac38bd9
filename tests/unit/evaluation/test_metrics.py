"""Scoring with ragas: string and context metrics, unknown names, and judges that fail."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

from maas.evaluation.judging import JudgeAnswerError
from maas.evaluation.metrics import score
from maas.evaluation.records import JudgeUsage, PipelineAnswer, QuestionRecord, RetrievedContext
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from maas.evaluation.judging import AnswerT

PARIS = "Paris is the capital and largest city of France."
BANANAS = "Bananas are yellow when they are ripe."


def _question(reference: str = "Paris is the capital of France.") -> QuestionRecord:
    return QuestionRecord(
        id="q1",
        question="What is the capital of France?",
        reference=reference,
        reference_contexts=(PARIS,),
    )


def _answer(text: str, *contexts: str) -> PipelineAnswer:
    return PipelineAnswer(
        answer=text,
        contexts=tuple(
            RetrievedContext(id=f"d{index}", text=context, score=1.0 - index / 10)
            for index, context in enumerate(contexts)
        ),
    )


class NeverParses:
    """A judge whose every answer fails to parse, after its retries."""

    name = "test:never-parses"

    def __init__(self) -> None:
        self.usage = JudgeUsage()

    def ask(self, prompt: str, answer: type[AnswerT], *, max_new_tokens: int = 256) -> AnswerT:
        self.usage = self.usage + JudgeUsage(calls=1, retries=2, parse_failures=1)
        raise JudgeAnswerError(f"{self.name}: no {answer.__name__} after 3 attempt(s)")


def test_an_answer_equal_to_its_reference_scores_one_on_every_string_metric() -> None:
    question = _question()
    [sample], usage = score(
        [(question, _answer(question.reference, PARIS))],
        ["exact_match", "rouge", "bleu", "string_similarity"],
    )

    assert sample.failures == {}
    assert sample.scores == pytest.approx(
        {"exact_match": 1.0, "rouge": 1.0, "bleu": 1.0, "string_similarity": 1.0}
    )
    assert usage == JudgeUsage()


def test_a_different_answer_is_no_exact_match_and_shares_only_its_common_words() -> None:
    [sample], _ = score(
        [(_question("Paris is the capital"), _answer("Lyon is the capital", PARIS))],
        ["exact_match", "rouge"],
    )

    # ROUGE-L F1: the longest common subsequence is "is the capital", 3 of 4 words each side.
    assert sample.scores == pytest.approx({"exact_match": 0.0, "rouge": 0.75})


def test_context_metrics_without_an_llm_compare_retrieved_with_reference_contexts() -> None:
    [sample], _ = score(
        [(_question(), _answer("Paris.", BANANAS, PARIS))],
        ["non_llm_context_precision", "non_llm_context_recall"],
    )

    # The one reference context was retrieved (recall 1), second of two: precision@2 = 1/2.
    assert sample.scores == pytest.approx(
        {"non_llm_context_precision": 0.5, "non_llm_context_recall": 1.0}
    )


def test_a_context_metric_without_reference_contexts_is_a_failure_not_a_nan() -> None:
    question = QuestionRecord(id="q2", question="Capital of France?", reference="Paris")
    [sample], _ = score([(question, _answer("Paris", PARIS))], ["non_llm_context_recall"])

    assert sample.scores == {}
    assert sample.failures == {"non_llm_context_recall": "the question has no reference_contexts"}


def test_an_unknown_metric_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValidationError) as raised:
        score([(_question(), _answer("Paris"))], ["rouge", "meteor"])

    assert str(raised.value).startswith("metrics: unknown meteor; known: answer_relevancy, bleu")
    assert raised.value.error_name == "Maas.ValidationError"


def test_an_llm_metric_without_a_judge_is_refused() -> None:
    with pytest.raises(ValidationError, match="faithfulness need a judge"):
        score([(_question(), _answer("Paris", PARIS))], ["faithfulness"])


def test_a_judge_that_never_parses_leaves_failures_and_counts_them() -> None:
    judge = NeverParses()
    samples, usage = score(
        [(_question(), _answer("Paris is the capital.", PARIS))] * 2,
        ["faithfulness", "context_recall", "exact_match"],
        judge,
    )

    for sample in samples:
        assert set(sample.failures) == {"faithfulness", "context_recall"}
        assert sample.failures["faithfulness"].startswith("the judge's answer did not parse")
        assert all(not math.isnan(value) for value in sample.scores.values())
        assert set(sample.scores) == {"exact_match"}
    assert usage == JudgeUsage(calls=4, retries=8, parse_failures=4)
    assert usage.failure_share == 1.0


class Scripted:
    """A judge that answers ragas's faithfulness prompts as scripted, keeping what it was asked."""

    name = "test:scripted"

    def __init__(self, statements: list[str], verdicts: list[int]) -> None:
        self.usage = JudgeUsage()
        self.statements = statements
        self.verdicts = verdicts
        self.schemas: list[dict[str, object]] = []

    def ask(self, prompt: str, answer: type[AnswerT], *, max_new_tokens: int = 256) -> AnswerT:
        self.usage = self.usage + JudgeUsage(calls=1)
        self.schemas.append(answer.model_json_schema())
        if "statements" in answer.model_fields and len(self.schemas) == 1:
            return answer.model_validate({"statements": self.statements})
        return answer.model_validate(
            {
                "statements": [
                    {"statement": statement, "reason": "as scripted", "verdict": verdict}
                    for statement, verdict in zip(self.statements, self.verdicts, strict=True)
                ]
            }
        )


def test_faithfulness_asks_one_verdict_per_statement_and_scores_their_share() -> None:
    statements = ["Paris is the capital of France.", 'It is called "the city of light".']
    judge = Scripted(statements, [1, 0])

    [sample], usage = score(
        [(_question(), _answer(" ".join(statements), PARIS))], ["faithfulness"], judge
    )

    assert sample.scores == {"faithfulness": 0.5}
    assert usage.calls == 2
    listed = judge.schemas[1]["properties"]["statements"]  # type: ignore[index]
    assert (listed["minItems"], listed["maxItems"], listed["items"]) == (2, 2, False)
    assert [
        item["properties"]["statement"]["const"] for item in listed["prefixItems"]
    ] == statements
