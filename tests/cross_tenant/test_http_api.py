"""Two tenants against the API served over HTTP, as ``maas local up`` serves it.

Tenant ``acme`` and tenant ``globex`` each hold a token. Every case is something ``globex``
tried against ``acme``'s resources; after each, ``acme``'s endpoint is still in service,
untouched. These were reproductions of real leaks: before endpoint names were derived per
tenant, ``globex`` deploying ``chat`` failed on ``acme``'s SageMaker endpoint ``chat`` and its
``DELETE /v1/endpoints/chat`` then tore ``acme``'s endpoint down.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from maas.local import LocalRuntime
from maas.naming import sagemaker_endpoint_name
from tests.cross_tenant.conftest import TENANTS, Tenant
from tests.workflows.conftest import FAST
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from collections.abc import Iterator

MODEL = "tiny-chat"


def deploy(tenant: Tenant, name: str) -> dict[str, Any]:
    body = {"endpoint_name": name, "model": {"model_name": MODEL, "version": 1}}
    return tenant.follow(tenant("POST", "/v1/endpoints", body))


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(FAST) as local:
        for tenant in TENANTS:
            register_version(local, MODEL, tenant_id=tenant)
        yield local


@pytest.fixture(scope="module")
def acme_chat(tenants: dict[str, Tenant]) -> str:
    """acme's endpoint ``chat``, in service; and ``only-acme``, which globex has no name for."""
    for name in ("chat", "only-acme"):
        deployed = deploy(tenants["acme"], name)
        assert deployed["status"] == "SUCCEEDED", deployed
    return sagemaker_endpoint_name("acme", "chat")


def sagemaker_status(runtime: LocalRuntime, tenant: str, name: str) -> str:
    described = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name(tenant, name)
    )
    return str(described["EndpointStatus"])


def executions(runtime: LocalRuntime) -> int:
    stepfunctions = runtime.client("stepfunctions")
    machines = stepfunctions.list_state_machines()["stateMachines"]
    return sum(
        len(stepfunctions.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"])
        for machine in machines
    )


def test_the_same_name_deploys_for_both_tenants_as_two_endpoints(
    runtime: LocalRuntime, tenants: dict[str, Tenant], acme_chat: str
) -> None:
    deployed = deploy(tenants["globex"], "chat")

    assert deployed["status"] == "SUCCEEDED", deployed
    assert sagemaker_status(runtime, "acme", "chat") == "InService"
    assert sagemaker_status(runtime, "globex", "chat") == "InService"
    sagemaker = runtime.client("sagemaker")
    for tenant in TENANTS:
        endpoint = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name(tenant, "chat"))
        tags = sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
        assert {"Key": "maas:tenant", "Value": tenant} in tags
    for tenant, client in tenants.items():
        assert client("GET", "/v1/endpoints/chat").json()["tenant_id"] == tenant


def test_a_tenant_deleting_its_endpoint_leaves_the_other_tenants_of_that_name(
    runtime: LocalRuntime, tenants: dict[str, Tenant], acme_chat: str
) -> None:
    torn_down = tenants["globex"].follow(tenants["globex"]("DELETE", "/v1/endpoints/chat"))

    assert torn_down["status"] == "SUCCEEDED", torn_down
    assert tenants["globex"]("GET", "/v1/endpoints/chat").json()["status"] == "DELETED"
    assert sagemaker_status(runtime, "acme", "chat") == "InService"
    assert tenants["acme"]("GET", "/v1/endpoints/chat").json()["status"] == "IN_SERVICE"


#: What globex tries on acme's ``only-acme``: (method, path with {name}, body).
ATTEMPTS: list[tuple[str, str, Any]] = [
    ("GET", "/v1/endpoints/{name}", None),
    ("DELETE", "/v1/endpoints/{name}", None),
    ("POST", "/v1/endpoints/{name}/stop", None),
    ("POST", "/v1/endpoints/{name}/start", None),
    ("PUT", "/v1/endpoints/{name}/scaling", {"instance_count": 2}),
    ("PATCH", "/v1/endpoints/{name}", {"instance_type": "ml.g5.2xlarge"}),
    ("GET", "/v1/endpoints/{name}/pipeline", None),
    ("POST", "/v1/endpoints/{name}/invoke", {"question": "What is the capital of France?"}),
    ("GET", "/instances/{name}", None),
    ("DELETE", "/instances/{name}", None),
    ("GET", "/metrics?instanceName={name}&metricName=Invocations", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ATTEMPTS)
def test_another_tenants_endpoint_answers_exactly_as_a_missing_one(  # noqa: PLR0917 - fixtures
    runtime: LocalRuntime,
    tenants: dict[str, Tenant],
    acme_chat: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = executions(runtime)
    theirs = tenants["globex"](method, path.format(name="only-acme"), body)
    missing = tenants["globex"](method, path.format(name="never-was"), body)

    assert theirs.status_code == missing.status_code == 404
    assert _comparable(theirs.json(), "only-acme") == _comparable(missing.json(), "never-was")
    assert executions(runtime) == before  # no workflow started
    assert sagemaker_status(runtime, "acme", "only-acme") == "InService"


def _comparable(problem: dict[str, Any], name: str) -> dict[str, Any]:
    """A problem body without what differs between two requests: the name and request id."""
    return {
        key: re.sub(re.escape(name), "<name>", value) if isinstance(value, str) else value
        for key, value in problem.items()
        if key not in ("request_id", "instance")
    }


def test_an_evaluation_may_not_judge_with_another_tenants_endpoint(
    runtime: LocalRuntime, tenants: dict[str, Tenant], acme_chat: str
) -> None:
    assert deploy(tenants["globex"], "judged")["status"] == "SUCCEEDED"
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    before = executions(runtime)
    answer = tenants["globex"](
        "POST",
        "/v1/evaluations",
        {
            "endpoint_name": "judged",
            "question_set_uri": f"s3://{bucket}/globex/questions.jsonl",
            "metrics": ["faithfulness"],
            "judge": {"kind": "sagemaker", "endpoint_name": "only-acme"},
        },
    )

    assert answer.status_code == 422, answer.text
    assert "judge.endpoint_name" in answer.text
    assert executions(runtime) == before


def test_a_pipeline_may_not_embed_with_another_tenants_endpoint(
    tenants: dict[str, Tenant], acme_chat: str
) -> None:
    answer = tenants["globex"](
        "PUT",
        "/v1/endpoints/judged/pipeline",
        {
            "knowledge": {
                "corpus_uri": "s3://elsewhere/globex/corpus.jsonl",
                "embedding": {"kind": "sagemaker", "endpoint_name": "only-acme"},
            }
        },
    )

    assert answer.status_code == 422, answer.text
    assert "knowledge.embedding.endpoint_name" in answer.text


def test_another_tenants_model_version_is_refused_at_the_door_and_starts_nothing(
    runtime: LocalRuntime, tenants: dict[str, Tenant]
) -> None:
    """The door's planning step reads the version from the caller's own models: acme's
    version answers globex as a version that does not exist, before any workflow starts."""
    register_version(runtime, "acme-only-model", tenant_id="acme")
    before = executions(runtime)

    answer = tenants["globex"](
        "POST",
        "/v1/endpoints",
        {"endpoint_name": "borrowed", "model": {"model_name": "acme-only-model", "version": 1}},
    )

    assert answer.status_code == 404, answer.text
    assert "acme-only-model" in answer.json()["detail"]
    assert executions(runtime) == before
    assert tenants["globex"]("GET", "/v1/endpoints/borrowed").status_code == 404
