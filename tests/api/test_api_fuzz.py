"""Fuzzing the API with schemathesis: every operation, valid and invalid requests, over HTTP.

Requests generated from ``schemas/openapi.json`` (both data that the document allows and
data that it forbids) go to the API served by a local runtime, with a tenant's token. Each
answer must not be a 5xx, and must conform to the document: a documented status code, the
documented content type, a body that validates against its schema. Operations that start a
workflow really start it on the runtime; their generated names rarely exist, so most fail
fast.

Each operation gets a fixed number of examples per generation mode, derandomized, so that a
run is repeatable and its cost known; the test counts the requests actually sent (Hypothesis
stops early when an operation has fewer distinct inputs) and asserts their total.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, openapi
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err

from schemas.api import OPENAPI_FILE
from tests.api.served import serve

if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from schemathesis import APIOperation
    from schemathesis import Case as AnyCase

    from maas.local import LocalRuntime
    from tests.api.served import ServedApi

    Operation: TypeAlias = APIOperation[Any, Any, Any, Any]
    Case: TypeAlias = AnyCase[Any]

#: The least number of requests a run sends, over all operations.
MIN_REQUESTS = 500
#: Examples per operation and generation mode (an upper bound: see the module's docstring).
EXAMPLES = {GenerationMode.POSITIVE: 11, GenerationMode.NEGATIVE: 8}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

SCHEMA = openapi.from_path(OPENAPI_FILE)


def _operations() -> list[Operation]:
    operations = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


OPERATIONS = _operations()
#: Every operation the document names, as schemathesis labels them.
DOCUMENTED = {
    f"{method.upper()} {path}"
    for path, item in json.loads(OPENAPI_FILE.read_text())["paths"].items()
    for method in item
}


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory) -> ServedApi:
    return serve(runtime, tmp_path_factory.mktemp("tokens"))


def generate(operation: Operation, mode: GenerationMode) -> list[Case]:
    """``operation``'s requests in ``mode``, as Hypothesis generates them (none sent yet)."""
    cases: list[Case] = []

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        # Only generation: the requests are sent afterwards, many at a time, and a failure
        # is reported as found rather than shrunk.
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case: Case) -> None:
        cases.append(case)

    collect()
    return cases


def check(case: Case, served: ServedApi, session: requests.Session) -> str | None:
    """Send ``case``; what is wrong with the answer, if anything."""
    response = case.call(base_url=served.url, session=session, headers=served.headers)
    try:
        case.validate_response(response, checks=CHECKS, headers=served.headers)
    except (AssertionError, FailureGroup) as failure:
        return f"{case.operation.label}: {failure}"
    return None


def test_every_answer_conforms_and_none_is_a_server_error(served: ServedApi) -> None:
    cases = [
        case for operation in OPERATIONS for mode in EXAMPLES for case in generate(operation, mode)
    ]
    # One at a time: a Lambda environment handles one event at a time, and the handler's
    # resolver (module state, as on AWS) counts on that.
    with requests.Session() as session:
        failures = [found for case in cases if (found := check(case, served, session))]

    assert not failures, "\n\n".join(failures)
    sent = Counter(case.operation.label for case in cases)
    assert set(sent) == DOCUMENTED, "an operation of the document went unfuzzed"
    assert sum(sent.values()) >= MIN_REQUESTS, sent


# What the fuzzer found once, kept as plain tests.


def test_a_body_that_is_not_utf8_is_a_400_problem(served: ServedApi) -> None:
    answer = requests.post(
        f"{served.url}/v1/endpoints",
        data=b'{"endpoint_name": "\xff"}',
        headers={**served.headers, "Content-Type": "application/json"},
        timeout=30,
    )

    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "not UTF-8" in answer.json()["detail"]


def test_deleting_an_instance_sagemaker_could_not_name_is_a_422(served: ServedApi) -> None:
    answer = requests.delete(f"{served.url}/instances/%3A", headers=served.headers, timeout=30)

    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["instanceName"]
