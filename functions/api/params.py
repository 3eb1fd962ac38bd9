"""Parameters and answers several routes share."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from schemas.api import MAX_PAGE_SIZE

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Retry with the same key and the same body: the first request's workflow "
        "is answered, none is started twice.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page, at most 100.")]
NextToken = Annotated[
    str | None, Query(max_length=512, description="The previous page's next_token.")
]

#: The OpenAPI answer of an operation that starts a workflow.
ACCEPTED: dict[int, Any] = {202: {"description": "The workflow started; follow status_url."}}

__all__ = ["ACCEPTED", "IdempotencyKey", "Limit", "NextToken"]
