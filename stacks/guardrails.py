"""The guardrails stack: the stage's Bedrock guardrails, one default and one per tenant.

Each guardrail is rendered from a policy document in the repository (``schemas.guardrail``;
the default is ``guardrails/default.json``, tenants' documents are named in the stage
configuration), published as a version, and announced in an SSM parameter:

- ``/maas/<stage>/guardrails/default``: the stage's default guardrail;
- ``/maas/<stage>/guardrails/tenants/<tenant>``: a tenant's own guardrail.

Each parameter holds ``{"guardrailId", "guardrailArn", "guardrailVersion"}`` as JSON, what
``ApplyGuardrail`` takes. Parameters rather than a JSON map in a function's environment: a
map of every tenant's guardrail grows with the tenants toward Lambda's 4 KB environment
limit, changes every function that carries it whenever one tenant's policy changes, and
hands each reader every tenant's guardrail; a parameter per tenant is read (and can be
granted, ``ssm:GetParameter`` on ``.../guardrails/*``) one at a time, and a tenant without
one falls back to the default parameter.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_ssm as ssm

from maas.exceptions import ValidationError
from maas.guardrails import config as guardrail_config
from maas.guardrails.config import DEFAULT_POLICY, parameter_prefix
from stacks.config import StageConfigError
from stacks.constructs.guardrail import Guardrail
from stacks.iam_policies import TENANT_TAG

if TYPE_CHECKING:
    from aws_cdk import Environment
    from constructs import Construct

    from schemas.guardrail import GuardrailPolicy
    from stacks.config import StageConfig


def load_policy(path: Path) -> GuardrailPolicy:
    """The guardrail policy document at ``path`` (relative paths: from the project root).

    Raises
    ------
    StageConfigError
        When the file is missing, is not JSON, or is not a valid policy document.
    """
    try:
        return guardrail_config.load_policy(path)
    except ValidationError as exc:
        raise StageConfigError(exc.message) from None


def policy_digest(policy: GuardrailPolicy) -> str:
    """A short digest of the document: it changes whenever anything in the policy does."""
    return hashlib.sha256(json.dumps(policy.document(), sort_keys=True).encode()).hexdigest()[:16]


class StageGuardrail:
    """One deployed guardrail: the guardrail, its published version and its parameter."""

    def __init__(
        self, guardrail: Guardrail, version: bedrock.CfnGuardrailVersion, parameter: str
    ) -> None:
        self.guardrail = guardrail
        self.version = version
        self.parameter_name = parameter


class GuardrailsStack(Stack):
    """The default guardrail and the tenants' guardrails of one stage.

    Parameters
    ----------
    scope, id
        Where the stack lives.
    config
        The stage configuration: ``guardrails`` maps tenants to their policy documents.
    env
        The target account and region, or None for an environment-agnostic template.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name("guardrails"),
            description="maas control plane: Bedrock guardrails, the default and per tenant.",
            env=env,
        )
        prefix = parameter_prefix(config.name)
        # Guardrail names are unique per account and region, so each carries the stage:
        # maas-<stage> for the default, maas-<stage>-<tenant> (at most 50 characters).
        self.default = self._guardrail(
            "Default",
            load_policy(DEFAULT_POLICY),
            name=f"maas-{config.name}",
            parameter=f"{prefix}/default",
            description="the stage's default guardrail",
        )
        self.tenants: dict[str, StageGuardrail] = {}
        for tenant, path in sorted(config.guardrails.items()):
            guarded = self._guardrail(
                f"Tenant-{tenant}",
                load_policy(Path(path)),
                name=f"maas-{config.name}-{tenant}",
                parameter=f"{prefix}/tenants/{tenant}",
                description=f"the guardrail of tenant {tenant}",
            )
            Tags.of(guarded.guardrail).add(TENANT_TAG, tenant)
            self.tenants[tenant] = guarded

    def _guardrail(
        self,
        id: str,
        policy: GuardrailPolicy,
        *,
        name: str,
        parameter: str,
        description: str,
    ) -> StageGuardrail:
        named = policy.model_copy(update={"name": name})
        guardrail = Guardrail(self, f"{id}Guardrail", policy=named)
        # A version is a snapshot taken when the resource is created; naming the document's
        # digest in it replaces the version (a new snapshot) whenever the policy changes.
        version = bedrock.CfnGuardrailVersion(
            self,
            f"{id}GuardrailVersion",
            guardrail_identifier=guardrail.guardrail_id,
            description=f"maas: policy {policy_digest(named)}",
        )
        ssm.StringParameter(
            self,
            f"{id}GuardrailParameter",
            parameter_name=parameter,
            description=f"maas: {description} (ApplyGuardrail identifier and version).",
            string_value=self.to_json_string(
                {
                    "guardrailId": guardrail.guardrail_id,
                    "guardrailArn": guardrail.guardrail_arn,
                    "guardrailVersion": version.attr_version,
                }
            ),
        )
        CfnOutput(
            self,
            f"{id}GuardrailIdOutput",
            value=guardrail.guardrail_id,
            description=f"The id of {description}.",
        )
        CfnOutput(
            self,
            f"{id}GuardrailVersionOutput",
            value=version.attr_version,
            description=f"The published version of {description}.",
        )
        return StageGuardrail(guardrail, version, parameter)


__all__ = [
    "DEFAULT_POLICY",
    "GuardrailsStack",
    "StageGuardrail",
    "load_policy",
    "parameter_prefix",
    "policy_digest",
]
