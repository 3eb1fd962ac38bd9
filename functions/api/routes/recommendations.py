"""``/v1/recommendations``: the serving-size advisor, on a model's ``config.json``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.api.context import tenant_of
from maas.advisor.report import AdvisorReport, advise
from maas.advisor.request import ServingRequest

router = APIGatewayRouter()

#: ``meta-llama/Llama-3.1-8B-Instruct``'s config.json, the fields the advisor reads.
LLAMA_31_8B_CONFIG: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "torch_dtype": "bfloat16",
}


class RecommendationRequest(BaseModel):
    """A model's configuration and the load it must serve."""

    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] = Field(
        description="The model's config.json, as Hugging Face publishes it.",
        # A whole config.json (Llama 3.1 8B's): the advisor needs every size it names.
        examples=[LLAMA_31_8B_CONFIG],
    )
    model: str | None = Field(
        default=None, max_length=256, description="The model's name, for the report."
    )
    serving: ServingRequest = Field(default_factory=ServingRequest)


@router.post("/recommendations", summary="Recommend how to serve a model", tags=["Advisor"])
def recommend(body: RecommendationRequest) -> AdvisorReport:
    """Size the model and rank instance types, tensor-parallel degrees, engines and
    quantizations for the load, with the reasons and the runners-up."""
    tenant_of(router)  # only the tenants of this platform may ask
    return advise(body.config, body.serving, model=body.model)
