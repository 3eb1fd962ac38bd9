"""Rule target for Batch's ``Batch Job State Change`` of a packaging job: annotate the version.

Input: the EventBridge event from the account's default bus (source ``aws.batch``), for a
job on the packager's queue (the rule's pattern). The job's container environment holds the
:class:`schemas.PackagingJob` it packages (tenant, model, version, execution); Batch's status
and reason go on that version's record while it is PACKAGING, so a user sees RUNNABLE
(waiting for capacity), STARTING, RUNNING, ... The workflow alone registers or fails the
version. Events arrive out of order and more than once: an older or repeated one changes
nothing. Output: ``{"recorded": bool}``.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from maas.aws import client
from maas.registry import ModelRegistry
from maas.registry.packaging_steps import JOB_ENVIRONMENT_VARIABLE
from maas.validation import parse
from schemas import PackagingJob
from schemas.aws_events import BatchJobStateChange, ServiceEvent

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

registry = ModelRegistry(os.environ["MODELS_TABLE_NAME"], client("dynamodb"))

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Record the packaging job's new status on its version."""
    envelope = parse(ServiceEvent, event)
    change = parse(BatchJobStateChange, envelope.detail)
    document = change.environment().get(JOB_ENVIRONMENT_VARIABLE)
    if document is None:
        logger.info("not a packaging job", extra={"job": change.job_name})
        return {"recorded": False}
    job = parse(PackagingJob, json.loads(document))
    kept = registry.observe_packaging_job(job, change.observation(envelope.time))
    logger.info(
        "packaging job observed",
        extra={
            "model": job.model_name,
            "version": job.version,
            "job_status": change.status,
            "recorded": kept is not None,
        },
    )
    return {"recorded": kept is not None}
