"""The API's Lambda handler: routes, validation, errors as problem details, the OpenAPI document.

Requests are validated by Powertools against the routes' pydantic models; an invalid one is
a 422 naming each field (400 when the body is not JSON at all), never a 5xx. The OpenAPI
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

from functions.api.context import TENANT_CLAIM, Unauthenticated
from functions.api.problems import InvalidFields, field_problems, problem_response, status_of
from functions.api.routes import (
    endpoints,
    evalgen,
    evaluations,
    executions,
    lifecycles,
    models,
    pipelines,
    recommendations,
    seed,
)
from maas.exceptions import MaasError
from schemas.api import OPENAPI_FILE

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError
    from aws_lambda_powertools.utilities.typing import LambdaContext

API_TITLE = "maas control plane"
API_VERSION = "1.2.0"
SECURITY_SCHEME = "tenantToken"

logger = Logger()
tracer = Tracer()

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(seed.router)
app.include_router(endpoints.router, prefix="/v1/endpoints")
app.include_router(pipelines.router, prefix="/v1/endpoints")
app.include_router(models.router, prefix="/v1")
app.include_router(lifecycles.router, prefix="/v1")
app.include_router(evaluations.router, prefix="/v1")
app.include_router(evalgen.router, prefix="/v1")
app.include_router(executions.router, prefix="/v1")
app.include_router(recommendations.router, prefix="/v1")
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
    if any(item.get("type") == "json_invalid" for item in errors):
        return _problem(HTTPStatus.BAD_REQUEST, "the body is not valid JSON")
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
        return _problem(HTTPStatus.INTERNAL_SERVER_ERROR, "the request could not be completed")
    return _problem(status, error.message, error_name=error.error_name)


@app.not_found
def _no_route(error: NotFoundError) -> Response[str]:
    return _problem(HTTPStatus.NOT_FOUND, f"no operation {app.current_event.http_method} here")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[str]:
    logger.exception("unexpected error")
    return _problem(HTTPStatus.INTERNAL_SERVER_ERROR, "the request could not be completed")


def _problem(status: HTTPStatus, detail: str, **extra: Any) -> Response[str]:
    return problem_response(status, detail, path=app.current_event.path, **extra)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
# Not the response in the trace: it holds a tenant's data, and can outgrow a segment.
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one API Gateway (REST, proxy) request."""
    return app.resolve(event, context)
