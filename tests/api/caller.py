"""Call the API function as API Gateway does: a REST proxy event in, a proxy response out."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tests.local.support import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime


@dataclass
class Answer:
    """What the API answered."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def problem_fields(self) -> list[str]:
        """The fields a problem's ``errors`` name."""
        return [error["field"] for error in self.body.get("errors") or []]


class ApiCaller:
    """Invokes the runtime's ``Api`` function with API Gateway's proxy events."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self._lambda = runtime.client("lambda")
        self._function = runtime.resources.functions["Api"]

    def __call__(
        self,
        method: str,
        url: str,
        *,
        tenant: str | None = "acme",
        body: Any = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """``method url`` as ``tenant`` (None: no claims at all)."""
        parts = urlsplit(url)
        query = dict(pair.split("=", 1) for pair in parts.query.split("&") if pair) or None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        event = {
            "resource": "/{proxy+}",
            "path": parts.path,
            "httpMethod": method,
            "headers": all_headers,
            "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": (
                {key: [value] for key, value in query.items()} if query else None
            ),
            "pathParameters": {"proxy": parts.path.lstrip("/")},
            "stageVariables": None,
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "stage": "local",
                "path": parts.path,
                "resourcePath": "/{proxy+}",
                "httpMethod": method,
                "identity": {"sourceIp": "127.0.0.1"},
                "authorizer": {"claims": {"custom:tenant_id": tenant}} if tenant else None,
            },
            "body": raw_body
            if raw_body is not None
            else (json.dumps(body) if body is not None else None),
            "isBase64Encoded": False,
        }
        response = self._lambda.invoke(FunctionName=self._function, Payload=json.dumps(event))
        payload = json.loads(response["Payload"].read())
        if "FunctionError" in response:
            raise AssertionError(f"the API function failed: {payload}")
        text = payload.get("body") or "null"
        headers_out = {key.lower(): value for key, value in (payload.get("headers") or {}).items()}
        for key, values in (payload.get("multiValueHeaders") or {}).items():
            headers_out[key.lower()] = ",".join(values)
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            decoded = text
        return Answer(payload["statusCode"], headers_out, decoded)


def deploy_in_service(
    api: ApiCaller,
    endpoint: str,
    model_name: str,
    version: int,
    warm_up: Callable[[], None],
    *,
    tenant: str = "acme",
) -> None:
    """Deploy ``version`` of ``tenant``'s ``model_name`` as ``endpoint`` and wait until it is
    in service, running ``warm_up`` meanwhile (what a warm function has loaded: the embedder,
    the guardrail engine) while the model server loads in its own process."""
    deployed = api(
        "POST",
        "/v1/endpoints",
        tenant=tenant,
        body={"endpoint_name": endpoint, "model": {"model_name": model_name, "version": version}},
    )
    assert deployed.status == 202, deployed.body
    with ThreadPoolExecutor(1) as pool:
        warmed = pool.submit(warm_up)
        wait_until(
            lambda: (
                api("GET", f"/v1/endpoints/{endpoint}", tenant=tenant).body.get("status")
                == "IN_SERVICE"
            ),
            timeout=120,
            interval=0.5,
        )
        warmed.result()
