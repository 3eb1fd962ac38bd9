"""How the package is to be served: the advisor's recommendation, its image and settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pydantic

from maas.advisor import ServingRequest, advise, read_safetensors_headers, serving_properties
from maas.exceptions import ValidationError
from maas.packaging.images import image_uri

if TYPE_CHECKING:
    from pathlib import Path

    from maas.advisor import AdvisorReport
    from maas.packaging.series import ModelFolder
    from schemas.packaging import ServingPreferences


@dataclass(frozen=True)
class ServingPlan:
    """The advisor's report and what follows from it for the serving container."""

    report: AdvisorReport
    image_uri: str
    serving_properties: str
    environment: dict[str, str]


def serving_request(preferences: ServingPreferences) -> ServingRequest:
    """The advisor's request for a packaging request's serving preferences.

    Examples
    --------
    >>> from schemas.packaging import ServingPreferences
    >>> serving_request(ServingPreferences(instance_types=["ml.g5.xlarge"])).instance_types
    ('ml.g5.xlarge',)
    """
    try:
        return ServingRequest(
            context_tokens=preferences.context_tokens,
            prompt_tokens=preferences.prompt_tokens,
            concurrent_requests=preferences.concurrent_requests,
            preference=preferences.preference,
            instance_types=tuple(preferences.instance_types)
            if preferences.instance_types
            else None,
        )
    except pydantic.ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors())
        raise ValidationError(f"serving: {problems}") from None


def check_servable(folder: Path, preferences: ServingPreferences) -> None:
    """Size the model from ``folder``'s ``config.json`` alone, before its weights are fetched.

    Does nothing when there is no ``config.json`` (a GGUF file carries its config inside).

    Raises
    ------
    UnsupportedArchitecture, NoInstanceFits, ValidationError
        As :func:`maas.advisor.advise` raises them.
    """
    config = folder / "config.json"
    if config.is_file():
        advise(json.loads(config.read_text()), serving_request(preferences))


def plan_serving(
    folder: ModelFolder,
    preferences: ServingPreferences,
    *,
    model: str,
    revision: str | None,
    region: str,
) -> ServingPlan:
    """Size the model in ``folder`` for ``preferences`` and name the image that serves it.

    Raises
    ------
    UnsupportedArchitecture, NoInstanceFits, ValidationError
        As :func:`maas.advisor.advise` raises them.
    """
    config = folder.config()
    report = advise(
        config,
        serving_request(preferences),
        safetensors_headers=read_safetensors_headers(folder.weights),
        model=model,
    )
    recommendation = report.recommendation
    # A model whose config maps its classes to its own code (auto_map) only loads with it.
    environment = {"OPTION_TRUST_REMOTE_CODE": "true"} if "auto_map" in config else {}
    return ServingPlan(
        report=report,
        image_uri=image_uri(recommendation.engine, region),
        serving_properties=serving_properties(recommendation, revision=revision),
        environment=environment,
    )


__all__ = ["ServingPlan", "check_servable", "plan_serving", "serving_request"]
