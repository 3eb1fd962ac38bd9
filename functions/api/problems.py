"""Errors as RFC 9457 problem details: one model, one status per kind of error.

A request the API cannot accept is a 4xx that says which field is wrong; the typed errors of
the control plane map onto statuses by kind (:data:`STATUS_BY_ERROR`); anything else is a 500
whose body says nothing of the internals: the log has the traceback, under the request id
that every problem carries (``request_id``).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from maas import exceptions
from maas.pipeline.exceptions import ModelCallFailed
from schemas.api import PROBLEM_TYPE_BASE, FieldProblem, Problem

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"

#: The typed errors a request can meet, most specific first.
STATUS_BY_ERROR: tuple[tuple[type[exceptions.MaasError], HTTPStatus], ...] = (
    (exceptions.ValidationError, HTTPStatus.UNPROCESSABLE_ENTITY),
    (exceptions.NotFound, HTTPStatus.NOT_FOUND),
    (exceptions.Conflict, HTTPStatus.CONFLICT),
    # 403, not 429: a quota is not a rate, and a client that retries a 429 would only wait.
    (exceptions.QuotaExceeded, HTTPStatus.FORBIDDEN),
    # A source (a dataset's S3 prefix) that the tenant's session may not read.
    (exceptions.SourceAccessDenied, HTTPStatus.FORBIDDEN),
    # A model the request pipeline called (the endpoint, an embedding model) failed.
    (ModelCallFailed, HTTPStatus.BAD_GATEWAY),
)


class InvalidFields(Exception):
    """A request whose fields do not validate; each entry names one field."""

    def __init__(self, errors: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = list(errors)


def field_problems(errors: Sequence[Any], *, skip_leading: int = 0) -> list[FieldProblem]:
    """pydantic's (or Powertools') error list as field problems, with dotted field paths.

    ``skip_leading`` drops location parts that name where the value came from (``body``,
    ``query``) rather than the field.
    """
    problems = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())][skip_leading:]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(FieldProblem(field=".".join(location) or "body", message=message))
    return problems


#: How a typed error's message names the field it is about: ``instance_type: unknown ...``.
_NAMED_FIELD = re.compile(
    r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*): (?P<message>.+)$", re.S
)


def named_field(message: str) -> FieldProblem | None:
    """The field a typed error's message starts by naming, if it does.

    Examples
    --------
    >>> named_field("instance_type: unknown instance type 'ml.x.huge'")
    FieldProblem(field='instance_type', message="unknown instance type 'ml.x.huge'")
    >>> named_field("nothing to change: the endpoint serves it already") is None
    True
    """
    found = _NAMED_FIELD.match(message)
    if found is None:
        return None
    return FieldProblem(field=found["field"], message=found["message"])


def problem_response(
    status: HTTPStatus,
    detail: str,
    *,
    path: str | None,
    error_name: str | None = None,
    errors: Sequence[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> Response[str]:
    """A problem-details response; ``request_id`` is what the caller quotes to find the log."""
    kind = status.phrase.lower().replace(" ", "-").replace("'", "")
    problem = Problem(
        type=f"{PROBLEM_TYPE_BASE}{kind}",
        title=status.phrase,
        status=int(status),
        detail=detail,
        instance=path,
        error_name=error_name,
        errors=list(errors) if errors else None,
        request_id=request_id,
    )
    return Response(
        status_code=int(status),
        content_type=PROBLEM_CONTENT_TYPE,
        body=problem.model_dump_json(exclude_none=True),
        headers=headers,
    )


def status_of(error: exceptions.MaasError) -> HTTPStatus | None:
    """The status a typed error answers with; None for errors a request should never meet."""
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return None


__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "STATUS_BY_ERROR",
    "InvalidFields",
    "field_problems",
    "named_field",
    "problem_response",
    "status_of",
]
