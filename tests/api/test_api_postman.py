"""The v1.1 Postman collection (docs/postman_collection_v1.1.json), sent as Postman sends it.

Each request of the collection, in its order, goes to the API served over HTTP with the
collection's variables (``baseUrl`` and ``token`` the test's, the rest as the collection sets
them) and its bearer auth; each answer must be a success whose body the original document
(``shared/reference/seed_openapi_v1.1.yaml``) allows. The collection creates its instance
with ``endpointName`` and the model's name in upper case, as the original's did; the
original document has no pattern for either and allows fields it does not list.
Before the requests that need the instance recorded (described) or in service (its metrics,
its deletion) the test waits for it, as a person clicking through the collection would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jsonschema
import pytest
import yaml

from tests.api.served import ServedApi, serve
from tests.local.support import wait_until
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from maas.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = json.loads((ROOT / "docs" / "postman_collection_v1.1.json").read_text())
#: The seed's specification, as the repository keeps a copy of it (CI has no shared folder).
SEED = ROOT / "tests" / "data" / "seed_openapi_v1.1.yaml"
#: The requests sent only once the collection's instance is recorded (its deployment's first
#: step records it, a moment after the 200), and once it is in service.
NEED_RECORDED = {"Describe instance"}
NEED_IN_SERVICE = {"Get instance metrics", "Delete instance"}


def requests_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The collection's requests in order, folders flattened."""
    flat: list[dict[str, Any]] = []
    for item in items:
        flat.extend(requests_of(item["item"]) if "item" in item else [item])
    return flat


REQUESTS = requests_of(COLLECTION["item"])


def fill(text: str, variables: dict[str, str]) -> str:
    """``text`` with each ``{{name}}`` replaced, as Postman replaces it."""
    return re.sub(r"{{(\w+)}}", lambda found: variables[found[1]], text)


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory) -> ServedApi:
    register_version(runtime, "glm-4-9b-chat")
    return serve(runtime, tmp_path_factory.mktemp("tokens"))


@pytest.fixture(scope="module")
def variables(runtime: LocalRuntime, served: ServedApi) -> dict[str, str]:
    declared = {item["key"]: item["value"] for item in COLLECTION["variable"]}
    return {
        **declared,
        "baseUrl": served.url,
        "token": served.token,
        "artifactsBucket": runtime.resources.buckets["ArtifactsBucket"],
    }


def test_the_collection_creates_an_instance_as_the_issue_reported() -> None:
    (create,) = [item for item in REQUESTS if item["name"] == "Create instance"]
    body = json.loads(create["request"]["body"]["raw"])

    assert "endpointName" in body
    assert "instanceName" not in body
    assert {item["key"]: item["value"] for item in COLLECTION["variable"]}["modelName"] != (
        {item["key"]: item["value"] for item in COLLECTION["variable"]}["modelName"].lower()
    )


def test_every_request_of_the_collection_succeeds(variables: dict[str, str]) -> None:
    seed = yaml.safe_load(SEED.read_text())
    auth = fill(COLLECTION["auth"]["bearer"][0]["value"], variables)
    failure = None
    with httpx.Client(headers={"Authorization": f"Bearer {auth}"}, timeout=60) as client:
        for item in REQUESTS:
            if item["name"] in NEED_RECORDED | NEED_IN_SERVICE:
                _wait_for(client, variables, in_service=item["name"] in NEED_IN_SERVICE)
            request = item["request"]
            body = request.get("body", {}).get("raw")
            answer = client.request(
                request["method"],
                fill(request["url"]["raw"], variables),
                headers={h["key"]: fill(h["value"], variables) for h in request["header"]},
                content=fill(body, variables).encode() if body is not None else None,
            )
            # The later requests build on the earlier ones (the instance created first).
            if problem := _problem(seed, item, answer):
                failure = f"{item['name']}: {problem}"
                break

    assert failure is None, failure


def _wait_for(client: httpx.Client, variables: dict[str, str], *, in_service: bool) -> None:
    url = fill("{{baseUrl}}/instances/{{instanceName}}", variables)

    def ready() -> bool:
        answer = client.get(url)
        recorded = answer.status_code == httpx.codes.OK
        return recorded and (not in_service or answer.json()["EndpointStatus"] == "InService")

    wait_until(ready, timeout=60, interval=0.2)


def _problem(seed: dict[str, Any], item: dict[str, Any], answer: httpx.Response) -> str | None:
    """What is wrong with ``answer``: not a success, or not what the original allows."""
    if not answer.is_success:
        return f"{answer.status_code} {answer.text[:400]}"
    path = "/" + "/".join(item["request"]["url"]["path"])
    template = re.sub(r"/{{(\w+)}}", r"/{\1}", path)
    operation = seed["paths"][template][item["request"]["method"].lower()]
    documented = operation["responses"].get(str(answer.status_code))
    if documented is None:
        return f"{answer.status_code} is not documented for {template}"
    content = (documented.get("content") or {}).get("application/json")
    if content is not None:
        schema = {**content["schema"], "components": seed["components"]}
        try:
            jsonschema.validate(answer.json(), schema)
        except jsonschema.ValidationError as invalid:
            return f"the answer is not what the original document allows: {invalid.message}"
    return None
