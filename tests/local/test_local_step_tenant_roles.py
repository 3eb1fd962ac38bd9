"""A workflow's functions act for the tenant their input names, through their tenant role.

Each step that touches a tenant's records, files or SageMaker resources assumes its own
tenant role with the tenant as a session tag (:func:`maas.tenancy.from_environment`); the
role's statements compare that tag with the item's partition key (``dynamodb:LeadingKeys``,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)
and with each SageMaker resource's ``maas:tenant`` tag
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
So a step handed a plan that names another tenant's resources (a bug in a step before it)
is refused by IAM. The functions run with their synthesized statements, enforced.
"""

from __future__ import annotations

import copy
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from maas.endpoints import DeploymentPlan, plan_deployment
from maas.local import iam_enforcement
from maas.local.iam_roles import read_export
from maas.manifest import MANIFEST, tenant_role_id
from schemas import DeploymentRequest
from tests.factories import ARTIFACTS_BUCKET, deployment_request
from tests.local.support import unique

if TYPE_CHECKING:
    from maas.local import LocalRuntime, LocalSettings
    from maas.manifest import Manifest

CLEANUP = "CleanupDeployment"


@pytest.fixture(scope="module")
def settings(settings: LocalSettings) -> LocalSettings:
    """Functions act as their roles, with the synthesized statements."""
    return settings.model_copy(update={"enforce_function_iam": True})


@pytest.fixture(scope="module")
def manifest(manifest: Manifest) -> Manifest:
    """The local tests' manifest with the deployment's clean-up."""
    return manifest.model_copy(update={"functions": (MANIFEST.function(CLEANUP),)})


def _acme_plan(runtime: LocalRuntime) -> DeploymentPlan:
    """A deployment plan of acme's whose model and configuration exist, tagged for acme as
    the deployment workflow tags them."""
    request = deployment_request(endpoint_name=unique("chat"), instance_type="ml.m5.large")
    plan = plan_deployment(
        DeploymentRequest.model_validate(request),
        correlation_id=unique("deploy"),
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    sagemaker = runtime.client("sagemaker")
    sagemaker.create_model(
        ModelName=plan.model_name,
        ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        PrimaryContainer=plan.primary_container,
        Tags=plan.tags,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=plan.endpoint_config_name,
        ProductionVariants=plan.production_variants,
        Tags=plan.tags,
    )
    return plan


def _clean_up(runtime: LocalRuntime, plan: DeploymentPlan) -> dict[str, Any]:
    answer: dict[str, Any] = runtime.lambda_.invoke(
        runtime.resources.name(CLEANUP), {"plan": plan.model_dump(mode="json")}
    ).json()
    return answer


def _exists(runtime: LocalRuntime, plan: DeploymentPlan) -> tuple[bool, bool]:
    """Whether the plan's model and its endpoint configuration are there."""
    sagemaker = runtime.client("sagemaker")
    models = {item["ModelName"] for item in sagemaker.list_models()["Models"]}
    configs = {
        item["EndpointConfigName"] for item in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    }
    return plan.model_name in models, plan.endpoint_config_name in configs


def test_a_clean_up_acting_for_another_tenant_leaves_the_tenants_resources(
    runtime: LocalRuntime,
) -> None:
    acme = _acme_plan(runtime)
    # A plan of globex's naming acme's model and configuration: what a bug upstream would hand.
    forged = acme.model_copy(update={"tenant_id": "globex"})

    report = _clean_up(runtime, forged)

    assert f"model/{acme.model_name}" in report["left_alone"], report
    assert f"endpoint-config/{acme.endpoint_config_name}" in report["left_alone"], report
    assert _exists(runtime, acme) == (True, True)


def test_a_clean_up_acting_for_the_plans_tenant_deletes_its_resources(
    runtime: LocalRuntime,
) -> None:
    acme = _acme_plan(runtime)

    report = _clean_up(runtime, acme)

    assert f"model/{acme.model_name}" in report["deleted"], report
    assert _exists(runtime, acme) == (False, False)


def test_removing_the_tenant_condition_lets_the_other_tenants_clean_up_through(
    runtime: LocalRuntime,
) -> None:
    """The proof that the tenant role's condition, not something else, refused it."""
    acme = _acme_plan(runtime)
    forged = acme.model_copy(update={"tenant_id": "globex"})
    loosened = copy.deepcopy(read_export())
    removed = 0
    for document in loosened["Roles"][tenant_role_id(CLEANUP)]["PolicyDocuments"]:
        for statement in document["Statement"]:
            if statement["Action"] in ("sagemaker:DeleteModel", "sagemaker:DeleteEndpointConfig"):
                removed += statement.pop("Condition", None) is not None
    assert removed == 2

    with ExitStack() as stack:
        iam_enforcement.install(
            stack, iam_enforcement.enforce_roles(runtime.resources, lambda _: None, loosened)
        )
        report = _clean_up(runtime, forged)

    assert f"model/{acme.model_name}" in report["deleted"], report
    assert _exists(runtime, acme) == (False, False)


def test_the_functions_own_role_touches_no_tagged_resource(runtime: LocalRuntime) -> None:
    """Without its tenant session the step can delete nothing of a tenant's: its own role
    holds only what takes no tag (schedules, the scalable target)."""
    acme = _acme_plan(runtime)
    role = runtime.resources.roles[MANIFEST.function(CLEANUP).role_id]
    credentials = runtime.client("sts").assume_role(RoleArn=role, RoleSessionName="cleanup")[
        "Credentials"
    ]
    own = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=runtime.settings.region,
    ).client("sagemaker")

    with pytest.raises(ClientError) as refused:
        own.delete_model(ModelName=acme.model_name)

    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert _exists(runtime, acme) == (True, True)
