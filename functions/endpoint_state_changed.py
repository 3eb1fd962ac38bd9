"""Rule target for SageMaker's ``SageMaker Endpoint State Change``: keep its word on the record.

Input: the EventBridge event from the account's default bus (source ``aws.sagemaker``), for
an endpoint tagged ``maas:tenant`` (the rule's pattern says so). SageMaker's status, reason
and change time go on the endpoint's record; an IN_SERVICE record that SageMaker reports
failed or being deleted becomes FAILED (see
:meth:`maas.endpoints.EndpointRegistry.observe_sagemaker`). Events arrive out of order and
more than once: an older or repeated one changes nothing. Output: ``{"recorded": bool,
"status": <the record's status, or None>}``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from maas.aws import client
from maas.endpoints import EndpointRegistry
from maas.validation import parse
from schemas.aws_events import SageMakerEndpointStateChange, ServiceEvent

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

registry = EndpointRegistry(os.environ["ENDPOINTS_TABLE_NAME"], client("dynamodb"))

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Record the endpoint's new state; the event's id names the change on the record."""
    envelope = parse(ServiceEvent, event)
    change = parse(SageMakerEndpointStateChange, envelope.detail)
    if change.tenant_id is None:
        logger.info("endpoint not made by the platform", extra={"endpoint": change.endpoint_name})
        return {"recorded": False, "status": None}
    record = registry.observe_sagemaker(change.tenant_id, change, correlation_id=envelope.id)
    logger.info(
        "endpoint state observed",
        extra={
            "endpoint": change.endpoint_name,
            "sagemaker_status": change.endpoint_status,
            "recorded": record is not None,
        },
    )
    return {"recorded": record is not None, "status": record.status.value if record else None}
