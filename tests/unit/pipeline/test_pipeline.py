"""RagPipeline.run: the stages in order, each traced, and a guardrail that never loses a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from maas.guardrails import GuardrailVerdict
from maas.pipeline import CorpusCache, ModelCallFailed, RagPipeline
from maas.pipeline.local_embedder import LocalEmbedder
from schemas.pipeline import GenerationSettings, PipelineSpec

if TYPE_CHECKING:
    from aws_xray_sdk.core.recorder import AWSXRayRecorder

    from maas.guardrails import Source
    from tests.unit.pipeline.conftest import FakeEndpoint
    from tests.unit.tracing.conftest import CapturingEmitter

EMBEDDER = LocalEmbedder()


@dataclass
class ScriptedGuard:
    """A guardrail that answers each source as told and remembers what it was shown."""

    verdicts: dict[str, GuardrailVerdict] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def check(self, text: str, source: Source) -> GuardrailVerdict:
        self.seen.append((source, text))
        return self.verdicts.get(source) or GuardrailVerdict(
            action="NONE",
            source=source,
            text=text,
            intervened=False,
            blocked=False,
            reasons=(),
            assessments=[],
        )


def _intervention(source: Source, text: str, *, blocked: bool, reason: str) -> GuardrailVerdict:
    return GuardrailVerdict(
        action="GUARDRAIL_INTERVENED",
        source=source,
        text=text,
        intervened=True,
        blocked=blocked,
        reasons=(reason,),
        assessments=[{"topicPolicy": {"topics": [{"name": "x", "action": "BLOCKED"}]}}],
    )


def _pipeline(
    runtime_client: Any,
    recorder: AWSXRayRecorder,
    corpus_uri: str | None,
    guard: ScriptedGuard | None = None,
    **spec: Any,
) -> RagPipeline:
    if corpus_uri is not None:
        spec["knowledge"] = {"corpus_uri": corpus_uri, "top_k": 2}
    return RagPipeline(
        PipelineSpec.model_validate(spec),
        endpoint_name="acme-chat",
        tenant="acme",
        model="smollm2",
        version="3",
        guardrail=guard,
        sagemaker=runtime_client,
        embedder=EMBEDDER,
        corpora=CorpusCache(),
        recorder=recorder,
    )


def test_a_question_runs_every_stage_as_a_subsegment(
    runtime_client: Any,
    endpoint: FakeEndpoint,
    recorder: AWSXRayRecorder,
    emitter: CapturingEmitter,
    corpus_uri: str,
) -> None:
    pipeline = _pipeline(runtime_client, recorder, corpus_uri, ScriptedGuard())

    answer = pipeline.run("What is the capital of France?")

    (segment,) = emitter.documents
    stages = segment["subsegments"]
    assert [stage["name"] for stage in stages] == [
        "guardrail",
        "embedding",
        "retrieval",
        "prompt",
        "generation",
        "guardrail",
    ]
    by_name = {stage["name"]: stage["annotations"] for stage in stages}
    assert by_name["retrieval"]["k"] == 2
    assert by_name["retrieval"]["document_ids"].startswith("paris,")
    assert by_name["embedding"]["dimensions"] == 384
    assert (by_name["generation"]["tokens_in"], by_name["generation"]["tokens_out"]) == (42, 3)
    assert [stage["annotations"]["source"] for stage in stages if stage["name"] == "guardrail"] == [
        "INPUT",
        "OUTPUT",
    ]
    prompt_metadata = next(stage for stage in stages if stage["name"] == "prompt")["metadata"]
    assert "[1] Paris: Paris is the capital city of France." in prompt_metadata["maas"]["prompt"]
    assert answer.trace_id == segment["trace_id"]
    assert answer.answer == "Paris."
    assert answer.contexts[0].id == "paris"
    assert set(answer.stages_ms) == {
        "guardrail_input",
        "embedding",
        "retrieval",
        "prompt",
        "generation",
        "guardrail_output",
    }
    assert (answer.tokens_in, answer.tokens_out, answer.blocked) == (42, 3, False)


def test_the_generation_call_carries_the_trace_parented_by_its_stage(
    runtime_client: Any,
    endpoint: FakeEndpoint,
    recorder: AWSXRayRecorder,
    emitter: CapturingEmitter,
) -> None:
    _pipeline(runtime_client, recorder, None).run("Hello?")

    (segment,) = emitter.documents
    generation = next(stage for stage in segment["subsegments"] if stage["name"] == "generation")
    header = endpoint.requests[0].headers["X-Amzn-Trace-Id"].decode()
    assert header == f"Root={segment['trace_id']};Parent={generation['id']};Sampled=1"


def test_a_caller_trace_header_is_continued(
    runtime_client: Any,
    endpoint: FakeEndpoint,
    recorder: AWSXRayRecorder,
    emitter: CapturingEmitter,
) -> None:
    root = "1-5759e988-bd862e3fe1be46a994272793"

    answer = _pipeline(runtime_client, recorder, None).run(
        "Hello?", trace_header=f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"
    )

    assert answer.trace_id == root
    assert emitter.documents[0]["parent_id"] == "53995c3f42cd8ad8"


def test_without_knowledge_the_context_is_empty_and_nothing_is_embedded(
    runtime_client: Any, endpoint: FakeEndpoint, recorder: AWSXRayRecorder
) -> None:
    pipeline = _pipeline(
        runtime_client, recorder, None, prompt_template="C=[{context}] Q={question}"
    )

    answer = pipeline.run("Why?")

    assert endpoint.bodies[0]["messages"][0]["content"] == "C=[] Q=Why?"
    assert answer.contexts == ()
    assert set(answer.stages_ms) == {"prompt", "generation"}


def test_request_parameters_override_the_pipeline_settings(
    runtime_client: Any, endpoint: FakeEndpoint, recorder: AWSXRayRecorder
) -> None:
    pipeline = _pipeline(
        runtime_client, recorder, None, generation={"max_new_tokens": 64, "temperature": 0.7}
    )

    pipeline.run("Why?", parameters=GenerationSettings.model_validate({"max_new_tokens": 8}))

    assert (endpoint.bodies[0]["max_tokens"], endpoint.bodies[0]["temperature"]) == (8, 0.7)


def test_a_blocked_question_is_answered_by_the_guardrail_without_generating(
    runtime_client: Any,
    endpoint: FakeEndpoint,
    recorder: AWSXRayRecorder,
    emitter: CapturingEmitter,
    corpus_uri: str,
) -> None:
    guard = ScriptedGuard(
        {"INPUT": _intervention("INPUT", "Sorry.", blocked=True, reason="topic 'x' denied")}
    )

    answer = _pipeline(runtime_client, recorder, corpus_uri, guard).run("Buy which stock?")

    assert endpoint.requests == []
    assert answer.answer == "Sorry."
    assert answer.blocked
    (finding,) = answer.guardrail
    assert (finding.source, finding.reasons) == ("INPUT", ("topic 'x' denied",))
    assert finding.assessments[0]["topicPolicy"]["topics"][0]["action"] == "BLOCKED"
    assert [stage["name"] for stage in emitter.documents[0]["subsegments"]] == ["guardrail"]


def test_a_masked_question_goes_on_masked(
    runtime_client: Any, endpoint: FakeEndpoint, recorder: AWSXRayRecorder
) -> None:
    masked = "Mail {EMAIL} about it"
    guard = ScriptedGuard(
        {"INPUT": _intervention("INPUT", masked, blocked=False, reason="EMAIL anonymized")}
    )

    answer = _pipeline(runtime_client, recorder, None, guard, prompt_template="{question}").run(
        "Mail jane@example.com about it"
    )

    assert endpoint.bodies[0]["messages"][0]["content"] == masked
    assert not answer.blocked
    assert answer.intervened


def test_a_blocked_answer_is_replaced_and_says_why(
    runtime_client: Any, endpoint: FakeEndpoint, recorder: AWSXRayRecorder
) -> None:
    guard = ScriptedGuard(
        {
            "OUTPUT": _intervention(
                "OUTPUT", "Cannot share.", blocked=True, reason="word 'x' blocked"
            )
        }
    )

    answer = _pipeline(runtime_client, recorder, None, guard).run("Hello?")

    assert answer.answer == "Cannot share."
    assert answer.blocked
    assert [finding.source for finding in answer.guardrail] == ["INPUT", "OUTPUT"]
    assert guard.seen[1] == ("OUTPUT", "Paris.")


def test_a_guardrail_switched_off_checks_nothing(
    runtime_client: Any, endpoint: FakeEndpoint, recorder: AWSXRayRecorder
) -> None:
    guard = ScriptedGuard()

    answer = _pipeline(runtime_client, recorder, None, guard, guardrail=False).run("Hello?")

    assert guard.seen == []
    assert answer.guardrail == ()


def test_a_failing_stage_marks_the_trace_and_raises(
    runtime_client: Any,
    endpoint: FakeEndpoint,
    recorder: AWSXRayRecorder,
    emitter: CapturingEmitter,
) -> None:
    endpoint.status = 424

    with pytest.raises(ModelCallFailed, match="ModelError"):
        _pipeline(runtime_client, recorder, None).run("Hello?")

    generation = emitter.documents[0]["subsegments"][-1]
    assert generation["name"] == "generation"
    assert generation.get("fault") or generation.get("error")
