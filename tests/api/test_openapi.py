"""The OpenAPI document in ``schemas/openapi.json`` is what the routes describe."""

from __future__ import annotations

import json

from functions.api.openapi import main, openapi_document
from functions.api.routes.openai import is_openai_path
from schemas.api import OPENAPI_FILE


def test_the_document_on_disk_matches_the_routes() -> None:
    assert main(["--check"]) == 0, "schemas/openapi.json is stale: run `make schemas`"


def test_every_operation_documents_its_errors_as_problems() -> None:
    document = openapi_document()

    for path, operations in document["paths"].items():
        if is_openai_path(path):
            continue  # OpenAI's own error shape, for the openai clients: below
        for method, operation in operations.items():
            for status in ("400", "401", "404", "422"):
                content = operation["responses"][status]["content"]
                assert "application/problem+json" in content, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_original_paths_and_the_full_api_are_both_there() -> None:
    paths = json.loads(OPENAPI_FILE.read_text())["paths"]

    assert {"/instances", "/instances/{instanceName}", "/models", "/models/{modelName}"} <= set(
        paths
    )
    assert {"/metrics", "/preparation", "/v1/endpoints", "/v1/lifecycles"} <= set(paths)


def test_the_openai_path_documents_openais_errors() -> None:
    document = openapi_document()
    paths = {path: ops for path, ops in document["paths"].items() if is_openai_path(path)}

    assert set(paths) == {
        "/openai/v1/models",
        "/openai/v1/models/{model}",
        "/openai/v1/chat/completions",
        "/openai/v1/completions",
    }
    for operations in paths.values():
        for operation in operations.values():
            assert "422" not in operation["responses"]
            for status in ("400", "404", "409"):
                content = operation["responses"][status]["content"]
                assert content == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}
                }
