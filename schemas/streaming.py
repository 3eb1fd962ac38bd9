"""The contract of a streamed API answer, between the API function and API Gateway.

API Gateway streams a Lambda proxy integration's answer when the integration's
``responseTransferMode`` is ``STREAM``: it invokes the function with
``InvokeWithResponseStream`` and expects, before the payload, the response's metadata as a
JSON object followed by 8 null bytes, within the stream's first 16 KB
(https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html).
The API streams only the OpenAI-compatible generation routes (:data:`STREAMED_ROUTES`); the
local API Gateway (:mod:`maas.local.apigateway`) integrates them in that mode, and the API
function (:mod:`functions.api.streaming`) answers them in this format.

Examples
--------
>>> StreamMetadata(statusCode=200, headers={"Content-Type": "text/event-stream"}).encode()
b'{"statusCode":200,"headers":{"Content-Type":"text/event-stream"},"multiValueHeaders":{}}\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: What ends the metadata and begins the payload.
STREAM_DELIMITER = b"\x00" * 8

#: How far into the stream the metadata and its delimiter must end.
STREAM_METADATA_LIMIT = 16 * 1024

#: The routes (method, path) integrated with response streaming.
STREAMED_ROUTES = frozenset(
    {("POST", "/openai/v1/chat/completions"), ("POST", "/openai/v1/completions")}
)

#: Set to ``true`` in a function's environment where its runtime streams a handler's answer
#: (an iterator of bytes) rather than marshalling it as JSON: the local runtime's Lambda does;
#: AWS's managed Python runtime does not (see docs/serving.md, "Streaming on AWS").
RESPONSE_STREAMING_ENV = "MAAS_RESPONSE_STREAMING"


class StreamMetadata(BaseModel):
    """The head of a streamed answer: its status and headers, as a proxy response has them."""

    model_config = ConfigDict(extra="forbid")

    statusCode: int = Field(ge=100, le=599)  # noqa: N815 - API Gateway's name
    headers: dict[str, str] = Field(default_factory=dict)
    multiValueHeaders: dict[str, list[str]] = Field(default_factory=dict)  # noqa: N815
    cookies: list[str] | None = None

    def encode(self) -> bytes:
        """The metadata as the stream begins with it, the delimiter included."""
        return self.model_dump_json(exclude_none=True).encode() + STREAM_DELIMITER


__all__ = [
    "RESPONSE_STREAMING_ENV",
    "STREAMED_ROUTES",
    "STREAM_DELIMITER",
    "STREAM_METADATA_LIMIT",
    "StreamMetadata",
]
