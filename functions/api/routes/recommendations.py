"""``/v1/recommendations``: the serving-size advisor, on a model's ``config.json``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.api.context import tenant_of
from maas.advisor.report import AdvisorReport, advise
from maas.advisor.request import ServingRequest

router = APIGatewayRouter()


class RecommendationRequest(BaseModel):
    """A model's configuration and the load it must serve."""

    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] = Field(
        description="The model's config.json, as Hugging Face publishes it.",
        examples=[{"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32}],
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
