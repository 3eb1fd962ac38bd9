"""The embedding stage: pluggable embedders behind one protocol.

- :class:`~maas.pipeline.local_embedder.LocalEmbedder`: all-MiniLM-L6-v2 with
  sentence-transformers in this process (the ``evaluation`` extra). It lives in its own
  module, which the Lambda code asset leaves out (torch does not fit a function): there,
  asking for it is a :class:`ModelCallFailed` that says so.
- :class:`SageMakerEmbedder`: an embedding model on a SageMaker endpoint, sent
  ``{"inputs": [...]}`` (the Hugging Face and TEI containers' shape), answered with a list
  of vectors or ``{"embedding(s)": ...}``.
- :class:`BedrockEmbedder`: ``InvokeModel`` on a Bedrock embedding model: Cohere Embed takes a
  batch (``texts`` and ``input_type``), Titan one ``inputText`` per call.

Vectors come back as lists of floats, one per text; retrieval normalises them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, Protocol

from maas.aws import client as aws_client
from maas.pipeline.exceptions import ModelCallFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from schemas.pipeline import EmbeddingSpec, PipelineSpec

#: Why a text is embedded: Cohere's models embed a query and a document differently.
Purpose = Literal["query", "document"]

#: Texts per request to a remote embedding model (SageMaker's body is at most 6 MB).
REMOTE_BATCH = 32


class Embedder(Protocol):
    """Turns texts into vectors; ``name`` identifies the model (and keys the corpus cache)."""

    @property
    def name(self) -> str:
        """``local:all-MiniLM-L6-v2``, ``sagemaker:<endpoint>``, ``bedrock:<model id>``."""
        ...

    def embed(self, texts: Sequence[str], *, purpose: Purpose) -> list[list[float]]:
        """One row per text, in order."""
        ...


class SageMakerEmbedder:
    """An embedding model behind a SageMaker endpoint."""

    def __init__(self, endpoint_name: str, *, client: Any | None = None) -> None:
        self.endpoint_name = endpoint_name
        self._client = client or aws_client("sagemaker-runtime")

    @property
    def name(self) -> str:
        """``sagemaker:<endpoint>``."""
        return f"sagemaker:{self.endpoint_name}"

    def embed(self, texts: Sequence[str], *, purpose: Purpose) -> list[list[float]]:
        """Embed in batches of :data:`REMOTE_BATCH` texts."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), REMOTE_BATCH):
            batch = list(texts[start : start + REMOTE_BATCH])
            try:
                response = self._client.invoke_endpoint(
                    EndpointName=self.endpoint_name,
                    ContentType="application/json",
                    Accept="application/json",
                    Body=json.dumps({"inputs": batch}),
                )
                answer = json.loads(response["Body"].read())
            except Exception as error:  # botocore's errors, or a body that is not JSON
                raise ModelCallFailed(f"embedding endpoint {self.endpoint_name}: {error}") from None
            rows.extend(_vectors(answer, len(batch), self.name))
        return _same_length(rows, self.name)


class BedrockEmbedder:
    """A Bedrock embedding model, through ``InvokeModel``."""

    def __init__(self, model_id: str, *, client: Any | None = None) -> None:
        self.model_id = model_id
        self._client = client or aws_client("bedrock-runtime")

    @property
    def name(self) -> str:
        """``bedrock:<model id>``."""
        return f"bedrock:{self.model_id}"

    def embed(self, texts: Sequence[str], *, purpose: Purpose) -> list[list[float]]:
        """Cohere: batches with ``input_type``; Titan and others: one text per call."""
        rows: list[list[float]] = []
        if self.model_id.startswith("cohere."):
            input_type = "search_query" if purpose == "query" else "search_document"
            for start in range(0, len(texts), REMOTE_BATCH):
                batch = list(texts[start : start + REMOTE_BATCH])
                answer = self._invoke({"texts": batch, "input_type": input_type})
                rows.extend(_vectors(answer, len(batch), self.name))
        else:
            for text in texts:
                rows.extend(_vectors(self._invoke({"inputText": text}), 1, self.name))
        return _same_length(rows, self.name)

    def _invoke(self, body: dict[str, Any]) -> Any:
        try:
            response = self._client.invoke_model(
                modelId=self.model_id,
                contentType="application/json",
                accept="application/json",
                body=json.dumps(body),
            )
            return json.loads(response["body"].read())
        except Exception as error:  # botocore's errors, or a body that is not JSON
            raise ModelCallFailed(f"embedding model {self.model_id}: {error}") from None


def embedder_for(
    spec: EmbeddingSpec, *, sagemaker: Any | None = None, bedrock: Any | None = None
) -> Embedder:
    """The embedder a pipeline's ``knowledge.embedding`` names, on the given clients."""
    if spec.kind == "sagemaker":
        return SageMakerEmbedder(spec.endpoint_name, client=sagemaker)
    if spec.kind == "bedrock":
        return BedrockEmbedder(spec.model_id, client=bedrock)
    try:
        from maas.pipeline.local_embedder import LocalEmbedder  # noqa: PLC0415 - see above
    except ImportError as error:
        raise ModelCallFailed(
            f"the local embedding model cannot run here ({error}): configure a sagemaker "
            "or bedrock embedding for this pipeline"
        ) from None
    return LocalEmbedder(spec.model)


def _vectors(answer: Any, expected: int, source: str) -> list[list[float]]:
    """The vectors in an embedding model's answer: a list of them, or under ``embedding(s)``."""
    if isinstance(answer, dict):
        found = answer.get("embeddings", answer.get("embedding"))
        # Titan answers one vector; Cohere a list of them (or a dict of lists by type).
        if isinstance(found, dict):
            found = found.get("float")
        if isinstance(found, list) and found and not isinstance(found[0], list):
            found = [found]
        answer = found
    if (
        not isinstance(answer, list)
        or len(answer) != expected
        or not all(isinstance(row, list) and row for row in answer)
    ):
        raise ModelCallFailed(
            f"{source} did not answer {expected} vector(s): got {str(answer)[:200]}"
        )
    return answer


def with_sagemaker_names(
    spec: PipelineSpec, sagemaker_name_of: Callable[[str], str]
) -> PipelineSpec:
    """``spec`` with its embedding endpoint (the tenant's own name) named as SageMaker knows it.

    ``sagemaker_name_of`` looks the name up among the tenant's endpoints only (see
    :meth:`maas.endpoints.EndpointRegistry.sagemaker_name_of`), so a pipeline can never call
    another tenant's endpoint, whatever name it was given.
    """
    knowledge = spec.knowledge
    if knowledge is None or knowledge.embedding.kind != "sagemaker":
        return spec
    embedding = knowledge.embedding.model_copy(
        update={"endpoint_name": sagemaker_name_of(knowledge.embedding.endpoint_name)}
    )
    return spec.model_copy(
        update={"knowledge": knowledge.model_copy(update={"embedding": embedding})}
    )


def _same_length(rows: list[list[float]], source: str) -> list[list[float]]:
    if len({len(row) for row in rows}) > 1:
        raise ModelCallFailed(f"{source} answered vectors of different lengths")
    return rows


__all__ = [
    "BedrockEmbedder",
    "Embedder",
    "Purpose",
    "SageMakerEmbedder",
    "embedder_for",
    "with_sagemaker_names",
]
