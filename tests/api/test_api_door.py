"""Deployments, updates and scalings refused at the door: no workflow starts for a doomed one.

Each request below was accepted (202 or 200) and failed a minute later inside its workflow:
an instance type not in the catalog, a version that does not exist, more instances than the
tenant's quota (three here). Each is now refused at once, naming the field, and no execution
of the workflow exists afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from schemas.api import Workflow
from tests.local.support import wait_until
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import ApiCaller

UNKNOWN_TYPE = "ml.zz9.huge"


@pytest.fixture(scope="module")
def version(runtime: LocalRuntime) -> int:
    return register_version(runtime, "door-chat").version


@pytest.fixture(scope="module")
def serving(api: ApiCaller, version: int) -> str:
    """An endpoint in service, to update and scale."""
    accepted = api("POST", "/v1/endpoints", body=_deployment("door", version))
    assert accepted.status == 202, accepted.body
    wait_until(
        lambda: api("GET", "/v1/endpoints/door").body.get("status") == "IN_SERVICE",
        timeout=60,
        interval=0.2,
    )
    return "door"


def _deployment(name: str, version: int, **extra: Any) -> dict[str, Any]:
    return {
        "endpoint_name": name,
        "model": {"model_name": "door-chat", "version": version},
        **extra,
    }


def _executions(runtime: LocalRuntime, workflow: Workflow) -> int:
    # The manifest names state machines in CamelCase: deploy-endpoint is DeployEndpoint.
    machine = runtime.state_machine_arn(workflow.value.title().replace("-", ""))
    listed = runtime.client("stepfunctions").list_executions(stateMachineArn=machine)
    return len(listed["executions"])


@pytest.mark.parametrize(
    "case",
    [
        ({"instance_type": UNKNOWN_TYPE}, 422, "instance_type"),
        ({"instance_count": 0}, 422, "instance_count"),
        ({"instance_count": 4}, 403, None),
    ],
    ids=["unknown-instance-type", "no-instances", "past-the-quota"],
)
def test_a_deployment_that_would_fail_is_refused(
    runtime: LocalRuntime,
    api: ApiCaller,
    version: int,
    case: tuple[dict[str, Any], int, str | None],
) -> None:
    extra, status, field = case
    before = _executions(runtime, Workflow.DEPLOY_ENDPOINT)

    refused = api("POST", "/v1/endpoints", body=_deployment("doomed", version, **extra))

    assert refused.status == status, refused.body
    if field is not None:
        assert refused.problem_fields == [field]
        assert refused.body["detail"].startswith(f"{field}: ")
    assert _executions(runtime, Workflow.DEPLOY_ENDPOINT) == before


def test_a_deployment_of_a_version_that_does_not_exist_is_not_found(
    runtime: LocalRuntime, api: ApiCaller, version: int
) -> None:
    before = _executions(runtime, Workflow.DEPLOY_ENDPOINT)

    refused = api("POST", "/v1/endpoints", body=_deployment("doomed", version + 40))

    assert refused.status == 404, refused.body
    assert refused.body["detail"].startswith("model: no version")
    assert _executions(runtime, Workflow.DEPLOY_ENDPOINT) == before


def test_an_original_instance_of_an_unknown_type_is_refused(
    runtime: LocalRuntime, api: ApiCaller, version: int
) -> None:
    before = _executions(runtime, Workflow.DEPLOY_ENDPOINT)

    refused = api(
        "POST",
        "/instances",
        body={"instanceName": "doomed", "modelName": "door-chat", "instanceType": UNKNOWN_TYPE},
    )

    assert refused.status == 422, refused.body
    assert refused.problem_fields == ["instanceType"]
    assert _executions(runtime, Workflow.DEPLOY_ENDPOINT) == before


@pytest.mark.parametrize(
    "case",
    [
        ({"model": {"model_name": "door-chat", "version": 99}}, 404, None),
        ({"model": {"model_name": "no-such-model", "version": 1}}, 404, None),
        ({"instance_type": UNKNOWN_TYPE}, 422, "instance_type"),
    ],
    ids=["missing-version", "missing-model", "unknown-instance-type"],
)
def test_an_update_that_would_fail_is_refused(
    runtime: LocalRuntime,
    api: ApiCaller,
    serving: str,
    case: tuple[dict[str, Any], int, str | None],
) -> None:
    change, status, field = case
    before = _executions(runtime, Workflow.UPDATE_ENDPOINT)

    refused = api("PATCH", f"/v1/endpoints/{serving}", body=change)

    assert refused.status == status, refused.body
    if field is not None:
        assert refused.problem_fields == [field]
    assert _executions(runtime, Workflow.UPDATE_ENDPOINT) == before
    assert api("GET", f"/v1/endpoints/{serving}").body["status"] == "IN_SERVICE"


@pytest.mark.parametrize(
    "case",
    [
        ({"instance_count": 0}, 422, "instance_count"),
        ({"instance_count": 4}, 403, None),
        ({"autoscaling": {"min_capacity": 1, "max_capacity": 5}}, 403, None),
    ],
    ids=["no-instances", "past-the-quota", "autoscaling-past-the-quota"],
)
def test_a_scaling_that_would_fail_is_refused(
    runtime: LocalRuntime,
    api: ApiCaller,
    serving: str,
    case: tuple[dict[str, Any], int, str | None],
) -> None:
    change, status, field = case
    before = _executions(runtime, Workflow.SCALE_ENDPOINT)

    refused = api("PUT", f"/v1/endpoints/{serving}/scaling", body=change)

    assert refused.status == status, refused.body
    if field is not None:
        assert refused.problem_fields == [field]
    else:
        assert refused.body["error_name"] == "Maas.QuotaExceeded"
    assert _executions(runtime, Workflow.SCALE_ENDPOINT) == before


def test_a_lifecycle_deploying_on_an_unknown_type_is_refused(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    before = _executions(runtime, Workflow.LIFECYCLE)
    source = {"kind": "huggingface", "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct"}
    body: dict[str, Any] = {
        "package": {
            "source": source,
            "serving": {"instance_types": ["ml.g5.xlarge", UNKNOWN_TYPE]},
        },
        "deployment": {"endpoint_name": "doomed", "instance_type": UNKNOWN_TYPE},
    }

    refused = api("POST", "/v1/lifecycles", body=body)
    deploying = api("POST", "/v1/lifecycles", body={**body, "package": {"source": source}})

    assert refused.status == 422, refused.body
    assert refused.problem_fields == ["package.serving.instance_types.1"]
    assert deploying.status == 422, deploying.body
    assert deploying.problem_fields == ["deployment.instance_type"]
    assert _executions(runtime, Workflow.LIFECYCLE) == before
