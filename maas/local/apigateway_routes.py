"""The REST API's resources and methods, as the stack's API Gateway definition has them.

Why this exists: on AWS the API is a ``SpecRestApi`` of :func:`stacks.api_definition.
gateway_definition`: one resource per path of the generated OpenAPI document
(``schemas/openapi.json``), each with the methods the API has, plus ``GET`` on the public
documentation paths. API Gateway answers any other resource or method itself, without
invoking the function: ``403 {"message":"Missing Authentication Token"}`` (the
``MISSING_AUTHENTICATION_TOKEN`` gateway response,
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html;
"An API request was made to a method or resource that does not exist",
https://repost.aws/knowledge-center/api-gateway-authentication-token-errors). The local
gateway reads the same document with the same rule, so that what reaches the function
locally is what would reach it on AWS, with the same ``resource`` and ``pathParameters``.

A request path is matched as API Gateway matches resources: segment by segment, a literal
segment before a ``{parameter}`` one (``/v1/models/{model_name}/versions`` is not taken for a
parameter), a parameter matching one non-empty segment. Paths are split as sent, before
decoding: an encoded slash (``%2F``) stays inside its segment, and the parameter's value is
the decoded segment.

Examples
--------
>>> routes = ApiRoutes({"/v1/things/{name}": {"GET", "DELETE"}, "/v1/things/all": {"GET"}})
>>> routes.match("GET", "/v1/things/chat")
Route(resource='/v1/things/{name}', path_parameters={'name': 'chat'})
>>> routes.match("GET", "/v1/things/all").resource
'/v1/things/all'
>>> routes.match("POST", "/v1/things/chat") is None
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from schemas.api import OPENAPI_FILE, PUBLIC_PATHS

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

#: The methods the stack's definition takes from each operation of the document
#: (``stacks.api_definition``); the document's others (none today) are not served.
DEFINED_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")


@dataclass(frozen=True)
class Route:
    """A request's resource in the API, and the values of its path parameters."""

    resource: str
    path_parameters: dict[str, str] | None


class ApiRoutes:
    """Resources (path templates) and the methods each has.

    Parameters
    ----------
    resources
        For each path template, its methods (upper case).
    """

    def __init__(self, resources: Mapping[str, Collection[str]]) -> None:
        self.resources = {path: frozenset(methods) for path, methods in resources.items()}
        self._templates = [(_segments(path), path) for path in self.resources]

    def match(self, method: str, path: str) -> Route | None:
        """The route of ``method path`` (as sent, still encoded), or None when API Gateway
        has no such method there."""
        resource = self.resource(path)
        if resource is None or method not in self.resources[resource]:
            return None
        values = {
            template[1:-1]: unquote(value)
            for template, value in zip(_segments(resource), _segments(path), strict=True)
            if template.startswith("{")
        }
        return Route(resource, values or None)

    def resource(self, path: str) -> str | None:
        """The path template ``path`` is a request of, literal segments first."""
        segments = _segments(path)
        best: tuple[tuple[bool, ...], str] | None = None
        for template, resource in self._templates:
            if len(template) != len(segments):
                continue
            if all(
                part == unquote(value) or (part.startswith("{") and part.endswith("}") and value)
                for part, value in zip(template, segments, strict=True)
            ):
                # Where two templates fit, the one with a literal segment earlier wins.
                rank = tuple(part.startswith("{") for part in template)
                if best is None or rank < best[0]:
                    best = (rank, resource)
        return None if best is None else best[1]


def api_routes() -> ApiRoutes:
    """The product's API as the stack defines it: every operation of the generated document,
    and ``GET`` on each public path (the stack's ``gateway_definition``)."""
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    resources: dict[str, set[str]] = {}
    for path, operations in document["paths"].items():
        methods = {method.upper() for method in operations} & set(DEFINED_METHODS)
        resources.setdefault(path, set()).update(methods)
    for path in PUBLIC_PATHS:
        resources[path] = {"GET"}
    return ApiRoutes(resources)


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


__all__ = ["DEFINED_METHODS", "ApiRoutes", "Route", "api_routes"]
