"""Request bodies the SDK sends: what the caller set, and the tags of discriminated unions.

Through an httpx.MockTransport (no server): each body is read back with the model the API
validates it with, as Powertools does, so a tag left out fails here as it did there (422).
"""

from __future__ import annotations

import json

import httpx
import pytest

from maas.sdk import MaasClient, UnexpectedResponse
from schemas.lifecycle import DeploymentSettings, LifecycleSpec
from schemas.packaging import HuggingFaceSource, PackagingSettings, S3Source
from schemas.pipeline import KnowledgeSpec, LocalEmbedding, PipelineSpec

ACCEPTED = {
    "workflow": "package-model",
    "execution_name": "acme-0123",
    "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:PackageModel:acme-0123",
    "status_url": "/v1/executions/package-model/acme-0123",
    "started": True,
}


def recording(answer: dict[str, object]) -> tuple[MaasClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json=answer)

    return MaasClient("http://api.test", "t0ken", transport=httpx.MockTransport(handle)), seen


def test_packaging_as_the_docs_show_sends_the_source_kind() -> None:
    maas, seen = recording(ACCEPTED)
    settings = PackagingSettings(
        source=HuggingFaceSource(model_id="HuggingFaceTB/SmolLM2-135M-Instruct")
    )

    maas.create_packaging_job(settings)

    body = json.loads(seen[0].content)
    assert body == {
        "source": {"kind": "huggingface", "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct"}
    }
    assert PackagingSettings.model_validate_json(seen[0].content) == settings


def test_a_nested_source_keeps_its_kind_and_unset_choices_stay_out() -> None:
    maas, seen = recording({**ACCEPTED, "workflow": "lifecycle"})
    spec = LifecycleSpec(
        package=PackagingSettings(source=S3Source(uri="s3://bucket/acme/model/")),
        deployment=DeploymentSettings(endpoint_name="chat"),
    )

    maas.create_lifecycle(spec)

    body = json.loads(seen[0].content)
    assert body["package"] == {"source": {"kind": "s3", "uri": "s3://bucket/acme/model/"}}
    assert LifecycleSpec.model_validate_json(seen[0].content) == spec


def test_a_pipeline_keeps_its_embedding_kind() -> None:
    maas, seen = recording({"prompt_template": "{question}"})
    spec = PipelineSpec(
        knowledge=KnowledgeSpec(corpus_uri="s3://bucket/acme/faq.jsonl", embedding=LocalEmbedding())
    )

    with pytest.raises(UnexpectedResponse):  # the recorded answer is no pipeline
        maas.put_pipeline("chat", spec)

    body = json.loads(seen[0].content)
    assert body["knowledge"]["embedding"]["kind"] == "local"
    assert "top_k" not in body["knowledge"]
    assert PipelineSpec.model_validate_json(seen[0].content) == spec
