"""The API's Lambda handler: routes, validation, errors as problem details, the OpenAPI document.

Before a body is read, the caller is authenticated (401) and the body's size checked (413,
:data:`~functions.api.body.MAX_BODY_BYTES`); the body is then parsed strictly
(:func:`~functions.api.body.parse_json_body`: 400 for what is not JSON, too deep, or a number
past 64 bits) and validated by Powertools against the routes' pydantic models; an invalid one
is a 422 naming each field, never a 5xx. Every problem carries the request's id, under which
the log has the details of a 500. The OpenAPI
document is generated from the routes (``python -m functions.api.openapi`` writes
``schemas/openapi.json``; a test fails when it drifts) and served at ``/openapi.json``, with
Swagger UI at ``/docs``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import (
    APIKey,
    APIKeyIn,
    Server,
)

from functions.api import streaming
from functions.api.body import (
    JSON_MEDIA_TYPE,
    MAX_BODY_BYTES,
    body_size,
    content_type,
    is_json,
    parse_json_body,
)
from functions.api.context import TENANT_CLAIM, Unauthenticated, tenant_from_claims
from functions.api.problems import (
    InvalidFields,
    field_problems,
    named_field,
    problem_response,
    status_of,
)
from functions.api.routes import (
    datasets,
    endpoints,
    evalgen,
    evaluations,
    executions,
    lifecycles,
    models,
    openai,
    pipelines,
    recommendations,
    seed,
    usage,
)
from functions.api.routes.openai import OPENAI_PREFIX, is_openai_path, openai_error
from maas.exceptions import MaasError
from schemas.api import OPENAPI_FILE, PUBLIC_PATHS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from aws_lambda_powertools.event_handler.exceptions import NotFoundError
    from aws_lambda_powertools.utilities.typing import LambdaContext

API_TITLE = "maas control plane"
API_VERSION = "1.2.0"
SECURITY_SCHEME = "tenantToken"

logger = Logger()
tracer = Tracer()

#: A 500's detail: nothing of the internals; the log has them under the request id.
_INTERNAL = "the request could not be completed; quote its request_id to find it in the log"

app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
app.include_router(seed.router)
app.include_router(endpoints.router, prefix="/v1/endpoints")
app.include_router(pipelines.router, prefix="/v1/endpoints")
app.include_router(models.router, prefix="/v1")
app.include_router(lifecycles.router, prefix="/v1")
app.include_router(evaluations.router, prefix="/v1")
app.include_router(evalgen.router, prefix="/v1")
app.include_router(executions.router, prefix="/v1")
app.include_router(recommendations.router, prefix="/v1")
app.include_router(usage.router, prefix="/v1")
app.include_router(datasets.router, prefix="/v1")
app.include_router(openai.router, prefix=OPENAI_PREFIX)
app.configure_openapi(
    title=API_TITLE,
    version=API_VERSION,
    description="Package, register, deploy, scale, update and tear down open-weights models "
    "on SageMaker, per tenant. The v1.1 paths (/instances, /models, /metrics, /preparation) "
    "are the original contract; /v1 is the full API. Errors are RFC 9457 problem details.",
    servers=[Server(url="/")],
    security_schemes={
        SECURITY_SCHEME: APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description=f"A Cognito ID token (locally: `maas local token`) whose "
            f"`{TENANT_CLAIM}` claim names the caller's tenant.",
        )
    },
    security=[{SECURITY_SCHEME: []}],
)
app.enable_swagger(path="/docs", title=API_TITLE)


@app.get("/openapi.json", include_in_schema=False)
def _openapi_document() -> Response[str]:
    # The generated file (errors documented as problems), as clients generate code from it.
    return Response(200, "application/json", OPENAPI_FILE.read_text())


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[str]:
    errors = error.errors()
    for item in errors:
        if item.get("type") == "json_invalid":
            # Powertools locates a decode error as ("body", character offset).
            reason = (item.get("ctx") or {}).get("error") or "it does not parse"
            offset = item.get("loc", ())[-1]
            where = f" (at character {offset})" if isinstance(offset, int) and offset else ""
            return _problem(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {reason}{where}")
    # Powertools locates a field as ("body" | "query" | "path" | "header", name, ...).
    problems = field_problems(errors, skip_leading=1)
    return _problem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "; ".join(f"{p.field}: {p.message}" for p in problems),
        errors=problems,
    )


@app.exception_handler(UnicodeDecodeError)
def _undecodable_body(error: UnicodeDecodeError) -> Response[str]:
    # Powertools decodes a base64-encoded (binary) body as UTF-8 before parsing it as JSON.
    return _problem(HTTPStatus.BAD_REQUEST, "the body is not valid JSON: it is not UTF-8")


@app.exception_handler(InvalidFields)
def _invalid_fields(error: InvalidFields) -> Response[str]:
    return _problem(HTTPStatus.UNPROCESSABLE_ENTITY, str(error), errors=error.errors)


@app.exception_handler(Unauthenticated)
def _unauthenticated(error: Unauthenticated) -> Response[str]:
    return _problem(HTTPStatus.UNAUTHORIZED, str(error))


@app.exception_handler(MaasError)
def _typed_error(error: MaasError) -> Response[str]:
    status = status_of(error)
    if status is None:
        logger.exception("a request met an error it should not", extra={"error": error.error_name})
        return _problem(HTTPStatus.INTERNAL_SERVER_ERROR, _INTERNAL)
    if status is HTTPStatus.UNPROCESSABLE_ENTITY and (named := named_field(error.message)):
        # As an invalid body's problem: clients read the field from ``errors``, not the text.
        return _problem(status, error.message, error_name=error.error_name, errors=[named])
    return _problem(status, error.message, error_name=error.error_name)


@app.not_found
def _no_route(error: NotFoundError) -> Response[str]:
    event = app.current_event
    detail = f"no operation {event.http_method} here"
    if is_openai_path(event.path):
        return openai_error(
            HTTPStatus.NOT_FOUND,
            detail,
            request_id=event.request_context.request_id,
            no_route=True,
        )
    return _problem(HTTPStatus.NOT_FOUND, detail)


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[str]:
    logger.exception("unexpected error")
    return _problem(HTTPStatus.INTERNAL_SERVER_ERROR, _INTERNAL)


def _problem(status: HTTPStatus, detail: str, **extra: Any) -> Response[str]:
    event = app.current_event
    if is_openai_path(event.path):
        # The openai clients parse their own error shape, not problem details.
        return openai_error(
            status,
            detail,
            errors=extra.get("errors"),
            request_id=event.request_context.request_id,
        )
    return problem_response(
        status, detail, path=event.path, request_id=event.request_context.request_id, **extra
    )


def _refused_unread(event: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to a request refused before its body is parsed, if it is.

    A caller that is not authenticated learns nothing of how its body would validate (on AWS
    the authorizer stands in front as well; this holds when it does not); a body past
    :data:`MAX_BODY_BYTES`, or not JSON by its media type, is not parsed at all.
    """
    context = event.get("requestContext") or {}
    method, path = event.get("httpMethod"), event.get("path")
    problem: tuple[HTTPStatus, str] | None = None
    if not (method in ("GET", "HEAD") and path in PUBLIC_PATHS):
        try:
            tenant_from_claims((context.get("authorizer") or {}).get("claims"))
        except Unauthenticated as exc:
            problem = HTTPStatus.UNAUTHORIZED, str(exc)
    problem = problem or _unreadable_body(event)
    if problem is None:
        return None
    request_id = context.get("requestId")
    response = (
        openai_error(*problem, request_id=request_id)
        if is_openai_path(path)
        else problem_response(*problem, path=path, request_id=request_id)
    )
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": {
            name: value if isinstance(value, list) else [value]
            for name, value in response.headers.items()
        },
        "body": response.body,
        "isBase64Encoded": False,
    }


def _unreadable_body(event: dict[str, Any]) -> tuple[HTTPStatus, str] | None:
    size = body_size(event)
    if size > MAX_BODY_BYTES:
        return (
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is {size} bytes; the API reads at most {MAX_BODY_BYTES}",
        )
    if size and not is_json(media_type := content_type(event)):
        return (
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"the body must be JSON, sent as Content-Type: {JSON_MEDIA_TYPE}, not {media_type} "
            "(curl -d sends application/x-www-form-urlencoded unless told otherwise)",
        )
    return None


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
# Not the response in the trace: it holds a tenant's data, and can outgrow a segment.
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | Iterator[bytes]:
    """Answer one API Gateway (REST, proxy) request; a streamed route's as a stream."""
    streaming.forget()
    answered = _refused_unread(event) or app.resolve(event, context)
    return streaming.answer(answered) if streaming.is_streamed(event) else answered
