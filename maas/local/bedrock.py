"""Bedrock guardrails on the local runtime: ``ApplyGuardrail`` answered by the local engine.

Why this exists: moto's ``bedrock-runtime`` has ``InvokeModel`` only, and its ``bedrock``
has no guardrails. With this adapter:

- at runtime start, the guardrails the stacks would deploy are registered, as
  ``stacks/guardrails.py`` defines them: the stage's default guardrail ``maas-<stage>`` from
  ``guardrails/default.json``, and ``maas-<stage>-<tenant>`` for each tenant the stage's
  configuration names under ``guardrails``. The stage and its configuration are read from
  ``cdk.json`` (``maas:stage``, default ``dev``, under ``maas:stages``), the file the CDK app
  reads. Each gets a guardrail id, an ARN and version ``1``, and the SSM parameter the stack
  writes: ``/maas/<stage>/guardrails/default`` and ``/maas/<stage>/guardrails/tenants/<tenant>``,
  each ``{"guardrailId", "guardrailArn", "guardrailVersion"}`` as JSON. Without the
  ``guardrails`` extra (the engine's dependencies) nothing is registered and no parameter is
  written, as for a stage deployed without its guardrails stack;
- ``ApplyGuardrail`` (``POST /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply``),
  in-process and through the emulation's server, applies the guardrail's policy document with
  :class:`maas.local.guardrails.LocalGuardrail` and answers with its response, in
  ``bedrock-runtime``'s shape. The identifier is the guardrail's id or ARN; the version a
  number or ``DRAFT`` (the latest document). An unknown guardrail or version is Bedrock's
  ``ResourceNotFoundException`` (404); a request the engine cannot read (no content, an
  unknown source, an image block, a malformed identifier or version) its
  ``ValidationException`` (400), naming the field. The engine is built on a guardrail's first
  check (seconds: the PII analyzer loads) and kept per guardrail and version.

What the engine does differently from Bedrock is in ``docs/guardrails.md``. Not emulated:
the ``bedrock`` control plane (``CreateGuardrail``, ``GetGuardrail``, ``ListGuardrails``,
``CreateGuardrailVersion``: guardrails are registered with :meth:`LocalBedrock.register`),
guardrails passed to ``InvokeModel``/``Converse``, IAM (any caller may apply any guardrail),
quotas and throttling, ``guardrailCoverage`` in the response, and KMS encryption.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moto.bedrockruntime.responses import BedrockRuntimeResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ssm.models import ssm_backends

from maas.exceptions import ValidationError
from maas.guardrails.config import (
    DEFAULT_POLICY,
    check_tenant,
    default_parameter,
    load_policy,
    tenant_parameter,
)
from maas.local.patching import add
from maas.manifest import PROJECT_ROOT
from maas.validation import parse

if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import ExitStack

    from maas.local.guardrails import LocalGuardrail
    from schemas.guardrail import GuardrailPolicy

logger = logging.getLogger(__name__)

#: The CDK app's configuration file, where the stages and their tenants' guardrails are.
CDK_JSON = PROJECT_ROOT / "cdk.json"
#: The stage ``cdk.json`` falls back to (``stacks.config.DEFAULT_STAGE``).
DEFAULT_STAGE = "dev"
DRAFT = "DRAFT"

# bedrock-runtime's patterns for GuardrailIdentifier and GuardrailVersion.
_IDENTIFIER = re.compile(
    r"[a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/([a-z0-9]+)"
)
_VERSION = re.compile(r"[1-9][0-9]{0,7}|DRAFT")


class ResourceNotFoundException(ServiceException):
    """bedrock-runtime's 404: no guardrail, or no such version of it."""

    code = "ResourceNotFoundException"


class ValidationException(ServiceException):
    """bedrock-runtime's 400: the request does not satisfy the API's constraints."""

    code = "ValidationException"


class ServiceUnavailableException(ServiceException):
    """bedrock-runtime's 503; here, the engine's dependencies are not installed."""

    code = "ServiceUnavailableException"


def engine_installed() -> bool:
    """Whether the local engine's dependencies (the ``guardrails`` extra) are installed."""
    return importlib.util.find_spec("presidio_analyzer") is not None


def configured_stage(cdk_json: Path = CDK_JSON) -> tuple[str, dict[str, str]]:
    """The stage ``cdk.json`` names and its tenants' policy documents (tenant -> path).

    The keys are ``stacks.config``'s (``maas:stage``, ``maas:stages``); that module needs the
    CDK, which the local runtime does without. No ``cdk.json``: the default stage, no tenants.
    """
    if not cdk_json.is_file():
        return DEFAULT_STAGE, {}
    context = json.loads(cdk_json.read_text())["context"]
    stage = str(context.get("maas:stage") or DEFAULT_STAGE)
    described = (context.get("maas:stages") or {}).get(stage) or {}
    tenants = described.get("guardrails") or {}
    return stage, {str(tenant): str(path) for tenant, path in tenants.items()}


@dataclass(frozen=True)
class RegisteredGuardrail:
    """A guardrail of the emulated account: its id, ARN and version, as callers address it."""

    guardrail_id: str
    guardrail_arn: str
    version: str

    def parameter_value(self) -> str:
        """The value of its SSM parameter, as the guardrails stack writes it."""
        return json.dumps(
            {
                "guardrailId": self.guardrail_id,
                "guardrailArn": self.guardrail_arn,
                "guardrailVersion": self.version,
            },
            separators=(",", ":"),
        )


class LocalBedrock:
    """The emulated account's guardrails and the ``ApplyGuardrail`` that applies them.

    Parameters
    ----------
    account_id, region
        Where the guardrails and their parameters live.
    """

    def __init__(self, *, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.stage = DEFAULT_STAGE
        #: guardrail id -> version -> policy document.
        self._policies: dict[str, dict[str, GuardrailPolicy]] = {}
        self._engines: dict[tuple[str, str], LocalGuardrail] = {}
        self._lock = threading.Lock()

    def install(self, stack: ExitStack) -> None:
        """Answer ``ApplyGuardrail`` until ``stack`` closes; then forget every guardrail."""
        local = self

        def apply_guardrail(response: BedrockRuntimeResponse) -> ActionResult:
            request = {
                key: value
                for key in ("source", "content", "outputScope")
                if (value := response._get_param(key)) is not None
            }
            return ActionResult(
                local.apply(
                    str(response._get_param("guardrailIdentifier") or ""),
                    str(response._get_param("guardrailVersion") or ""),
                    request,
                )
            )

        stack.enter_context(add(BedrockRuntimeResponse, "apply_guardrail", apply_guardrail))
        stack.callback(self._forget)

    def _forget(self) -> None:
        with self._lock:
            self._policies.clear()
            self._engines.clear()

    # -- guardrails ------------------------------------------------------------------

    def register(self, policy: GuardrailPolicy) -> RegisteredGuardrail:
        """Create the guardrail ``policy.name`` (or a new version of it); return where it is.

        The id is derived from the name, account and region, so a guardrail keeps its id from
        one run to the next; a document that differs from the latest version's is published
        as the next version, as a new ``AWS::Bedrock::GuardrailVersion`` would be.
        """
        seed = f"{self.account_id}:{self.region}:{policy.name}"
        guardrail_id = hashlib.sha256(seed.encode()).hexdigest()[:12]
        arn = f"arn:aws:bedrock:{self.region}:{self.account_id}:guardrail/{guardrail_id}"
        with self._lock:
            versions = self._policies.setdefault(guardrail_id, {})
            latest = str(len(versions)) if versions else None
            if latest is None or versions[latest] != policy:
                latest = str(len(versions) + 1)
                versions[latest] = policy
        return RegisteredGuardrail(guardrail_id, arn, latest)

    def provision(
        self, stage: str, tenants: Mapping[str, str | Path] | None = None
    ) -> dict[str | None, RegisteredGuardrail]:
        """Register ``stage``'s default guardrail and its tenants', and write their parameters.

        Returns the registered guardrails by tenant (None: the default). Without the engine's
        dependencies nothing is registered, and nothing is returned.
        """
        if not engine_installed():
            logger.info("guardrails not provisioned: the guardrails extra is not installed")
            return {}
        self.stage = stage
        # Straight into the emulated SSM: a boto3 client would load SSM's service model, a
        # noticeable share of a runtime's start, for two writes.
        ssm = ssm_backends[self.account_id][self.region]
        guardrails: list[tuple[str | None, str, Path, str]] = [
            (None, f"maas-{stage}", DEFAULT_POLICY, default_parameter(stage))
        ]
        guardrails += [
            (
                check_tenant(tenant),
                f"maas-{stage}-{tenant}",
                Path(path),
                tenant_parameter(stage, tenant),
            )
            for tenant, path in sorted((tenants or {}).items())
        ]
        registered: dict[str | None, RegisteredGuardrail] = {}
        for tenant, name, path, parameter in guardrails:
            # Guardrail names are unique per account and region: the stack's names, too.
            guardrail = self.register(load_policy(path).model_copy(update={"name": name}))
            whose = (
                f"the guardrail of tenant {tenant}" if tenant else "the stage's default guardrail"
            )
            ssm.put_parameter(
                name=parameter,
                description=f"maas: {whose} (ApplyGuardrail identifier and version).",
                value=guardrail.parameter_value(),
                parameter_type="String",
                allowed_pattern="",
                keyid="",
                overwrite=True,
                tags=[],
                data_type="text",
                tier=None,
                policies=None,
            )
            registered[tenant] = guardrail
        return registered

    # -- ApplyGuardrail --------------------------------------------------------------

    def apply(self, identifier: str, version: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """Answer ``ApplyGuardrail`` for the guardrail ``identifier`` at ``version``."""
        # The engine's package imports its detectors (seconds, and the guardrails extra).
        from maas.local.guardrails.response import GuardrailRequest  # noqa: PLC0415

        engine = self._engine(identifier, version)
        try:
            checked = parse(GuardrailRequest, dict(request))
        except ValidationError as exc:
            raise ValidationException(str(exc)) from None
        return engine.apply(checked).to_bedrock()

    def _engine(self, identifier: str, version: str) -> LocalGuardrail:
        matched = _IDENTIFIER.fullmatch(identifier)
        if matched is None:
            raise ValidationException(
                f"1 validation error detected: Value '{identifier}' at 'guardrailIdentifier' "
                f"failed to satisfy constraint: Member must satisfy regular expression pattern: "
                f"{_IDENTIFIER.pattern}"
            )
        if _VERSION.fullmatch(version) is None:
            raise ValidationException(
                f"1 validation error detected: Value '{version}' at 'guardrailVersion' failed "
                f"to satisfy constraint: Member must satisfy regular expression pattern: "
                f"{_VERSION.pattern}"
            )
        guardrail_id = matched.group(2) or identifier
        with self._lock:
            versions = self._policies.get(guardrail_id)
            if not versions:
                raise ResourceNotFoundException(
                    f"The guardrail {identifier} was not found in account {self.account_id}."
                )
            resolved = str(len(versions)) if version == DRAFT else version
            policy = versions.get(resolved)
            if policy is None:
                raise ResourceNotFoundException(
                    f"Version {version} of guardrail {identifier} was not found."
                )
            engine = self._engines.get((guardrail_id, resolved))
            if engine is None:
                # Under the lock: two first checks at once would build the engine twice.
                engine = _build(policy)
                self._engines[(guardrail_id, resolved)] = engine
        return engine


def _build(policy: GuardrailPolicy) -> LocalGuardrail:
    try:
        from maas.local.guardrails import LocalGuardrail  # noqa: PLC0415
    except ImportError as exc:
        raise ServiceUnavailableException(
            f'the local guardrail engine is not installed ({exc}): pip install -e ".[guardrails]"'
        ) from None
    return LocalGuardrail(policy)


__all__ = [
    "CDK_JSON",
    "DEFAULT_STAGE",
    "LocalBedrock",
    "RegisteredGuardrail",
    "ResourceNotFoundException",
    "ServiceUnavailableException",
    "ValidationException",
    "configured_stage",
    "engine_installed",
]
