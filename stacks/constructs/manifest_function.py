"""A Lambda function as the manifest describes it, with its own role and log group.

Most functions run the one zip code asset (:func:`function_code`); a function whose spec
names an ``image`` runs that container image instead (:func:`image_function_code`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Aws, Duration, IgnoreMode
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import iam_policies
from stacks.constructs.manifest_job import BUILD_ARGS, CONTEXT_EXCLUDES, PLATFORM
from stacks.nag import IAM5_ANY_RESOURCE, acknowledge

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_kms as kms

    from maas.manifest import FunctionSpec

#: The newest Python runtime the CDK knows (cdk-nag AwsSolutions-L1 asks for it), on Graviton.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
#: A container-image function's architecture: its image is the Batch job's (x86_64 wheels).
IMAGE_ARCHITECTURE = lambda_.Architecture.X86_64
#: How a container-image function starts: the Lambda runtime interface client, which runs
#: the handler its command names (the image's default command is the Batch job's).
IMAGE_ENTRYPOINT = ("python", "-m", "awslambdaric")
#: Powertools for AWS Lambda (Python) v3, published by AWS as a public layer per runtime and
#: architecture in every commercial region: it brings aws-lambda-powertools, pydantic v2 and
#: aws-xray-sdk (boto3 comes with the runtime). Version 27 of the python3.14/arm64 layer;
#: bump it with the version from the Powertools "Lambda Layer" documentation page.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python314-arm64"
POWERTOOLS_LAYER_VERSION = 27

#: What of the repository a function needs: its handler package and the two it imports.
#: gitignore syntax; ``/*`` drops everything at the top, the ``!`` lines take packages back.
CODE_EXCLUDES = (
    "/*",
    "!/functions/",
    "!/maas/",
    "!/schemas/",
    # The local runtime, the CLI and the SDK import moto, typer and httpx, the packaging job
    # and the serving container torch and transformers: they run elsewhere, and a function
    # never needs them.
    "/maas/local/",
    "/maas/cli/",
    "/maas/sdk/",
    "/maas/packaging/",
    "/maas/serving/",
    # The in-process embedding model (sentence-transformers, torch): local runtime only.
    "/maas/pipeline/local_embedder.py",
    # The evaluator job's own modules: ragas, the local judge (torch, llguidance) and the
    # reward model's training run in its container, never in a function.
    "/maas/evaluation/metrics.py",
    "/maas/evaluation/scoring.py",
    "/maas/evaluation/shard.py",
    "/maas/evaluation/judges/local.py",
    "/maas/evaluation/reward/",
    # The packaging job's quantization (compressed-tensors, torch); the workflow's own step,
    # maas/quantization/steps.py, is a function's.
    "/maas/quantization/quantize.py",
    "/maas/quantization/perplexity.py",
    # The build step of the state machines' definitions (PyYAML): `make workflows` only.
    "/maas/workflow_build.py",
    "/maas/quantization/package.py",
    "__pycache__/",
    "*.pyc",
)


def powertools_layer_arn() -> str:
    """The Powertools layer's ARN in the deploying region."""
    return (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"{POWERTOOLS_LAYER_NAME}:{POWERTOOLS_LAYER_VERSION}"
    )


def function_code(project_root: Path) -> lambda_.Code:
    """The one code asset every zip function runs: ``functions``, ``maas`` and ``schemas``.

    Nothing is bundled in Docker: the packages are pure Python and their dependencies come
    from the runtime and the Powertools layer.
    """
    return lambda_.Code.from_asset(
        str(project_root), exclude=list(CODE_EXCLUDES), ignore_mode=IgnoreMode.GIT
    )


def image_function_code(project_root: Path, spec: FunctionSpec) -> lambda_.Code:
    """The image ``spec.image`` builds, started as a function that runs ``spec.handler``.

    Built from the same Dockerfile, context and arguments as a Batch job's image
    (:func:`stacks.constructs.manifest_job.image_asset`), so the two publish one image.
    """
    if spec.image is None:
        raise ValueError(f"{spec.id} runs the zip asset, not an image")
    return lambda_.Code.from_asset_image(
        str(project_root),
        file=spec.image,
        platform=PLATFORM,
        build_args=BUILD_ARGS,
        ignore_mode=IgnoreMode.DOCKER,
        exclude=[*CONTEXT_EXCLUDES, f"!{spec.image}"],
        entrypoint=list(IMAGE_ENTRYPOINT),
        cmd=[spec.handler],
    )


class ManifestFunction(Construct):
    """The manifest's function ``spec``: handler, environment, memory and timeout from it.

    The function gets a role of its own that may write to its own log group (which keeps
    events for the stage's retention) and send traces to X-Ray; callers add what else it
    needs with :meth:`add_to_role_policy`.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    spec
        The manifest's description of the function.
    code
        The zip code asset (see :func:`function_code`), or the image of a spec that names
        one (see :func:`image_function_code`): then ``layers`` do not apply.
    environment
        The function's environment, its manifest ``Ref`` s already resolved.
    layers
        Layers the function runs with (Powertools).
    log_retention
        How long its log group keeps events.
    encryption_key
        The key its log group is encrypted with.
    removal_policy
        What happens to its log group when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: FunctionSpec,
        code: lambda_.Code,
        environment: Mapping[str, str],
        layers: list[lambda_.ILayerVersion],
        log_retention: logs.RetentionDays,
        encryption_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        # An own role instead of the AWSLambdaBasicExecutionRole managed policy, whose
        # logs:CreateLogGroup/PutLogEvents apply to every log group of the account.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the maas {spec.id} function.",
        )
        self.role.add_to_policy(iam_policies.write_logs(self.log_group.log_group_arn))
        # A container image brings its runtime, handler and dependencies itself.
        image = spec.image is not None
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=lambda_.Runtime.FROM_IMAGE if image else RUNTIME,
            architecture=IMAGE_ARCHITECTURE if image else ARCHITECTURE,
            handler=lambda_.Handler.FROM_IMAGE if image else spec.handler,
            code=code,
            layers=None if image else layers,
            environment=dict(environment),
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
        )
        acknowledge(
            self,
            IAM5_ANY_RESOURCE,
            "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support "
            "no resource-level permissions, so AWS requires Resource '*'.",
        )

    def add_to_role_policy(self, *statements: iam.PolicyStatement) -> None:
        """Allow the function what ``statements`` allow."""
        for statement in statements:
            self.role.add_to_policy(statement)


__all__ = [
    "ARCHITECTURE",
    "CODE_EXCLUDES",
    "IMAGE_ARCHITECTURE",
    "IMAGE_ENTRYPOINT",
    "POWERTOOLS_LAYER_ACCOUNT",
    "POWERTOOLS_LAYER_NAME",
    "POWERTOOLS_LAYER_VERSION",
    "RUNTIME",
    "ManifestFunction",
    "function_code",
    "image_function_code",
    "powertools_layer_arn",
]
