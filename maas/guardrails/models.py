"""What a guardrail check is asked with and what it answers, whatever checked it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Source = Literal["INPUT", "OUTPUT"]
GuardrailAction = Literal["NONE", "GUARDRAIL_INTERVENED"]


class GuardrailRef(BaseModel):
    """A guardrail and the version of it to apply: what ``ApplyGuardrail`` is addressed to.

    Examples
    --------
    >>> GuardrailRef(identifier="a1b2c3d4e5f6", version="1")
    GuardrailRef(identifier='a1b2c3d4e5f6', version='1')
    """

    model_config = ConfigDict(frozen=True)

    identifier: str
    version: str


class GuardrailVerdict(BaseModel):
    """One text checked: whether the guardrail intervened, what to carry on with, and why.

    ``text`` is the original text when the guardrail let it pass, else what Bedrock returns
    instead: the masked text, or the blocked message. ``blocked`` tells a text that may not
    pass (a finding BLOCKED it) from one that only had parts masked (ANONYMIZED).
    ``reasons`` has one short line per finding, for people; ``assessments`` is Bedrock's own
    account, for an API response.
    """

    model_config = ConfigDict(frozen=True)

    action: GuardrailAction
    source: Source
    text: str
    intervened: bool
    blocked: bool
    reasons: tuple[str, ...]
    assessments: list[dict[str, Any]]


__all__ = ["GuardrailAction", "GuardrailRef", "GuardrailVerdict", "Source"]
