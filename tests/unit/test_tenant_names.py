"""Two tenants may give an endpoint the same name; in SageMaker they never meet.

SageMaker endpoint, endpoint-configuration and model names are unique per account and
Region (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html:
"The name must be unique within an AWS Region in your AWS account"), so every physical name
is derived from the tenant and the user's name; and before a workflow acts on an endpoint it
checks the endpoint's ``maas:tenant`` tag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.ownership import owned_record
from maas.endpoints.records import table_arguments
from maas.exceptions import NotFound
from maas.naming import sagemaker_endpoint_name
from schemas import DeploymentRequest, EndpointRecord
from schemas.common import SAGEMAKER_NAME_MAX_LENGTH
from tests.factories import ARTIFACTS_BUCKET, deployment_request

if TYPE_CHECKING:
    from maas.endpoints.plan import DeploymentPlan

TABLE = "endpoints"


def plan_for(tenant: str, name: str = "chat", **overrides: Any) -> DeploymentPlan:
    model = deployment_request()["model"] | {
        "model_data_url": f"s3://{ARTIFACTS_BUCKET}/{tenant}/smollm2/1/"
    }
    request = deployment_request(tenant_id=tenant, endpoint_name=name, model=model, **overrides)
    return plan_deployment(
        DeploymentRequest.model_validate(request),
        correlation_id="deploy-1",  # the same execution name, to show it is not what separates
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=1,
    )


def physical_names(plan: DeploymentPlan) -> set[str]:
    names = {plan.sagemaker_endpoint_name, plan.model_name, plan.endpoint_config_name}
    if plan.scaling:
        names |= {plan.scaling.ResourceId, plan.scaling.PolicyName}
    if plan.schedule:
        names.add(plan.schedule.Name)
    if plan.idle_alarm:
        names.add(plan.idle_alarm.AlarmName)
        names |= {dimension["Value"] for dimension in plan.idle_alarm.Dimensions[:1]}
    return names


def test_two_tenants_endpoints_of_one_name_share_no_physical_name() -> None:
    everything = {
        "autoscaling": {"min_capacity": 1, "max_capacity": 2},
        "expires_at": "2099-01-01T00:00:00Z",
        "idle_timeout_minutes": 30,
    }
    acme, globex = plan_for("acme", **everything), plan_for("globex", **everything)
    assert acme.endpoint_name == globex.endpoint_name == "chat"
    assert physical_names(acme).isdisjoint(physical_names(globex))


def test_names_that_join_alike_are_kept_apart_by_the_hash() -> None:
    assert sagemaker_endpoint_name("acme", "x-chat") != sagemaker_endpoint_name("acme-x", "chat")
    assert plan_for("acme", "x-chat").model_name != plan_for("acme-x", "chat").model_name


def test_the_longest_names_still_fit_sagemaker() -> None:
    plan = plan_for("t" * 32, "e" * 63)
    assert len(plan.sagemaker_endpoint_name) == SAGEMAKER_NAME_MAX_LENGTH
    assert len(plan.model_name) <= SAGEMAKER_NAME_MAX_LENGTH
    assert plan.sagemaker_endpoint_name != sagemaker_endpoint_name("t" * 32, "e" * 62 + "f")


def test_a_record_written_before_derived_names_keeps_naming_its_endpoint() -> None:
    stored = plan_for("acme").model_dump(mode="json")
    legacy = {
        "tenant_id": "acme",
        "endpoint_name": "chat",
        "status": "IN_SERVICE",
        "correlation_id": "deploy-1",
        "model": stored["request"]["model"],
        "model_name": "chat-244cf825",
        "endpoint_config_name": "chat-244cf825",
        "variant_name": "AllTraffic",
        "instance_type": "ml.g5.xlarge",
        "instance_count": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    assert EndpointRecord.model_validate(legacy).sagemaker_endpoint_name == "chat"


@pytest.fixture
def world(aws: None) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments(TABLE))
    return {"registry": EndpointRegistry(TABLE, dynamodb), "sagemaker": boto3.client("sagemaker")}


def create_endpoint(sagemaker: Any, name: str, tenant: str | None) -> None:
    tags = [{"Key": "maas:tenant", "Value": tenant}] if tenant else []
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
        PrimaryContainer={"Image": "lmi"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)


def record_naming(world: dict[str, Any], tenant: str, sagemaker_name: str) -> None:
    """A record of ``tenant``'s ``chat`` whose SageMaker name is ``sagemaker_name`` (as a record
    written before derived names, or by a bug, may say)."""
    plan = plan_for(tenant).model_copy(update={"sagemaker_endpoint_name": sagemaker_name})
    world["registry"].begin_deployment(plan)


def test_a_record_naming_another_tenants_endpoint_answers_as_a_missing_one(
    world: dict[str, Any],
) -> None:
    create_endpoint(world["sagemaker"], "chat", tenant="acme")
    record_naming(world, "globex", "chat")
    with pytest.raises(NotFound) as squatted:
        owned_record(world["registry"], world["sagemaker"], "globex", "chat")
    with pytest.raises(NotFound) as missing:
        world["registry"].get("globex", "other")
    assert squatted.value.message == missing.value.message.replace("'other'", "'chat'")
    # The other tenant's endpoint is untouched.
    assert world["sagemaker"].describe_endpoint(EndpointName="chat")["EndpointStatus"]


def test_an_untagged_endpoint_is_no_tenants(world: dict[str, Any]) -> None:
    create_endpoint(world["sagemaker"], "chat", tenant=None)
    record_naming(world, "acme", "chat")
    with pytest.raises(NotFound):
        owned_record(world["registry"], world["sagemaker"], "acme", "chat")


def test_the_tenants_own_endpoint_and_an_absent_one_pass(world: dict[str, Any]) -> None:
    own = sagemaker_endpoint_name("acme", "chat")
    create_endpoint(world["sagemaker"], own, tenant="acme")
    record_naming(world, "acme", own)
    assert owned_record(world["registry"], world["sagemaker"], "acme", "chat").endpoint_name == (
        "chat"
    )
    record_naming(world, "globex", sagemaker_endpoint_name("globex", "chat"))
    assert owned_record(world["registry"], world["sagemaker"], "globex", "chat")


def test_an_embedding_or_judge_endpoint_is_looked_up_among_the_tenants_own(
    world: dict[str, Any],
) -> None:
    record_naming(world, "acme", sagemaker_endpoint_name("acme", "chat"))
    registry: EndpointRegistry = world["registry"]
    assert registry.sagemaker_name_of("acme", "chat") == sagemaker_endpoint_name("acme", "chat")
    with pytest.raises(NotFound):
        registry.sagemaker_name_of("globex", "chat")
