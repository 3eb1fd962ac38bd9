"""The stage configuration: what differs between deployments of the same control plane.

A stage is chosen with the context key ``maas:stage`` and described under ``maas:stages`` in
``cdk.json`` (or on the command line, ``-c maas:stage=prod``). No account or region lives
here: the stacks use the deploying account's and region's tokens.

Examples
--------
>>> config = StageConfig.model_validate({"name": "dev", "settings": {"endpoint_poll_seconds": "5"}})
>>> config.setting("endpoint_poll_seconds"), config.setting("endpoint_max_status_checks")
('5', '120')
>>> config.stack_name("lifecycle")
'maas-dev-lifecycle'
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, Self

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from maas.manifest import MANIFEST

if TYPE_CHECKING:
    from pathlib import Path

#: The context key that names the stage to synthesize.
STAGE_CONTEXT_KEY = "maas:stage"
#: The context key that holds every stage's configuration, by name.
STAGES_CONTEXT_KEY = "maas:stages"
#: The stage synthesized when the context names none.
DEFAULT_STAGE = "dev"


def read_cdk_json_context(cdk_json: Path) -> dict[str, Any]:
    """The ``context`` of a ``cdk.json``: the CLI passes it to the app, ``python app.py`` not."""
    context: dict[str, Any] = json.loads(cdk_json.read_text())["context"]
    return context


class StageConfigError(ValueError):
    """The stage configuration in the CDK context is missing or invalid."""


class StageConfig(BaseModel):
    """One stage's configuration.

    Parameters
    ----------
    name
        The stage name. It prefixes stack names and the artifacts bucket's name, so it is
        short, lower-case and DNS-safe.
    settings
        Overrides of the manifest's settings (see ``MANIFEST.settings``); the rest keep their
        defaults.
    log_retention
        How long every log group keeps its events: a ``aws_logs.RetentionDays`` member name.
    event_archive_retention_days
        How long the bus archive keeps events for replay; 0 keeps them indefinitely.
    removal_policy
        What happens to the data (key, bucket, table, logs) when a stack is deleted.
        ``destroy`` is for throw-away stages: a bucket that still holds objects stays.
    tags
        Tags put on every resource, for example for cost allocation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,11}$")
    settings: dict[str, str] = Field(default_factory=dict)
    log_retention: str = "ONE_MONTH"
    event_archive_retention_days: int = Field(default=365, ge=0)
    removal_policy: Literal["retain", "destroy"] = "retain"
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("settings")
    @classmethod
    def _known_settings(cls, value: dict[str, str]) -> dict[str, str]:
        known = {spec.name for spec in MANIFEST.settings}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown settings {unknown}; known: {sorted(known)}")
        return value

    @field_validator("log_retention")
    @classmethod
    def _known_retention(cls, value: str) -> str:
        if value not in logs.RetentionDays.__members__:
            raise ValueError(f"{value!r} is not an aws_logs.RetentionDays member name")
        return value

    @classmethod
    def resolve(cls, context: dict[str, Any]) -> Self:
        """The configuration of the stage the context names.

        Parameters
        ----------
        context
            The CDK context: ``maas:stage`` (default ``dev``) and ``maas:stages``.

        Raises
        ------
        StageConfigError
            When the stage is not described or its description is invalid.
        """
        name = context.get(STAGE_CONTEXT_KEY) or DEFAULT_STAGE
        stages = context.get(STAGES_CONTEXT_KEY) or {}
        if name not in stages:
            raise StageConfigError(
                f"stage {name!r} is not under {STAGES_CONTEXT_KEY!r} in the CDK context; "
                f"described: {sorted(stages)}"
            )
        try:
            return cls.model_validate({"name": name, **stages[name]})
        except ValueError as exc:
            raise StageConfigError(f"stage {name!r}: {exc}") from None

    def setting(self, name: str) -> str:
        """The value of the manifest setting ``name`` in this stage."""
        return self.settings.get(name, MANIFEST.setting(name).default)

    def stack_name(self, concern: str) -> str:
        """The CloudFormation name of this stage's stack for ``concern``."""
        return f"maas-{self.name}-{concern}"

    @property
    def retention(self) -> logs.RetentionDays:
        """Log retention as the CDK enum."""
        return logs.RetentionDays[self.log_retention]

    @property
    def cdk_removal_policy(self) -> RemovalPolicy:
        """The removal policy for stateful resources."""
        return RemovalPolicy.DESTROY if self.removal_policy == "destroy" else RemovalPolicy.RETAIN


__all__ = [
    "DEFAULT_STAGE",
    "STAGES_CONTEXT_KEY",
    "STAGE_CONTEXT_KEY",
    "StageConfig",
    "StageConfigError",
    "read_cdk_json_context",
]
