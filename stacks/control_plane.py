"""Compose one stage of the control plane in a CDK app: stacks, tags, aspects, cdk-nag.

``app.py`` and the stack tests both build the app through :func:`build`, so what is tested
is what is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Aspects, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from maas.manifest import MANIFEST
from stacks.api import ApiStack
from stacks.aspects import ObservabilityChecks
from stacks.config import STAGE_CONTEXT_KEY, STAGES_CONTEXT_KEY, StageConfig
from stacks.foundation import FoundationStack
from stacks.guardrails import GuardrailsStack
from stacks.iam_policies import STAGE_TAG
from stacks.lifecycle import LifecycleStack
from stacks.observability import ObservabilityStack
from stacks.packaging import PackagingStack
from stacks.refs import RefResolver

if TYPE_CHECKING:
    from aws_cdk import App, Environment


@dataclass(frozen=True)
class ControlPlane:
    """The stacks of one stage."""

    config: StageConfig
    foundation: FoundationStack
    packaging: PackagingStack
    lifecycle: LifecycleStack
    observability: ObservabilityStack
    guardrails: GuardrailsStack
    api: ApiStack


def build(app: App, *, env: Environment | None = None) -> ControlPlane:
    """Add the stage the app's context names to ``app``.

    Parameters
    ----------
    app
        The CDK app; its context holds the stage configuration (see :mod:`stacks.config`).
    env
        The target account and region, or None for environment-agnostic templates.

    Returns
    -------
    ControlPlane
        The stage's configuration and stacks.

    Raises
    ------
    stacks.config.StageConfigError
        When the context does not describe the stage it names.
    """
    config = StageConfig.resolve(
        {key: app.node.try_get_context(key) for key in (STAGE_CONTEXT_KEY, STAGES_CONTEXT_KEY)}
    )
    refs = RefResolver({spec.name: config.setting(spec.name) for spec in MANIFEST.settings})
    foundation = FoundationStack(
        app, config.stack_name("foundation"), config=config, refs=refs, env=env
    )
    packaging = PackagingStack(
        app,
        config.stack_name("packaging"),
        config=config,
        refs=refs,
        foundation=foundation,
        env=env,
    )
    lifecycle = LifecycleStack(
        app,
        config.stack_name("lifecycle"),
        config=config,
        refs=refs,
        foundation=foundation,
        env=env,
    )
    lifecycle.add_stack_dependency(
        packaging, "The workflows name the job queues and definitions by ARN, not by reference."
    )
    observability = ObservabilityStack(
        app, config.stack_name("observability"), config=config, lifecycle=lifecycle, env=env
    )
    guardrails = GuardrailsStack(app, config.stack_name("guardrails"), config=config, env=env)
    api = ApiStack(
        app,
        config.stack_name("api"),
        config=config,
        foundation=foundation,
        lifecycle=lifecycle,
        env=env,
    )

    Tags.of(app).add(STAGE_TAG, config.name)
    for key, value in config.tags.items():
        Tags.of(app).add(key, value)
    Aspects.of(app).add(ObservabilityChecks())
    # cdk-nag 3 runs as a policy-validation plugin: an unacknowledged finding fails synthesis.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return ControlPlane(
        config=config,
        foundation=foundation,
        packaging=packaging,
        lifecycle=lifecycle,
        observability=observability,
        guardrails=guardrails,
        api=api,
    )


__all__ = ["STAGE_TAG", "ControlPlane", "build"]
