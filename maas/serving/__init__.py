"""The serving container: a packaged model behind SageMaker's hosting contract.

What runs inside an endpoint's container, and what the local runtime starts behind each
``InService`` endpoint (:mod:`maas.local.inference`): ``python -m maas.serving --model-dir
DIR --port N`` loads the packaged model and answers ``GET /ping`` and ``POST /invocations``
with the LMI container's request and response schemas. One module per role:
``properties`` (``serving.properties``), ``protocol`` (requests and answers), ``model``
(loading and generating), ``batching`` (requests that share generation steps), ``service``
(one invocation) and ``server`` (HTTP).

This package exports the contract, which needs only pydantic; ``model``, ``service`` and
``server`` need the ``model`` extra (torch, transformers) and are imported by their path.
"""

from maas.serving.exceptions import BadRequest, ModelLoadError, ServingError
from maas.serving.properties import (
    SERVING_PROPERTIES,
    ServingProperties,
    parse_serving_properties,
    read_serving_properties,
)
from maas.serving.protocol import (
    ChatCompletionRequest,
    Completion,
    GenerateRequest,
    GenerationParameters,
    SamplingParams,
    parse_request,
)

__all__ = [
    "SERVING_PROPERTIES",
    "BadRequest",
    "ChatCompletionRequest",
    "Completion",
    "GenerateRequest",
    "GenerationParameters",
    "ModelLoadError",
    "SamplingParams",
    "ServingError",
    "ServingProperties",
    "parse_request",
    "parse_serving_properties",
    "read_serving_properties",
]
