"""Fixtures for the pipeline's tests: a corpus in moto S3, an endpoint that answers on the wire.

The endpoint is a real boto3 ``sagemaker-runtime`` client whose requests are answered at
botocore's ``before-send`` hook: the test sees the exact body and headers that would go to
SageMaker, and the answer is a chat completion as the LMI container writes it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from maas.evaluation.records import CorpusDocument

# The tracing tests' recorder, which hands each document to a list.
from tests.unit.tracing.conftest import _shared_recorder, emitter, recorder  # noqa: F401

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest

#: Five passages, one of them plainly about each question the tests ask.
DOCUMENTS = (
    CorpusDocument(id="paris", title="Paris", text="Paris is the capital city of France."),
    CorpusDocument(id="tokyo", title="Tokyo", text="Tokyo is the capital of Japan."),
    CorpusDocument(id="warranty", text="The warranty covers manufacturing defects for two years."),
    CorpusDocument(id="python", text="Python is a programming language created by Guido."),
    CorpusDocument(id="tea", text="Green tea is brewed at about 80 degrees Celsius."),
)
CORPUS_URI = "s3://corpora/acme/faq.jsonl"


@pytest.fixture
def corpus_uri(aws: None) -> str:
    """The five documents as a JSONL object in moto S3."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="corpora")
    body = "\n".join(document.model_dump_json() for document in DOCUMENTS) + "\n"
    s3.put_object(Bucket="corpora", Key="acme/faq.jsonl", Body=body.encode())
    return CORPUS_URI


@dataclass
class FakeEndpoint:
    """What was sent to the endpoint, and what it answers next."""

    requests: list[AWSPreparedRequest] = field(default_factory=list)
    status: int = 200
    answer: dict[str, Any] = field(
        default_factory=lambda: {
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Paris."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 42, "completion_tokens": 3, "total_tokens": 45},
        }
    )

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies sent, in order."""
        return [json.loads(request.body or b"{}") for request in self.requests]

    def respond(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request)
        raw = _Raw(json.dumps(self.answer).encode())
        headers = {"Content-Type": "application/json"}
        if self.status != 200:
            raw = _Raw(json.dumps({"ErrorCode": "ModelError", "Message": "boom"}).encode())
            headers["x-amzn-ErrorType"] = "ModelError"
        return AWSResponse(request.url, self.status, headers, raw)


class _Raw(io.BytesIO):
    """An HTTP body as botocore reads it: streamed, or read whole (a streaming output)."""

    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


@pytest.fixture
def endpoint() -> FakeEndpoint:
    return FakeEndpoint()


@pytest.fixture
def runtime_client(aws: None, endpoint: FakeEndpoint) -> Any:
    """A ``sagemaker-runtime`` client whose calls the fake endpoint answers."""
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    client.meta.events.register_first(
        "before-send.sagemaker-runtime.InvokeEndpoint", endpoint.respond
    )
    return client
