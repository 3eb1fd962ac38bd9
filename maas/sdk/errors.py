"""The SDK's exceptions: one root, and one class per kind of problem the API answers.

The API answers errors as RFC 9457 problem details (:class:`schemas.api.Problem`); API
Gateway answers some of its own (a refused token is ``401 {"message": "Unauthorized"}``).
:func:`error_from_response` turns either into the exception of its kind, keeping the status,
title, detail, typed error name and field errors, so that callers catch what they can handle:

Examples
--------
>>> import httpx
>>> response = httpx.Response(
...     404,
...     json={"type": "https://maas.dev/problems/not-found", "title": "Not Found",
...           "status": 404, "detail": "endpoint 'x' not found", "error_name": "Maas.NotFound"},
... )
>>> error = error_from_response(response)
>>> type(error).__name__, error.status, error.error_name
('NotFound', 404, 'Maas.NotFound')
>>> str(error)
"404 Not Found: endpoint 'x' not found"
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

import pydantic

from schemas.api import FieldProblem, Problem

if TYPE_CHECKING:
    import httpx

    from schemas.api import ExecutionView
    from schemas.endpoint import EndpointRecord


class MaasSdkError(Exception):
    """Root of every error the SDK raises on purpose."""


class MaasApiError(MaasSdkError):
    """The API refused a request, or could not be reached; the problem it answered.

    Attributes
    ----------
    status
        The HTTP status, or None when no response came (the connection failed).
    title, detail
        The problem's kind and what went wrong with this request.
    error_name
        The control plane's typed error name (``Maas.NotFound``), when the API gave one.
    errors
        One entry per invalid field, when the request did not validate.
    request_id
        The request's id, when a response came: what to quote for a 500, whose details
        are in the API's log under it.
    """

    def __init__(
        self,
        status: int | None,
        title: str,
        detail: str,
        *,
        error_name: str | None = None,
        errors: list[FieldProblem] | None = None,
        request_id: str | None = None,
    ) -> None:
        prefix = f"{status} {title}" if status is not None else title
        super().__init__(f"{prefix}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.error_name = error_name
        self.errors = list(errors or [])
        self.request_id = request_id

    @property
    def field_errors(self) -> dict[str, str]:
        """Each invalid field's message, by its dotted path."""
        return {problem.field: problem.message for problem in self.errors}


class Unauthorized(MaasApiError):
    """401: no token, or one the API does not accept (expired, forged, another pool's)."""


class NotFound(MaasApiError):
    """404: no such thing for this tenant (another tenant's things are not found either)."""


class Conflict(MaasApiError):
    """409: the thing is not in a state that allows the operation, or the key was reused."""


class QuotaExceeded(MaasApiError):
    """403: the tenant's quota (endpoints, instances) does not allow the request."""


class InvalidRequest(MaasApiError):
    """400, 413, 415 or 422: the request is malformed; :attr:`errors` names each bad field."""


class ServiceUnavailable(MaasApiError):
    """5xx or 429 after every retry, or the API could not be reached at all."""


class GatewayTimeout(ServiceUnavailable):
    """504: API Gateway stopped waiting for the function (29 s) and answered for it.

    The function may still be running, and what it was asked may still happen (a model's first
    load can take minutes). A request that must not run twice (an invoke) is not sent again.
    """


class ExecutionFailed(MaasSdkError):
    """A workflow the SDK waited for stopped without succeeding: its error and cause."""

    def __init__(self, execution: ExecutionView) -> None:
        failed = next((visit for visit in reversed(execution.path) if visit.error), None)
        where = f" in state {failed.name!r}" if failed else ""
        super().__init__(
            f"{execution.workflow.value} execution {execution.execution_name} "
            f"{execution.status}{where}: {execution.error or 'no error'}: "
            f"{execution.cause or 'no cause given'}"
        )
        self.execution = execution
        self.error = execution.error
        self.cause = execution.cause


class EndpointFailed(MaasSdkError):
    """An endpoint the SDK waited for went to FAILED (or was deleted) instead of IN_SERVICE."""

    def __init__(self, record: EndpointRecord) -> None:
        super().__init__(
            f"endpoint {record.endpoint_name} is {record.status.value} "
            f"(execution {record.correlation_id}): {record.failure_reason or 'no reason given'}"
        )
        self.record = record


class WaiterTimeout(MaasSdkError):
    """A waiter gave up: what it waited for had not happened when its time ran out."""


_BY_STATUS: dict[int, type[MaasApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
}

#: The typed error name the API gives a refused quota (a 403).
QUOTA_ERROR_NAME = "Maas.QuotaExceeded"


def error_class(status: int, error_name: str | None = None) -> type[MaasApiError]:
    """The exception class for a status (and the API's typed error name, when given).

    Examples
    --------
    >>> error_class(422).__name__, error_class(503).__name__, error_class(429).__name__
    ('InvalidRequest', 'ServiceUnavailable', 'ServiceUnavailable')
    >>> error_class(403, "Maas.QuotaExceeded").__name__, error_class(403).__name__
    ('QuotaExceeded', 'MaasApiError')
    """
    if status == 403:
        # API Gateway answers 403 of its own (a path it has no route for); only the API's
        # typed quota error is a quota.
        return QuotaExceeded if error_name == QUOTA_ERROR_NAME else MaasApiError
    if status == HTTPStatus.GATEWAY_TIMEOUT:
        return GatewayTimeout
    if status == 429 or status >= 500:
        return ServiceUnavailable
    return _BY_STATUS.get(status, MaasApiError)


def error_from_response(response: httpx.Response) -> MaasApiError:
    """The exception for an error response: its problem details, or what API Gateway said."""
    status = response.status_code
    # API Gateway names every request, its own refusals included.
    request_id = response.headers.get("x-amzn-RequestId")
    try:
        problem = Problem.model_validate_json(response.content)
    except pydantic.ValidationError:
        problem = None
    if problem is not None:
        return error_class(status, problem.error_name)(
            status,
            problem.title,
            problem.detail,
            error_name=problem.error_name,
            errors=problem.errors,
            request_id=problem.request_id or request_id,
        )
    title = _phrase(status)
    try:
        document = response.json()
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        detail = document["message"]
    else:
        detail = response.text.strip()[:500] or title
    return error_class(status)(status, title, detail, request_id=request_id)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


__all__ = [
    "QUOTA_ERROR_NAME",
    "Conflict",
    "EndpointFailed",
    "ExecutionFailed",
    "GatewayTimeout",
    "InvalidRequest",
    "MaasApiError",
    "MaasSdkError",
    "NotFound",
    "QuotaExceeded",
    "ServiceUnavailable",
    "Unauthorized",
    "WaiterTimeout",
    "error_class",
    "error_from_response",
]
