"""Which guardrail guards a tenant: its own parameter, else the stage's default."""

from __future__ import annotations

import json
from typing import Any

from maas import aws
from maas.exceptions import MaasError
from maas.guardrails.config import check_tenant, default_parameter, tenant_parameter
from maas.guardrails.models import GuardrailRef


def _read(ssm: Any, name: str) -> str | None:
    try:
        response = ssm.get_parameter(Name=name)
    except ssm.exceptions.ParameterNotFound:
        return None
    return str(response["Parameter"]["Value"])


def _ref(name: str, value: str) -> GuardrailRef:
    try:
        announced = json.loads(value)
        return GuardrailRef(
            identifier=announced["guardrailId"], version=announced["guardrailVersion"]
        )
    except (ValueError, TypeError, KeyError) as exc:
        # Written by the stack or the local runtime: a bad value is a broken deployment,
        # not a bad request.
        raise MaasError(
            f"SSM parameter {name} does not hold a guardrail "
            f'({{"guardrailId", "guardrailArn", "guardrailVersion"}}): {exc}'
        ) from None


def resolve_guardrail(tenant: str, *, stage: str, ssm: Any | None = None) -> GuardrailRef | None:
    """The guardrail for ``tenant`` in ``stage``; None when the stage has no guardrails.

    The tenant's own parameter wins; a tenant without one gets the stage's default. None
    means that neither parameter exists: the stage was deployed without its guardrails
    stack (or, locally, without the ``guardrails`` extra).

    Parameters
    ----------
    tenant
        The tenant id (``schemas.common.TenantId``); anything else is a ``ValidationError``.
    stage
        The stage whose parameters to read.
    ssm
        A boto3 SSM client; default: the process-wide one (``maas.aws.client``).

    Examples
    --------
    .. code-block:: python

        ref = resolve_guardrail("acme", stage="dev")
        if ref is not None:
            GuardrailChecker(ref).check(prompt, "INPUT")
    """
    check_tenant(tenant)
    client = ssm if ssm is not None else aws.client("ssm")
    for name in (tenant_parameter(stage, tenant), default_parameter(stage)):
        value = _read(client, name)
        if value is not None:
            return _ref(name, value)
    return None


__all__ = ["resolve_guardrail"]
