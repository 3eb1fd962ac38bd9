"""Reading a guardrail policy document at a boundary (the model is ``schemas.guardrail``)."""

from __future__ import annotations

from typing import Any

from maas.validation import parse
from schemas.guardrail import GuardrailPolicy


def parse_policy(document: Any) -> GuardrailPolicy:
    """Validate a policy document; raise ``Maas.ValidationError`` naming each bad field.

    Examples
    --------
    >>> parse_policy({"name": "x", "blockedInputMessaging": "no"})
    Traceback (most recent call last):
    ...
    maas.exceptions.ValidationError: blockedOutputsMessaging: Field required
    """
    return parse(GuardrailPolicy, document)


__all__ = ["parse_policy"]
