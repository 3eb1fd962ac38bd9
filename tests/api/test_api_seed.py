"""The original v1.1 paths answer what ``shared/reference/seed_openapi_v1.1.yaml`` promises.

Every answer of these paths is validated against that document's schema for the operation and
status, as an existing client would read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import yaml

from maas.naming import sagemaker_endpoint_name
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import Answer, ApiCaller

#: The original contract, as the project received it (``shared/reference``), kept beside the
#: tests so that they run wherever the repository is checked out.
SEED_DOCUMENT = Path(__file__).resolve().parents[1] / "data" / "seed_openapi_v1.1.yaml"


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SEED_DOCUMENT.read_text())
    return document


def conforms(seed: dict[str, Any], path: str, method: str, answer: Answer) -> None:
    """Assert that ``answer`` is what the original document says ``method path`` returns."""
    responses = seed["paths"][path][method.lower()]["responses"]
    assert str(answer.status) in responses, f"{method} {path} answered {answer.status}"
    content = responses[str(answer.status)].get("content")
    if content is None:
        return
    schema = {**content["application/json"]["schema"], "components": seed["components"]}
    # The document's refs point at #/components/...: they resolve from this root.
    jsonschema.validate(answer.body, schema)


@pytest.fixture(scope="module")
def deployed(runtime: LocalRuntime, api: ApiCaller) -> str:
    from tests.local.support import wait_until

    register_version(runtime, "seed-model")
    answer = api("POST", "/instances", body={"instanceName": "legacy", "modelName": "seed-model"})
    assert answer.status == 200, answer.body
    wait_until(
        lambda: api("GET", "/instances/legacy").body.get("EndpointStatus") == "InService",
        timeout=60,
        interval=0.2,
    )
    return "legacy"


def test_instances_are_created_listed_and_described(
    seed: dict[str, Any], api: ApiCaller, deployed: str
) -> None:
    conforms(seed, "/instances", "GET", listed := api("GET", "/instances"))
    assert [item["EndpointName"] for item in listed.body] == [deployed]
    described = api("GET", f"/instances/{deployed}")
    conforms(seed, "/instances/{instanceName}", "GET", described)
    assert described.body["ProductionVariants"][0]["CurrentInstanceCount"] == 1


def test_creating_an_instance_answers_the_original_shape(
    seed: dict[str, Any], runtime: LocalRuntime, api: ApiCaller
) -> None:
    answer = api("POST", "/instances", body={"instanceName": "other", "modelName": "seed-model"})

    conforms(seed, "/instances", "POST", answer)
    assert answer.body["EndpointName"] == "other"
    assert answer.headers["location"].startswith("/v1/executions/deploy-endpoint/")


def test_an_instance_moves_only_to_its_own_configuration(
    seed: dict[str, Any], api: ApiCaller, deployed: str
) -> None:
    config = api("GET", f"/instances/{deployed}").body["EndpointConfigName"]

    same = api("PUT", f"/instances/{deployed}", body={"endpointConfigName": config})
    conforms(seed, "/instances/{instanceName}", "PUT", same)
    other = api("PUT", f"/instances/{deployed}", body={"endpointConfigName": "elsewhere"})
    assert other.status == 422
    assert other.problem_fields == ["endpointConfigName"]


def test_models_are_listed_and_described(
    seed: dict[str, Any], api: ApiCaller, deployed: str
) -> None:
    conforms(seed, "/models", "GET", listed := api("GET", "/models"))
    assert "seed-model" in [model["ModelName"] for model in listed.body]
    described = api("GET", "/models/seed-model")
    conforms(seed, "/models/{modelName}", "GET", described)
    assert described.body["PrimaryContainer"]["ModelDataUrl"].startswith("s3://")
    conforms(seed, "/models/{modelName}", "PUT", api("PUT", "/models/seed-model", body={}))
    refused = api("DELETE", "/models/seed-model")
    assert refused.status == 409
    assert api("GET", "/models/absent").status == 404


def test_creating_a_model_packages_its_artifact(seed: dict[str, Any], api: ApiCaller) -> None:
    answer = api(
        "POST",
        "/models",
        body={
            "modelName": "from-s3",
            "primaryContainer": {"Image": "ignored", "ModelDataUrl": "s3://some-bucket/model/"},
        },
    )

    conforms(seed, "/models", "POST", answer)
    assert answer.headers["location"].startswith("/v1/executions/package-model/")
    bad = api("POST", "/models", body={"modelName": "x", "primaryContainer": {}})
    assert bad.status == 422
    assert bad.problem_fields == ["primaryContainer.ModelDataUrl"]


def test_metrics_answer_datapoints(
    seed: dict[str, Any], runtime: LocalRuntime, api: ApiCaller, deployed: str
) -> None:
    runtime.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [
                    {"Name": "EndpointName", "Value": sagemaker_endpoint_name("acme", deployed)},
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
                "Value": 3.0,
                "Unit": "None",
            }
        ],
    )

    answer = api("GET", f"/metrics?instanceName={deployed}&metricName=Invocations")

    conforms(seed, "/metrics", "GET", answer)
    assert [point["Average"] for point in answer.body] == [3.0]
    assert api("GET", "/metrics?instanceName=absent&metricName=Invocations").status == 404


def test_deleting_an_instance_tears_it_down(
    seed: dict[str, Any], api: ApiCaller, deployed: str
) -> None:
    answer = api("DELETE", f"/instances/{deployed}")

    conforms(seed, "/instances/{instanceName}", "DELETE", answer)
    assert answer.headers["location"].startswith("/v1/executions/teardown/")
