"""Write the API's OpenAPI document, generated from its routes, to ``schemas/openapi.json``.

``python -m functions.api.openapi`` writes it; ``--check`` writes nothing and exits 1 when
the file differs from what the routes produce (a test runs the same check). The TypeScript
SDK's types and the API Gateway definition are generated from this file.
"""

from __future__ import annotations

import argparse
import json
import sys
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from functions.api.app import API_VERSION, app
from functions.api.body import MAX_BODY_BYTES
from functions.api.problems import PROBLEM_CONTENT_TYPE
from functions.api.routes.openai import is_openai_path
from functions.api.routes.openai_chunks import STREAM_CONTENT_TYPE
from schemas.api import OPENAPI_FILE, GatewayMessage, Problem
from schemas.openai import OpenAIError
from schemas.streaming import STREAMED_ROUTES

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The errors any operation may answer, all as problem details.
PROBLEM_STATUSES = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.FORBIDDEN,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.CONFLICT,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)

#: The errors of the OpenAI-compatible path, all in OpenAI's shape (``schemas.openai``).
OPENAI_STATUSES = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.FORBIDDEN,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.CONFLICT,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.BAD_GATEWAY,
)


def openapi_document() -> dict[str, Any]:
    """The document, as the routes describe the API, with its errors as problem details.

    Powertools documents a 422 of its own shape; this API answers every error as a
    :class:`~schemas.api.Problem` (``application/problem+json``), so each operation's error
    answers are replaced by the ones it gives.
    """
    document: dict[str, Any] = json.loads(app.get_openapi_json_schema(version=API_VERSION))
    schemas = document["components"]["schemas"]
    # Powertools' own validation error shapes: unused here, and ResponseValidationError's
    # $ref to ValidationError would dangle once that is gone (generators refuse the file).
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    schemas["GatewayMessage"] = GatewayMessage.model_json_schema()
    # The OpenAI-compatible path answers OpenAI's error shape instead (``_openai_errors``).
    openai_error = OpenAIError.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(openai_error.pop("$defs", {}))
    schemas["OpenAIError"] = openai_error
    for path, operations in document["paths"].items():
        if is_openai_path(path):
            for method, operation in operations.items():
                _openai_errors(operation)
                if (method.upper(), path) in STREAMED_ROUTES:
                    _streamed_answer(operation)
            continue
        for operation in operations.values():
            for status in PROBLEM_STATUSES:
                operation["responses"][str(int(status))] = {
                    "description": status.phrase,
                    "content": {
                        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                }
            # A missing or refused token never reaches the function: the authorizer answers.
            operation["responses"]["401"]["content"]["application/json"] = {
                "schema": {"$ref": "#/components/schemas/GatewayMessage"}
            }
            if "requestBody" in operation:
                # The function refuses a body past MAX_BODY_BYTES; API Gateway one past 10 MB.
                operation["responses"]["413"] = {
                    "description": f"The body is larger than {MAX_BODY_BYTES} bytes.",
                    "content": {
                        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}},
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/GatewayMessage"}
                        },
                    },
                }
                operation["responses"]["415"] = {
                    "description": "The body is not sent as application/json.",
                    "content": {
                        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                }
    return document


def _openai_errors(operation: dict[str, Any]) -> None:
    """The OpenAI-compatible path's errors: OpenAI's shape, and a field's problem is a 400."""
    operation["responses"].pop("422", None)
    error = {"schema": {"$ref": "#/components/schemas/OpenAIError"}}
    for status in OPENAI_STATUSES:
        operation["responses"][str(int(status))] = {
            "description": status.phrase,
            "content": {"application/json": error},
        }
    # The authorizer's own 401 (a missing or refused token) and API Gateway's own 413 (a body
    # past its 10 MB) are API Gateway's message: neither reaches the function.
    for gateway_status in ("401", "413"):
        operation["responses"][gateway_status]["content"]["application/json"] = {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/OpenAIError"},
                    {"$ref": "#/components/schemas/GatewayMessage"},
                ]
            }
        }


def _streamed_answer(operation: dict[str, Any]) -> None:
    """A 200 of a streamed route: the JSON answer, or (``stream: true``) server-sent events.

    The route's return type is their union (the head of a stream has an empty body); each
    goes under its own media type.
    """
    content = operation["responses"]["200"]["content"]
    answer, events = content["application/json"]["schema"]["anyOf"]
    content["application/json"] = {"schema": answer}
    content[STREAM_CONTENT_TYPE] = {"schema": events}


def render(document: dict[str, Any]) -> str:
    """The file's text: stable key order, so that a change in the API is a readable diff."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or ``--check``) ``schemas/openapi.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    arguments = parser.parse_args(argv)
    text = render(openapi_document())
    current = OPENAPI_FILE.read_text() if OPENAPI_FILE.exists() else None
    if arguments.check:
        if current != text:
            print(f"{OPENAPI_FILE} is stale: run `make schemas`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        OPENAPI_FILE.write_text(text)
        print(f"updated {OPENAPI_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
