"""Rule target for an idle alarm entering ``ALARM``: start ``teardown`` of its endpoint, once.

Input: the ``CloudWatch Alarm State Change`` event from the default bus (source
``aws.cloudwatch``), matched by the ``IdleAlarmRule`` on the product's alarm name prefix. The
endpoint comes from the alarm's tags; see :mod:`maas.endpoints.idle` for when nothing is
done. Output: ``{"outcome", "reason", "tenant_id", "endpoint_name", "execution_arn"}``.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from maas.aws import client
from maas.endpoints import EndpointRegistry
from maas.endpoints.idle import IdleTeardown
from maas.validation import parse
from schemas.alarms import AlarmStateChange

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

idle_teardown = IdleTeardown(
    cloudwatch=client("cloudwatch"),
    stepfunctions=client("stepfunctions"),
    registry=EndpointRegistry(os.environ["ENDPOINTS_TABLE_NAME"], client("dynamodb")),
    teardown_state_machine_arn=os.environ["TEARDOWN_STATE_MACHINE_ARN"],
)

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="detail.alarmName")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Tear the idle endpoint down, or log why not."""
    change = parse(AlarmStateChange, event)
    result = idle_teardown.handle(change)
    outcome = {**asdict(result), "outcome": result.outcome.value}
    logger.info("idle alarm handled", extra=outcome)
    return outcome
