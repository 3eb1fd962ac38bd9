"""The evaluator as a Lambda function, for small question sets: the image's other entry point.

Where the plan chose Lambda (:func:`maas.evaluation.plan.choose_runner`), the Evaluate
workflow's ``Map`` invokes this function with ``{"job_uri": ..., "shard": n}`` instead of
submitting a Batch job; it does the job's work (:func:`maas.evaluation.shard.evaluate_shard`)
and answers what it wrote. The function is this container image deployed as a container-image
function (``awslambdaric`` as its entry point, this handler as its command), so ragas, torch
and the models stay in the evaluator image and never in the control plane's zip functions.
A shard that fails raises: the ``Map``'s ``Catch`` ends the evaluation with
``Maas.ShardFailed``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.shard import STAGE_VARIABLE, evaluate_shard
from maas.validation import parse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer()


class ShardInvocation(BaseModel):
    """What the workflow sends: the evaluation's job document and one shard's index."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_uri: str = Field(pattern=r"^s3://[^/]+/.+")
    shard: int = Field(ge=0)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer and score one shard; where its results are and what the judge cost."""
    invocation = parse(ShardInvocation, event)
    judging = evaluate_shard(
        invocation.job_uri, invocation.shard, stage=os.environ.get(STAGE_VARIABLE)
    )
    return {
        "shard": invocation.shard,
        "judge_calls": judging.usage.calls,
        "judge_parse_failures": judging.usage.parse_failures,
    }
