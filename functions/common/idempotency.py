"""Powertools Idempotency for the handlers that create things, on the manifest's table.

Step Functions retries a task whose Lambda invocation failed in transit, and the first
invocation may have done its work: a second version opened, a second model package
registered. A handler decorated with :func:`idempotent_on` answers a repeated event with the
first invocation's answer, recorded in ``IDEMPOTENCY_TABLE_NAME`` (one partition per
function: ``idempotency#<function name>``, one item per event key).

How it behaves, as Powertools documents it:

- An invocation that raises leaves no record (Powertools deletes it) and the exception
  propagates as it was raised, so ``Maas.ValidationError`` and the other typed errors reach
  the state machines' ``Catch`` unchanged, and a retry runs the handler again.
- While the first invocation runs, a repeated one fails with
  ``IdempotencyAlreadyInProgressError`` (the workflows retry it). The in-progress mark
  expires with the invocation's remaining time (the Lambda context), so a function that
  timed out does not block its retry until the record expires.
- A completed record answers for :data:`RECORD_SECONDS`, longer than any workflow runs
  before it is redriven; DynamoDB's time to live on ``expiration`` removes it later.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)

from maas.aws import client
from maas.manifest import IDEMPOTENCY_EXPIRY_ATTRIBUTE

if TYPE_CHECKING:
    from collections.abc import Callable

#: How long a completed invocation's answer is given to repeats of its event.
RECORD_SECONDS = 24 * 3600


def idempotent_on(event_key: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a handler idempotent on the part of its event that ``event_key`` selects.

    ``event_key`` is a JMESPath expression; it should name what identifies the request
    (the execution's correlation id and the request), never the Lambda context. An event
    without it is an error, not a silent pass-through.
    """
    persistence = DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE_NAME"],
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr=IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        boto3_client=client("dynamodb"),
    )
    config = IdempotencyConfig(
        event_key_jmespath=event_key,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=RECORD_SECONDS,
    )
    return idempotent(persistence_store=persistence, config=config)


__all__ = ["RECORD_SECONDS", "idempotent_on"]
