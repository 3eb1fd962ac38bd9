"""The judges: a local model constrained to a schema, and remote ones that parse and retry.

The local judge is the demo model (SmolLM2-135M-Instruct), loaded once for this module from
the run's model cache, where ``converted_smollm2`` converted the GGUF file once for the run.
"""

from __future__ import annotations

import io
import json
import math
from typing import TYPE_CHECKING, Literal

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from pydantic import BaseModel, Field

from maas.evaluation.evalgen.records import GraderVerdict
from maas.evaluation.judges import make_judge, parse_answer
from maas.evaluation.judges.bedrock import BedrockJudge
from maas.evaluation.judges.local import LocalJudge
from maas.evaluation.judges.sagemaker import SageMakerJudge
from maas.evaluation.judging import JudgeAnswerError, ProbabilityJudge
from maas.evaluation.metrics import score, verdicts_model
from maas.evaluation.records import JudgeUsage, PipelineAnswer, QuestionRecord, RetrievedContext
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class Verdict(BaseModel):
    reason: str = Field(max_length=200)
    verdict: Literal[0, 1]


@pytest.fixture(scope="module")
def local_judge(converted_smollm2: Path) -> LocalJudge:
    # The judge finds the demo model where converted_smollm2 put it (the run's model cache),
    # rather than converting it again beside another worker that does.
    return LocalJudge()


def test_the_local_judge_answers_a_valid_instance_of_the_schema(local_judge: LocalJudge) -> None:
    before = local_judge.usage
    answer = local_judge.ask(
        "Is Paris the capital of France? Give a short reason, then verdict 1 for yes, 0 for no.",
        Verdict,
        max_new_tokens=48,
    )

    assert isinstance(answer, Verdict)
    assert answer.verdict in (0, 1)
    assert local_judge.usage.calls == before.calls + 1
    assert local_judge.name == "local:SmolLM2-135M-Instruct"


def test_the_local_judge_gives_up_when_the_answer_cannot_fit(local_judge: LocalJudge) -> None:
    before = local_judge.usage
    with pytest.raises(JudgeAnswerError, match=r"no Verdict after 3 attempt\(s\)"):
        local_judge.ask("Is the sky blue?", Verdict, max_new_tokens=3)

    after = local_judge.usage
    assert (after.calls, after.retries, after.parse_failures) == (
        before.calls + 1,
        before.retries + 2,
        before.parse_failures + 1,
    )


def test_the_local_judge_s_probability_is_its_greedy_verdict_with_its_confidence(
    local_judge: LocalJudge,
) -> None:
    assert isinstance(local_judge, ProbabilityJudge)
    prompt = 'Is Paris the capital of France? Answer as JSON: {"passed": true or false}'
    before = local_judge.usage.calls
    probability = local_judge.probability(prompt, GraderVerdict)
    answer = local_judge.ask(prompt, GraderVerdict, max_new_tokens=48)

    assert 0.0 < probability < 1.0
    assert answer.passed is (probability >= 0.5)
    assert local_judge.usage.calls == before + 2


def test_the_local_judge_reads_a_probability_only_of_a_leading_boolean(
    local_judge: LocalJudge,
) -> None:
    with pytest.raises(JudgeAnswerError, match="Verdict's first field is not a boolean"):
        local_judge.probability("Is the sky blue?", Verdict)


def test_faithfulness_with_the_local_judge_is_a_score_or_a_recorded_failure(
    local_judge: LocalJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No retries: a failure is as good an outcome here as a score, and retries cost minutes.
    monkeypatch.setattr(local_judge, "retries", 0)
    question = QuestionRecord(id="q1", question="Where is the Eiffel Tower?", reference="In Paris.")
    answer = PipelineAnswer(
        answer="The Eiffel Tower is in Paris.",
        contexts=(RetrievedContext(id="d1", text="The Eiffel Tower is in Paris.", score=1.0),),
    )
    [sample], usage = score([(question, answer)], ["faithfulness"], local_judge, max_new_tokens=96)

    assert usage.calls >= 1
    if "faithfulness" in sample.scores:
        assert 0.0 <= sample.scores["faithfulness"] <= 1.0
        assert not math.isnan(sample.scores["faithfulness"])
    else:
        assert sample.failures["faithfulness"]


def test_the_local_judge_gives_a_verdict_on_each_statement_given_and_no_other(
    local_judge: LocalJudge,
) -> None:
    statements = ["The Eiffel Tower is in Paris.", "The Eiffel Tower is made of wood."]
    prompt = (
        "Context: The Eiffel Tower is an iron tower in Paris.\n"
        f"Statements: {json.dumps(statements)}\n"
        "For each statement give a reason, then verdict 1 if the context supports it, else 0."
    )

    answer = local_judge.ask(prompt, verdicts_model(statements), max_new_tokens=160)

    assert [item.statement for item in answer.statements] == statements


def test_a_remote_answer_is_found_inside_prose_and_fences() -> None:
    text = 'Here you go:\n```json\n{"reason": "it is", "verdict": 1}\n```'

    assert parse_answer(text, Verdict) == Verdict(reason="it is", verdict=1)


@pytest.fixture
def bedrock() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber


def _converse(text: str) -> dict[str, object]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 100},
    }


def test_a_bedrock_judge_retries_an_answer_that_does_not_parse(
    bedrock: tuple[object, Stubber],
) -> None:
    client, stubber = bedrock
    stubber.add_response("converse", _converse('{"reason": "yes", "verdict": 7}'))
    stubber.add_response("converse", _converse('{"reason": "yes", "verdict": 1}'))
    judge = BedrockJudge("amazon.nova-lite-v1:0", client=client)

    assert not isinstance(judge, ProbabilityJudge)
    assert judge.ask("Is it?", Verdict) == Verdict(reason="yes", verdict=1)
    assert judge.usage == JudgeUsage(calls=1, retries=1, parse_failures=0)
    stubber.assert_no_pending_responses()


def test_a_bedrock_judge_that_never_parses_raises_after_its_retries(
    bedrock: tuple[object, Stubber],
) -> None:
    client, stubber = bedrock
    for _ in range(2):
        stubber.add_response("converse", _converse("I think so."))
    judge = BedrockJudge("amazon.nova-lite-v1:0", client=client, retries=1)

    with pytest.raises(JudgeAnswerError, match="no JSON object in the answer"):
        judge.ask("Is it?", Verdict)
    assert judge.usage == JudgeUsage(calls=1, retries=1, parse_failures=1)


def test_a_sagemaker_judge_sends_a_greedy_chat_completion() -> None:
    client = boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    completion = json.dumps(
        {"choices": [{"message": {"content": '{"reason": "r", "verdict": 0}'}}]}
    ).encode()
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(completion), len(completion))},
            {
                "EndpointName": "chat",
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": stubber_any(),
            },
        )
        judge = make_judge(None, endpoint_under_test="chat", sagemaker_client=client)

        assert isinstance(judge, SageMakerJudge)
        # Text behind an API: verdicts, never probabilities (the few-shot path alone).
        assert not isinstance(judge, ProbabilityJudge)
        assert judge.ask("Is it?", Verdict, max_new_tokens=32) == Verdict(reason="r", verdict=0)


def stubber_any() -> object:
    from botocore.stub import ANY

    return ANY


def test_a_sagemaker_judge_needs_an_endpoint() -> None:
    with pytest.raises(ValidationError, match="a SageMaker judge needs an endpoint_name"):
        make_judge({"kind": "sagemaker"})


def test_an_unknown_judge_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="judge: "):
        make_judge({"kind": "openai", "model": "gpt"})
