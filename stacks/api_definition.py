"""The API Gateway definition of the REST API, derived from the generated OpenAPI document.

``schemas/openapi.json`` (generated from the API's routes) is OpenAPI 3.1 with pydantic's
JSON Schemas; API Gateway imports OpenAPI 3.0 and validates bodies with JSON Schema draft 4
only. So the gateway gets a document of its own, derived here from the generated one:

- every path and method of the API, each a Lambda proxy integration of the API function, so
  a request for a path or method the API does not have is refused at the edge;
- each operation's parameters, with their type and whether they are required, validated by
  API Gateway before the function is invoked (the ``params`` validator);
- the Cognito user pool authorizer on every operation except the documentation (``/docs``
  and ``/openapi.json``).

Bodies are validated by the function (Powertools, against the same pydantic models), which
answers a 422 naming each bad field; the gateway's own body validation could only answer a
400 with a terse message.
"""

from __future__ import annotations

from typing import Any

from schemas.api import PUBLIC_PATHS

#: The security scheme of the generated document (functions.api.app).
SECURITY_SCHEME = "tenantToken"
#: The scheme of the API keys of per-tenant usage plans.
API_KEY_SCHEME = "api_key"
#: The request validator every operation uses.
PARAMETER_VALIDATOR = "params"

_METHODS = ("get", "put", "post", "delete", "patch")


def gateway_definition(
    document: dict[str, Any],
    *,
    function_arn: str,
    user_pool_arn: str,
    partition_region: str,
    require_api_key: bool = False,
) -> dict[str, Any]:
    """The API Gateway (OpenAPI 3.0) definition of ``document``'s operations.

    Parameters
    ----------
    document
        The generated OpenAPI document.
    function_arn
        The API function (a token in a CDK stack).
    user_pool_arn
        The Cognito user pool whose tokens the authorizer accepts.
    partition_region
        ``<partition>:apigateway:<region>`` of the API, for the integration URI.
    require_api_key
        Whether each call also needs an API key (``x-api-key``): how API Gateway tells
        tenants apart for their usage plans.

    Examples
    --------
    >>> document = {"info": {"title": "t", "version": "1"}, "paths": {"/v1/things/{name}": {
    ...     "get": {"parameters": [{"name": "name", "in": "path", "required": True,
    ...                              "schema": {"type": "string"}}]}}}}
    >>> definition = gateway_definition(document, function_arn="arn:fn", user_pool_arn="arn:up",
    ...                                 partition_region="aws:apigateway:eu-west-1")
    >>> operation = definition["paths"]["/v1/things/{name}"]["get"]
    >>> operation["parameters"]
    [{'name': 'name', 'in': 'path', 'required': True, 'schema': {'type': 'string'}}]
    >>> operation["security"]
    [{'tenantToken': []}]
    >>> operation["x-amazon-apigateway-integration"]["type"]
    'aws_proxy'
    """
    integration = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": (
            f"arn:{partition_region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
        ),
        "passthroughBehavior": "when_no_match",
    }
    security: list[dict[str, list[str]]] = [
        {SECURITY_SCHEME: [], API_KEY_SCHEME: []} if require_api_key else {SECURITY_SCHEME: []}
    ]
    paths: dict[str, Any] = {}
    for path, operations in document["paths"].items():
        paths[path] = {
            method: {
                "operationId": operation.get("operationId"),
                "parameters": [_parameter(item) for item in operation.get("parameters", [])],
                "security": security,
                "responses": {"default": {"description": "The API function's answer."}},
                "x-amazon-apigateway-integration": integration,
            }
            for method, operation in operations.items()
            if method in _METHODS
        }
    for path in PUBLIC_PATHS:
        paths[path] = {
            "get": {
                "security": [],
                "responses": {"default": {"description": "The API's documentation."}},
                "x-amazon-apigateway-integration": integration,
            }
        }
    return {
        "openapi": "3.0.1",
        "info": {"title": document["info"]["title"], "version": document["info"]["version"]},
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                    "x-amazon-apigateway-authorizer": {
                        "type": "cognito_user_pools",
                        "providerARNs": [user_pool_arn],
                    },
                },
                API_KEY_SCHEME: {"type": "apiKey", "name": "x-api-key", "in": "header"},
            }
        },
        "x-amazon-apigateway-api-key-source": "HEADER",
        "x-amazon-apigateway-request-validators": {
            PARAMETER_VALIDATOR: {"validateRequestParameters": True, "validateRequestBody": False}
        },
        "x-amazon-apigateway-request-validator": PARAMETER_VALIDATOR,
    }


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    """A parameter as API Gateway validates it: its name, place, whether required, its type."""
    return {
        "name": parameter["name"],
        "in": parameter["in"],
        "required": bool(parameter.get("required", False)),
        "schema": {"type": _scalar_type(parameter.get("schema", {}))},
    }


def _scalar_type(schema: dict[str, Any]) -> str:
    # pydantic writes an optional value as anyOf [its type, null]; the gateway wants one type.
    for option in [schema, *schema.get("anyOf", [])]:
        kind = option.get("type")
        if kind in {"string", "integer", "number", "boolean"}:
            return str(kind)
    return "string"


__all__ = [
    "API_KEY_SCHEME",
    "PARAMETER_VALIDATOR",
    "SECURITY_SCHEME",
    "gateway_definition",
]
