"""Publish one control-plane event after checking its detail against the schema.

Input: ``{"detail_type": ..., "detail": {...}, "resources": [...]}``. Output: the event id.
An unknown detail-type or a detail that breaks its schema raises ``Maas.ValidationError``.
A step retried after an invocation that published and then timed out gets the first event's
id: the event is put on the bus once (every detail names the execution that publishes it).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from pydantic import Field

from functions.common import StepInput
from functions.common.idempotency import idempotent_on
from maas.aws import client
from maas.events import EventPublisher
from maas.validation import parse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

publisher = EventPublisher(os.environ["EVENT_BUS_NAME"], client("events"))

logger = Logger()
tracer = Tracer()


class PublishEventInput(StepInput):
    """The task's input."""

    detail_type: str
    detail: dict[str, Any]
    resources: list[str] = Field(default_factory=list)


@logger.inject_lambda_context(correlation_id_path="detail.correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[detail_type, detail, resources]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """Publish the event and return its id."""
    step = parse(PublishEventInput, event)
    event_id = publisher.publish(step.detail_type, step.detail, step.resources)
    logger.info("event published", extra={"detail_type": step.detail_type, "event_id": event_id})
    return {"event_id": event_id}
