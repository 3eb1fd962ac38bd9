"""Rule target for ``LifecycleRequested``: start ``lifecycle`` once per tenant and request id.

Input: the EventBridge event (source ``maas.client``), whose detail is a
:class:`schemas.lifecycle.LifecycleRequest`. EventBridge names the executions it starts
itself and cannot be told a name, and it delivers at least once; this function names the
execution after the tenant and its ``request_id``
(:func:`maas.workflows.execution_name`: ``<tenant>_<digest>``), so a second delivery of the
same request finds that execution (Step Functions answers ``ExecutionAlreadyExists``, or the
running execution for identical input) and starts nothing. Request ids are the client's and
so per tenant: named after the request id alone, a second tenant's request with the same id
would find the first tenant's execution and be dropped. Whoever may put events on the bus
sends these, so the source is held to what the API holds it to: no ``local`` source, and
nothing of another tenant's (``Maas.ValidationError``, nothing started). Output:
``{"execution_arn", "started"}``.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from maas.aws import client, error_code
from maas.exceptions import ValidationError
from maas.registry.packaging_steps import LOCAL_SOURCE_REFUSED, check_source
from maas.validation import parse
from maas.workflows import execution_name
from schemas.api import Workflow
from schemas.lifecycle import LifecycleRequest
from schemas.packaging import LocalSource

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

LIFECYCLE_STATE_MACHINE_ARN = os.environ["LIFECYCLE_STATE_MACHINE_ARN"]
ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
stepfunctions = client("stepfunctions")

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="detail.request_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Start the lifecycle the event asks for, once however often it is delivered."""
    request = parse(LifecycleRequest, event.get("detail"))
    # Anyone allowed to put events on the bus sends these: hold them to what the API holds.
    if isinstance(request.package.source, LocalSource):
        raise ValidationError(f"package.source.kind: {LOCAL_SOURCE_REFUSED}")
    check_source(
        request.package.source, request.tenant_id, ARTIFACTS_BUCKET, field="package.source"
    )
    # The detail as sent (not re-serialised): a redelivery then has identical input.
    document = json.dumps(event["detail"], sort_keys=True)
    name = execution_name(request.tenant_id, Workflow.LIFECYCLE, request.request_id)
    execution_arn = execution_arn_of(name)
    try:
        stepfunctions.start_execution(
            stateMachineArn=LIFECYCLE_STATE_MACHINE_ARN, name=name, input=document
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
