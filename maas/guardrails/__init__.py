"""Guardrails on self-hosted models, as business code applies them.

A stage's guardrails are Bedrock guardrails on AWS and the local engine on the local
runtime; either way they are found through SSM parameters (:func:`resolve_guardrail`) and
applied with ``ApplyGuardrail`` (:class:`GuardrailChecker`), through boto3, which honours
``AWS_ENDPOINT_URL``. Nothing here knows which of the two answers.

Examples
--------
.. code-block:: python

    from maas.guardrails import GuardrailChecker, resolve_guardrail

    ref = resolve_guardrail("acme", stage="dev")
    if ref is not None:
        verdict = GuardrailChecker(ref).check("Which stocks should I buy?", "INPUT")
        verdict.blocked, verdict.text, verdict.reasons
        # (True, "Sorry, I can't help with that request.", ("topic 'Investment advice' denied",))
"""

from __future__ import annotations

from maas.guardrails.checker import GuardrailChecker, verdict
from maas.guardrails.config import (
    DEFAULT_POLICY,
    default_parameter,
    parameter_prefix,
    tenant_parameter,
)
from maas.guardrails.models import GuardrailRef, GuardrailVerdict, Source
from maas.guardrails.resolve import resolve_guardrail

__all__ = [
    "DEFAULT_POLICY",
    "GuardrailChecker",
    "GuardrailRef",
    "GuardrailVerdict",
    "Source",
    "default_parameter",
    "parameter_prefix",
    "resolve_guardrail",
    "tenant_parameter",
    "verdict",
]
