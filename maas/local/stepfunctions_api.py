"""Step Functions API calls that moto 5.2 answers differently from AWS.

The interpreter's own gaps are patched in :mod:`maas.local.stepfunctions`; this module
is about the API a user (or the product's waiter) calls to read executions:

- **GetExecutionHistory** (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html):
  moto returns every event, oldest first, whatever ``reverseOrder``, ``maxResults`` and
  ``nextToken`` say, and accepts any token. AWS pages (100 events by default, at most
  1,000), lists newest first when asked, and answers ``InvalidToken`` for a token it did
  not issue. This pages moto's events with a token that names the execution, the order and
  the last event id given, so a page read while the execution runs continues where the
  previous one stopped.
- **ListExecutions** (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html):
  moto filters and pages as AWS does, but takes any ``statusFilter`` (answering an empty
  list) and any ``maxResults``; AWS rejects both with ``ValidationException``. This checks
  them, then leaves the call to moto.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from botocore.model import StringShape
from botocore.session import get_session
from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import InvalidToken, ValidationException
from moto.stepfunctions.responses import StepFunctionResponse

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

#: AWS's page size when ``maxResults`` is absent or 0, and the most it allows.
DEFAULT_MAX_RESULTS = 100
LARGEST_MAX_RESULTS = 1000


def _status_filters() -> list[str]:
    # The enum as the service model declares it: the values AWS accepts.
    model = get_session().get_service_model("stepfunctions")
    shape = model.shape_for("ExecutionStatus")
    assert isinstance(shape, StringShape)
    return list(shape.enum)


def page_size(max_results: int | None) -> int:
    """The page size AWS uses for ``maxResults`` (``ValidationException`` beyond its range)."""
    if max_results is not None and not 0 <= max_results <= LARGEST_MAX_RESULTS:
        bound = (
            f"less than or equal to {LARGEST_MAX_RESULTS}"
            if max_results > 0
            else "greater than or equal to 0"
        )
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value {bound}"
        )
    return max_results or DEFAULT_MAX_RESULTS


def _token(execution_arn: str, reverse: bool, last_id: int) -> str:
    text = json.dumps({"executionArn": execution_arn, "reverseOrder": reverse, "after": last_id})
    return base64.urlsafe_b64encode(text.encode()).decode()


def _after(token: str, execution_arn: str, reverse: bool) -> int:
    """The last event id the page that issued ``token`` gave (``InvalidToken`` if not ours)."""
    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode()))
        matches = fields["executionArn"] == execution_arn and fields["reverseOrder"] is reverse
        after = fields["after"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidToken() from exc
    if not matches or not isinstance(after, int):
        # AWS ties a token to the request that got it; another request's token is invalid.
        raise InvalidToken()
    return after


def page_history(
    events: list[dict[str, Any]],
    *,
    execution_arn: str,
    reverse: bool = False,
    max_results: int | None = None,
    next_token: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``events`` (oldest first, by id) and the token of the next, if any."""
    size = page_size(max_results)
    ordered = sorted(events, key=lambda event: int(event["id"]), reverse=reverse)
    if next_token:
        after = _after(next_token, execution_arn, reverse)
        ordered = [e for e in ordered if (e["id"] < after if reverse else e["id"] > after)]
    page = ordered[:size]
    more = len(ordered) > size
    return page, _token(execution_arn, reverse, page[-1]["id"]) if more else None


def _get_execution_history(response: StepFunctionResponse) -> ActionResult:
    execution_arn = response._get_param("executionArn")
    reverse = bool(response._get_param("reverseOrder", False))
    max_results = response._get_param("maxResults")
    next_token = response._get_param("nextToken")
    history = response.stepfunction_backend.get_execution_history(execution_arn)
    page, token = page_history(
        list(history["events"]),
        execution_arn=execution_arn,
        reverse=reverse,
        max_results=None if max_results is None else int(max_results),
        next_token=next_token,
    )
    answer: dict[str, Any] = {"events": page}
    if token is not None:
        answer["nextToken"] = token
    return ActionResult(answer)


def install(stack: ExitStack) -> None:
    """Answer the calls above as AWS does until ``stack`` closes."""
    statuses = _status_filters()
    original_list: Callable[[StepFunctionResponse], ActionResult] = (
        StepFunctionResponse.list_executions
    )

    def list_executions(response: StepFunctionResponse) -> ActionResult:
        status = response._get_param("statusFilter")
        if status is not None and status not in statuses:
            raise ValidationException(
                f"1 validation error detected: Value '{status}' at 'statusFilter' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{', '.join(statuses)}]"
            )
        max_results = response._get_param("maxResults")
        page_size(None if max_results is None else int(max_results))
        return original_list(response)

    stack.enter_context(replace(StepFunctionResponse, "list_executions", list_executions))
    stack.enter_context(
        replace(StepFunctionResponse, "get_execution_history", _get_execution_history)
    )


__all__ = ["DEFAULT_MAX_RESULTS", "LARGEST_MAX_RESULTS", "install", "page_history", "page_size"]
