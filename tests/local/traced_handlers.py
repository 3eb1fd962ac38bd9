"""A handler traced by Powertools' Tracer, as the product's handlers are (``functions/``)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Tracer

tracer = Tracer(service="traced-test")


@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return the trace header Lambda gave this invocation."""
    return {"trace_header": os.environ.get("_X_AMZN_TRACE_ID"), "input": event.get("input")}
