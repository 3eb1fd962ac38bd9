"""RequestTrace: a segment per served request, a subsegment per stage, X-Ray's rules kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from maas.tracing import PROMPT_METADATA_LIMIT, RequestTrace, current_trace_header

if TYPE_CHECKING:
    from aws_xray_sdk.core.recorder import AWSXRayRecorder

    from tests.unit.tracing.conftest import CapturingEmitter


def _trace(recorder: AWSXRayRecorder, **kwargs: Any) -> RequestTrace:
    return RequestTrace(model="smollm2", version="3", tenant="acme", recorder=recorder, **kwargs)


def _only_segment(emitter: CapturingEmitter) -> dict[str, Any]:
    assert len(emitter.documents) == 1, emitter.documents
    return emitter.documents[0]


def test_each_stage_is_a_subsegment_with_the_request_annotations(
    recorder: AWSXRayRecorder, emitter: CapturingEmitter
) -> None:
    with _trace(recorder, endpoint="acme-smollm2") as trace:
        for name in ("prompt", "embedding", "retrieval", "generation", "guardrail"):
            with trace.stage(name):
                pass

    segment = _only_segment(emitter)
    assert segment["name"] == "maas-serving"
    assert segment["annotations"] == {
        "model": "smollm2",
        "version": "3",
        "tenant": "acme",
        "endpoint": "acme-smollm2",
    }
    stages = segment["subsegments"]
    assert [stage["name"] for stage in stages] == [
        "prompt",
        "embedding",
        "retrieval",
        "generation",
        "guardrail",
    ]
    for stage in stages:
        assert stage["annotations"]["tenant"] == "acme"
        assert stage["annotations"]["model"] == "smollm2"
        assert stage["annotations"]["latency_ms"] >= 0
        assert stage["start_time"] <= stage["end_time"]


def test_a_stage_records_tokens_documents_and_the_truncated_prompt(
    recorder: AWSXRayRecorder, emitter: CapturingEmitter
) -> None:
    long_prompt = "q" * (PROMPT_METADATA_LIMIT + 10)
    with _trace(recorder) as trace:
        with trace.stage("prompt") as stage:
            stage.prompt(long_prompt)
        with trace.stage("retrieval") as stage:
            stage.documents([("doc-7", 0.91234), ("doc-2", 0.5)])
        with trace.stage("generation") as stage:
            stage.tokens(tokens_in=42, tokens_out=17)

    prompt, retrieval, generation = _only_segment(emitter)["subsegments"]
    kept = prompt["metadata"]["maas"]["prompt"]
    assert kept.startswith("q" * PROMPT_METADATA_LIMIT)
    assert kept.endswith("...[10 more characters]")
    assert retrieval["annotations"]["k"] == 2
    assert retrieval["annotations"]["document_ids"] == "doc-7,doc-2"
    assert retrieval["annotations"]["document_scores"] == "0.912,0.500"
    assert generation["annotations"]["tokens_in"] == 42
    assert generation["annotations"]["tokens_out"] == 17


def test_a_stage_that_raises_is_a_fault_and_the_exception_goes_on(
    recorder: AWSXRayRecorder, emitter: CapturingEmitter
) -> None:
    with (
        pytest.raises(RuntimeError, match="model crashed"),
        _trace(recorder) as trace,
        trace.stage("generation"),
    ):
        raise RuntimeError("model crashed")

    (generation,) = _only_segment(emitter)["subsegments"]
    assert generation["fault"] is True
    assert generation["cause"]["exceptions"][0]["message"] == "model crashed"
    assert "latency_ms" in generation["annotations"]


def test_an_incoming_trace_header_is_continued_with_its_sampling_decision(
    recorder: AWSXRayRecorder, emitter: CapturingEmitter
) -> None:
    root = "1-5759e988-bd862e3fe1be46a994272793"
    with _trace(recorder, trace_header=f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"):
        pass
    with _trace(recorder, trace_header=f"Root={root};Parent=53995c3f42cd8ad8;Sampled=0"):
        pass

    segment = _only_segment(emitter)
    assert segment["trace_id"] == root
    assert segment["parent_id"] == "53995c3f42cd8ad8"


def test_the_header_for_propagation_names_the_open_stage_as_parent(
    recorder: AWSXRayRecorder, emitter: CapturingEmitter
) -> None:
    with _trace(recorder) as trace, trace.stage("generation") as stage:
        header = trace.header()
        assert header == current_trace_header(recorder)

    segment = _only_segment(emitter)
    assert header == f"Root={segment['trace_id']};Parent={stage.entity.id};Sampled=1"
    assert current_trace_header(recorder) is None


def test_inside_a_traced_entity_the_request_is_a_subsegment_of_it(
    recorder: AWSXRayRecorder, emitter: CapturingEmitter
) -> None:
    with recorder.in_segment("## handler"), _trace(recorder) as trace, trace.stage("prompt"):
        pass

    handler = _only_segment(emitter)
    (request,) = handler["subsegments"]
    assert request["name"] == "maas-serving"
    assert [stage["name"] for stage in request["subsegments"]] == ["prompt"]


@pytest.mark.parametrize("key", ["tokens-in", "doc ids", "", "x" * 501, "prompt.length"])
def test_an_annotation_key_x_ray_would_drop_is_refused(recorder: AWSXRayRecorder, key: str) -> None:
    with _trace(recorder) as trace:
        with pytest.raises(ValueError, match="letters, digits or underscores"):
            trace.stage("prompt", **{key: 1})
        with trace.stage("prompt") as stage, pytest.raises(ValueError):
            stage.annotate(**{key: 1})


def test_an_unknown_stage_is_refused(recorder: AWSXRayRecorder) -> None:
    with _trace(recorder) as trace, pytest.raises(ValueError, match="unknown stage 'rerank'"):
        trace.stage("rerank")  # type: ignore[arg-type]


def test_a_stage_outside_an_open_request_is_refused(recorder: AWSXRayRecorder) -> None:
    with pytest.raises(RuntimeError, match="not open"):
        _trace(recorder).stage("prompt")
