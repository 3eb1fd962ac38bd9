"""The reconciler on its schedule: repair drifted records, report (or delete) orphans.

Input (the schedule's): ``{"delete_orphans": false}``. Publishes one ``ReconcileReport`` per
tenant with findings and returns how many findings each kind had.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from maas.aws import client
from maas.endpoints import EndpointRegistry
from maas.endpoints.reconcile import Reconciler, report_details
from maas.events import EventPublisher
from maas.validation import parse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

reconciler = Reconciler(
    EndpointRegistry(os.environ["ENDPOINTS_TABLE_NAME"], client("dynamodb")), client("sagemaker")
)
publisher = EventPublisher(os.environ["EVENT_BUS_NAME"], client("events"))

logger = Logger()
tracer = Tracer()


class ReconcileInput(StepInput):
    """The schedule's input."""

    delete_orphans: bool = False


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Reconcile the account once and announce what was found, per tenant."""
    step = parse(ReconcileInput, event)
    correlation_id = f"reconcile-{context.aws_request_id}"
    findings = reconciler.run(correlation_id=correlation_id, delete_orphans=step.delete_orphans)
    for detail in report_details(findings, correlation_id=correlation_id):
        publisher.publish("ReconcileReport", detail)
    counts = Counter(f"{finding.kind}:{finding.action}" for finding in findings)
    logger.info("reconciled", extra={"findings": dict(counts)})
    return dict(counts)
