"""Every example of the OpenAPI document, sent to the API: none is refused as invalid.

Clients and Swagger UI (``/docs``) offer the document's examples as the requests to try, so
each must be one the API takes. schemathesis builds each operation's requests from the
examples in ``schemas/openapi.json`` (of parameters, bodies and their fields; what no example
covers is generated, derandomized), and they go to a local runtime's API over HTTP as a
tenant. The things they name mostly do not exist for the tenant (404) and a quota or a state
may refuse them (403, 409): that is an answer about the world, not about the request. A 400
or a 422 says the example itself is not a valid request; a 5xx is a fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings

from tests.api.served import serve
from tests.api.test_api_fuzz import OPERATIONS, SCHEMA

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.served import ServedApi
    from tests.api.test_api_fuzz import Case

#: What an example must never be answered: refused as invalid (400, 422), or a fault.
REFUSED = {400, 422}


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory) -> ServedApi:
    return serve(runtime, tmp_path_factory.mktemp("tokens"))


def example_cases() -> list[Case]:
    """One request per combination of the document's examples, for every operation."""
    cases: list[Case] = []
    for operation in OPERATIONS:
        for strategy in SCHEMA.get_strategies_from_examples(operation, fill_missing=True):

            @settings(
                max_examples=1,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def collect(case: Case) -> None:
                cases.append(case)

            collect()
    return cases


def test_the_document_has_examples_for_the_recommendations() -> None:
    labels = {case.operation.label for case in example_cases()}

    assert "POST /v1/recommendations" in labels
    assert "POST /v1/endpoints" in labels


def test_no_example_of_the_document_is_refused(served: ServedApi) -> None:
    refused = []
    # One at a time, as the fuzzer sends them: one Lambda environment, one event at a time.
    with requests.Session() as session:
        for case in example_cases():
            answer = case.call(base_url=served.url, session=session, headers=served.headers)
            if answer.status_code in REFUSED or answer.status_code >= 500:
                refused.append(
                    f"{case.operation.label} {case.path_parameters or ''} {case.body!r}\n"
                    f"  -> {answer.status_code} {answer.text[:400]}"
                )

    assert not refused, "\n".join(refused)
