"""A judge on Amazon Bedrock, asked with the Converse API.

``Converse`` takes the same message shape for every model that supports messages, so one
request serves Claude, Llama, Mistral or Nova: the prompt is one user message, temperature 0,
and the answer is the text blocks of ``output.message``.
"""

from __future__ import annotations

from typing import Any

from maas.aws import client as aws_client
from maas.evaluation.judges.remote import DEFAULT_RETRIES, RemoteJudge


class BedrockJudge(RemoteJudge):
    """A Bedrock model (or inference profile) asked with ``bedrock-runtime`` ``Converse``.

    Parameters
    ----------
    model_id
        The model id, inference profile id or ARN.
    client
        A ``bedrock-runtime`` client; the process's own when omitted.
    retries
        Attempts after the first when an answer does not parse.
    """

    def __init__(
        self, model_id: str, *, client: Any | None = None, retries: int = DEFAULT_RETRIES
    ) -> None:
        super().__init__(retries=retries)
        self.model_id = model_id
        self._client = client or aws_client("bedrock-runtime")

    @property
    def name(self) -> str:
        """``bedrock:<model id>``."""
        return f"bedrock:{self.model_id}"

    def complete(self, prompt: str, *, max_new_tokens: int) -> str:
        """The model's answer to ``prompt``: its text blocks, joined."""
        response = self._client.converse(
            modelId=self.model_id,
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": max_new_tokens, "temperature": 0.0},
        )
        blocks = response.get("output", {}).get("message", {}).get("content", [])
        return "".join(block["text"] for block in blocks if "text" in block)


__all__ = ["BedrockJudge"]
