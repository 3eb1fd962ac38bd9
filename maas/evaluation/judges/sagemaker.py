"""A judge on a SageMaker endpoint, the endpoint under test included.

The prompt goes as a chat completion in the served protocol (:mod:`maas.serving.protocol`,
the LMI container's chat schema) through the RAG pipeline's own
:class:`~maas.pipeline.EndpointGenerator`, with temperature 0 so the endpoint decodes
greedily; the JSON is parsed from the completion (:mod:`maas.evaluation.judges.remote`).
"""

from __future__ import annotations

from typing import Any

from maas.evaluation.judges.remote import DEFAULT_RETRIES, RemoteJudge
from maas.pipeline import EndpointGenerator
from schemas.pipeline import GenerationSettings


class SageMakerJudge(RemoteJudge):
    """A chat model on a SageMaker endpoint, asked with ``InvokeEndpoint``.

    Parameters
    ----------
    endpoint_name
        The endpoint.
    client
        A ``sagemaker-runtime`` client; the process's own when omitted.
    retries
        Attempts after the first when an answer does not parse.
    """

    def __init__(
        self, endpoint_name: str, *, client: Any | None = None, retries: int = DEFAULT_RETRIES
    ) -> None:
        super().__init__(retries=retries)
        self.endpoint_name = endpoint_name
        self._generator = EndpointGenerator(endpoint_name, client=client)

    @property
    def name(self) -> str:
        """``sagemaker:<endpoint>``."""
        return f"sagemaker:{self.endpoint_name}"

    def complete(self, prompt: str, *, max_new_tokens: int) -> str:
        """The endpoint's greedy answer to ``prompt`` as one user message."""
        settings = GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0)
        return self._generator.generate(prompt, settings).text


__all__ = ["SageMakerJudge"]
