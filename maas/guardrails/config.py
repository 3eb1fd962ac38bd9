"""Where a stage's guardrails come from and where callers find them.

Each stage has a default guardrail, from :data:`DEFAULT_POLICY`, and one per tenant named in
its configuration. Each is announced in an SSM parameter (``stacks/guardrails.py`` writes
them on AWS, ``maas.local.bedrock`` locally), holding ``{"guardrailId", "guardrailArn",
"guardrailVersion"}`` as JSON:

- ``/maas/<stage>/guardrails/default``: the stage's default guardrail;
- ``/maas/<stage>/guardrails/tenants/<tenant>``: a tenant's own guardrail.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pydantic

from maas.exceptions import ValidationError
from maas.manifest import PROJECT_ROOT
from maas.validation import parse
from schemas.common import TenantId
from schemas.guardrail import GuardrailPolicy

if TYPE_CHECKING:
    from pathlib import Path

#: The policy document of every stage's default guardrail.
DEFAULT_POLICY = PROJECT_ROOT / "guardrails" / "default.json"

_TENANT: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(TenantId)


def check_tenant(tenant: str) -> str:
    """``tenant`` if it is a tenant id, else ``ValidationError``: it names a parameter.

    Examples
    --------
    >>> check_tenant("acme")
    'acme'
    >>> check_tenant("../default")
    Traceback (most recent call last):
    ...
    maas.exceptions.ValidationError: tenant: '../default' is not a tenant id
    """
    try:
        return _TENANT.validate_python(tenant)
    except pydantic.ValidationError:
        raise ValidationError(f"tenant: {tenant!r} is not a tenant id") from None


def parameter_prefix(stage: str) -> str:
    """Where a stage's guardrail parameters live.

    Examples
    --------
    >>> parameter_prefix("dev")
    '/maas/dev/guardrails'
    """
    return f"/maas/{stage}/guardrails"


def default_parameter(stage: str) -> str:
    """The parameter of the stage's default guardrail.

    Examples
    --------
    >>> default_parameter("dev")
    '/maas/dev/guardrails/default'
    """
    return f"{parameter_prefix(stage)}/default"


def tenant_parameter(stage: str, tenant: str) -> str:
    """The parameter of a tenant's own guardrail.

    Examples
    --------
    >>> tenant_parameter("dev", "acme")
    '/maas/dev/guardrails/tenants/acme'
    """
    return f"{parameter_prefix(stage)}/tenants/{tenant}"


def load_policy(path: Path) -> GuardrailPolicy:
    """The guardrail policy document at ``path`` (relative paths: from the project root).

    Raises
    ------
    ValidationError
        When the file is missing, is not JSON, or is not a valid policy document; the
        message names the file, then each bad field.
    """
    resolved = path if path.is_absolute() else PROJECT_ROOT / path
    try:
        return parse(GuardrailPolicy, json.loads(resolved.read_text()))
    except (OSError, ValueError, ValidationError) as exc:
        raise ValidationError(f"guardrail policy {path}: {exc}") from None


__all__ = [
    "DEFAULT_POLICY",
    "check_tenant",
    "default_parameter",
    "load_policy",
    "parameter_prefix",
    "tenant_parameter",
]
