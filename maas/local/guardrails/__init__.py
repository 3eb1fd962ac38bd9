"""Guardrails on self-hosted models: Bedrock's policy document, applied locally.

A guardrail policy is written once in the shape of Bedrock's ``CreateGuardrail`` request
(:class:`GuardrailPolicy`, in ``schemas.guardrail``). On AWS it becomes an
``AWS::Bedrock::Guardrail`` and texts are checked with ``ApplyGuardrail``; locally
:class:`LocalGuardrail` applies the same document and answers in the same shape
(:class:`GuardrailResponse`): whether it intervened, the blocked message or the masked text,
and per policy what was found. ``docs/guardrails.md`` lists what the local engine does
differently from Bedrock, and its measured precision and recall.

Examples
--------
>>> from maas.local.guardrails import LocalGuardrail, parse_policy
>>> guardrail = LocalGuardrail(parse_policy({
...     "name": "support-bot",
...     "blockedInputMessaging": "Sorry, I cannot help with that.",
...     "blockedOutputsMessaging": "Sorry, I cannot share that.",
...     "sensitiveInformationPolicyConfig": {
...         "piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE"}],
...     },
... }))
>>> response = guardrail.apply_text("Write to jane@example.com today.", "OUTPUT")
>>> response.action, response.outputs[0].text
('GUARDRAIL_INTERVENED', 'Write to {EMAIL} today.')
"""

from __future__ import annotations

from maas.local.guardrails.engine import LocalGuardrail
from maas.local.guardrails.policy import parse_policy
from maas.local.guardrails.response import GuardrailRequest, GuardrailResponse
from schemas.guardrail import GuardrailPolicy, Source

__all__ = [
    "GuardrailPolicy",
    "GuardrailRequest",
    "GuardrailResponse",
    "LocalGuardrail",
    "Source",
    "parse_policy",
]
