"""Rule target for ``LifecycleRequested``: start ``lifecycle`` under the request's id.

Input: the EventBridge event (source ``maas.client``), whose detail is a
:class:`schemas.lifecycle.LifecycleRequest`. EventBridge names the executions it starts
itself and cannot be told a name, and it delivers at least once; this function names the
execution after ``request_id``, so a second delivery of the same request finds that
execution (Step Functions answers ``ExecutionAlreadyExists``, or the running execution for
identical input) and starts nothing. Output: ``{"execution_arn", "started"}``.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from maas.aws import client, error_code
from maas.validation import parse
from schemas.lifecycle import LifecycleRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

LIFECYCLE_STATE_MACHINE_ARN = os.environ["LIFECYCLE_STATE_MACHINE_ARN"]
stepfunctions = client("stepfunctions")

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="detail.request_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Start the lifecycle the event asks for, once however often it is delivered."""
    request = parse(LifecycleRequest, event.get("detail"))
    # The detail as sent (not re-serialised): a redelivery then has identical input.
    document = json.dumps(event["detail"], sort_keys=True)
    execution_arn = execution_arn_of(request.request_id)
    try:
        stepfunctions.start_execution(
            stateMachineArn=LIFECYCLE_STATE_MACHINE_ARN, name=request.request_id, input=document
        )
    except Exception as exc:
        if error_code(exc) != "ExecutionAlreadyExists":
            raise
        logger.info("lifecycle already started", extra={"execution_arn": execution_arn})
        return {"execution_arn": execution_arn, "started": False}
    logger.info("lifecycle started", extra={"execution_arn": execution_arn})
    return {"execution_arn": execution_arn, "started": True}


def execution_arn_of(name: str) -> str:
    """The ARN of the lifecycle's execution called ``name``."""
    machine_arn = LIFECYCLE_STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")
    return f"{machine_arn}:{name}"
