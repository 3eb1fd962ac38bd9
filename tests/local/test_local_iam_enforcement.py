"""The local runtime refuses a role session what its role does not allow.

The statements are the synthesized ones (``maas/data/role_policies.json``), so each test here
is what AWS would answer the API function's tenant session (``maas.tenancy``): its own items,
files and endpoints, nothing of another tenant's, whatever a handler asks for; and what it
would answer a function, which runs with its own execution role's credentials
(``enforce_function_iam``, on in this module).
"""

from __future__ import annotations

import copy
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from maas.local import iam_enforcement
from maas.local.iam_roles import read_export, role_policies
from maas.manifest import MANIFEST, tenant_role_id
from maas.tenancy import TenantSessions
from tests.local.support import placeholder_endpoint_config, unique

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime, LocalSettings
    from maas.local.awslambda import LocalFunction
    from maas.manifest import Manifest

ROLE = "TenantAccessRole"
#: The manifest's functions whose roles the tests here act as.
FUNCTIONS = ("PlanTeardown", "CleanupDeployment")


@pytest.fixture(scope="module")
def settings(settings: LocalSettings) -> LocalSettings:
    """The local tests' settings, with each function acting as its own role."""
    return settings.model_copy(update={"enforce_function_iam": True})


@pytest.fixture(scope="module")
def manifest(manifest: Manifest) -> Manifest:
    """The local tests' manifest, with the functions (and so the roles) of :data:`FUNCTIONS`."""
    functions = tuple(spec for spec in MANIFEST.functions if spec.id in FUNCTIONS)
    return manifest.model_copy(update={"functions": functions})


@pytest.fixture(scope="module")
def models_table(runtime: LocalRuntime) -> str:
    """The models table, holding one item of acme's and one of globex's."""
    table = runtime.resources.tables["ModelsTable"]
    for tenant in ("acme", "globex"):
        runtime.client("dynamodb").put_item(
            TableName=table,
            Item={"pk": {"S": f"TENANT#{tenant}"}, "sk": {"S": "MODEL#chat"}},
        )
    return table


@pytest.fixture(scope="module")
def sessions(runtime: LocalRuntime) -> TenantSessions:
    """The API function's way to act as a tenant: the tenant access role, tagged."""
    return TenantSessions(runtime.resources.roles[ROLE], runtime.client("sts"))


def _key(tenant: str) -> dict[str, Any]:
    return {"pk": {"S": f"TENANT#{tenant}"}, "sk": {"S": "MODEL#chat"}}


def _denied(raised: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return dict(raised.value.response["Error"])


def test_a_tenant_session_reads_its_own_item(sessions: TenantSessions, models_table: str) -> None:
    dynamodb = sessions.for_tenant("acme").client("dynamodb")

    assert dynamodb.get_item(TableName=models_table, Key=_key("acme"))["Item"] == _key("acme")


def test_reading_another_tenants_item_directly_is_denied_as_aws_denies_it(
    runtime: LocalRuntime, sessions: TenantSessions, models_table: str
) -> None:
    """A handler that forgot its own check still cannot read another tenant's record."""
    dynamodb = sessions.for_tenant("acme").client("dynamodb")

    with pytest.raises(ClientError) as raised:
        dynamodb.get_item(TableName=models_table, Key=_key("globex"))

    table_arn = runtime.resources.arn("dynamodb", f"table/{models_table}")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _denied(raised) == {
        "Code": "AccessDeniedException",
        "Message": (
            "User: arn:aws:sts::123456789012:assumed-role/maas-tenant-access-role/maas-api-acme"
            f" is not authorized to perform: dynamodb:GetItem on resource: {table_arn} because"
            " no identity-based policy allows the dynamodb:GetItem action"
        ),
    }


def test_a_query_is_held_to_the_tenants_partition(
    sessions: TenantSessions, models_table: str
) -> None:
    table = sessions.for_tenant("acme").session.resource("dynamodb").Table(models_table)

    assert table.query(KeyConditionExpression=Key("pk").eq("TENANT#acme"))["Count"] == 1
    with pytest.raises(ClientError) as raised:
        table.query(KeyConditionExpression=Key("pk").eq("TENANT#globex"))
    assert _denied(raised)["Code"] == "AccessDeniedException"


def test_writes_outside_the_tenants_partition_and_scans_are_denied(
    sessions: TenantSessions, models_table: str
) -> None:
    dynamodb = sessions.for_tenant("acme").client("dynamodb")

    dynamodb.put_item(TableName=models_table, Item={**_key("acme"), "note": {"S": "mine"}})
    with pytest.raises(ClientError) as put:
        dynamodb.put_item(TableName=models_table, Item=_key("globex"))
    with pytest.raises(ClientError) as scan:
        dynamodb.scan(TableName=models_table)

    assert _denied(put)["Code"] == _denied(scan)["Code"] == "AccessDeniedException"


def test_another_tenants_files_are_denied_with_s3s_error(
    runtime: LocalRuntime, sessions: TenantSessions
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    for tenant in ("acme", "globex"):
        runtime.client("s3").put_object(Bucket=bucket, Key=f"{tenant}/corpus.jsonl", Body=b"{}")
    s3 = sessions.for_tenant("acme").client("s3")

    assert s3.get_object(Bucket=bucket, Key="acme/corpus.jsonl")["Body"].read() == b"{}"
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="globex/corpus.jsonl")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert _denied(raised)["Code"] == "AccessDenied"
    assert f"arn:aws:s3:::{bucket}/globex/corpus.jsonl" in _denied(raised)["Message"]


def test_an_endpoint_is_described_only_for_the_tenant_its_tag_names(
    runtime: LocalRuntime, sessions: TenantSessions
) -> None:
    sagemaker = runtime.client("sagemaker")
    sagemaker.create_model(
        ModelName="iam-model",
        ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        PrimaryContainer={"Image": "image:latest"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="iam-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "iam-model",
                "InstanceType": "ml.g5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    for tenant in ("acme", "globex"):
        sagemaker.create_endpoint(
            EndpointName=f"{tenant}-Chat",
            EndpointConfigName="iam-config",
            Tags=[{"Key": "maas:tenant", "Value": tenant}],
        )
    acme = sessions.for_tenant("acme").client("sagemaker")

    assert acme.describe_endpoint(EndpointName="acme-Chat")["EndpointName"] == "acme-Chat"
    for absent_or_foreign in ("globex-Chat", "nobody"):
        with pytest.raises(ClientError) as raised:
            acme.describe_endpoint(EndpointName=absent_or_foreign)
        # SageMaker's ARNs hold names in lower case; a missing endpoint has no tag either.
        assert f"endpoint/{absent_or_foreign.lower()} because" in _denied(raised)["Message"]


def test_the_runtimes_own_calls_are_not_those_of_a_tenant(
    runtime: LocalRuntime, models_table: str
) -> None:
    item = runtime.client("dynamodb").get_item(TableName=models_table, Key=_key("globex"))

    assert item["Item"] == _key("globex")


def test_removing_the_leading_keys_condition_lets_the_cross_tenant_read_through(
    runtime: LocalRuntime, sessions: TenantSessions, models_table: str
) -> None:
    """The proof that the condition, not something else, keeps tenants apart."""
    dynamodb = sessions.for_tenant("acme").client("dynamodb")
    loosened = _without_condition(read_export(), "dynamodb:GetItem", "dynamodb:LeadingKeys")
    enforcement = iam_enforcement.Enforcement(
        {runtime.resources.roles[ROLE]: role_policies(ROLE, runtime.resources, loosened)},
        iam_enforcement.moto_lookups(
            runtime.settings.account_id, runtime.settings.region, lambda _: None
        ),
    )

    with ExitStack() as stack:
        iam_enforcement.install(stack, enforcement)
        assert dynamodb.get_item(TableName=models_table, Key=_key("globex"))["Item"]

    with pytest.raises(ClientError) as raised:
        dynamodb.get_item(TableName=models_table, Key=_key("globex"))
    assert _denied(raised)["Code"] == "AccessDeniedException"


def _without_condition(exported: dict[str, Any], action: str, key: str) -> dict[str, Any]:
    """A copy of the export whose statements granting ``action`` no longer test ``key``."""
    loosened = copy.deepcopy(exported)
    removed = 0
    for document in loosened["Roles"][ROLE]["PolicyDocuments"]:
        for statement in document["Statement"]:
            actions = statement["Action"]
            if action in ([actions] if isinstance(actions, str) else actions):
                for operator in list(statement.get("Condition", {})):
                    removed += statement["Condition"][operator].pop(key, None) is not None
                    if not statement["Condition"][operator]:
                        del statement["Condition"][operator]
    assert removed, f"no statement granting {action} tests {key}"
    return loosened


# --- Functions act as their own roles ---------------------------------------------------------


@pytest.fixture(scope="module")
def endpoints(runtime: LocalRuntime) -> dict[str, str]:
    """Two endpoints: one tagged ``maas:tenant`` (the product's), one not (someone else's)."""
    sagemaker = runtime.client("sagemaker")
    config = placeholder_endpoint_config(runtime)
    names = {"tagged": unique("acme-chat"), "untagged": unique("other")}
    for kind, name in names.items():
        tags = [{"Key": "maas:tenant", "Value": "acme"}] if kind == "tagged" else []
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config, Tags=tags)
    return names


def _acting_as(
    deploy_function: Callable[..., LocalFunction],
    runtime: LocalRuntime,
    function_id: str,
    *,
    for_tenant: str | None = None,
) -> Callable[..., dict[str, Any]]:
    """``call(service, operation, **params)``, made by a function running as ``function_id``'s
    execution role, or acting through its tenant role for ``for_tenant``."""
    function = deploy_function("call_aws", role=f"{function_id}FunctionRole")
    acting = (
        {}
        if for_tenant is None
        else {
            "for_tenant": for_tenant,
            "tenant_role_arn": runtime.resources.roles[tenant_role_id(function_id)],
        }
    )

    def call(service: str, operation: str, **params: Any) -> dict[str, Any]:
        event = {"service": service, "operation": operation, "params": params, **acting}
        answer: dict[str, Any] = runtime.lambda_.invoke(function.name, event).json()
        return answer

    return call


def test_a_functions_call_its_role_does_not_allow_is_denied(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    endpoints: dict[str, str],
) -> None:
    """PlanTeardown only plans: its role may look at an endpoint, never delete it."""
    plan_teardown = _acting_as(deploy_function, runtime, "PlanTeardown")

    denied = plan_teardown("sagemaker", "delete_endpoint", EndpointName=endpoints["tagged"])

    assert denied["error"] == "AccessDeniedException"
    assert "assumed-role/maas-plan-teardown-function-role/" in denied["message"]
    assert "perform: sagemaker:DeleteEndpoint" in denied["message"]
    described = runtime.client("sagemaker").describe_endpoint(EndpointName=endpoints["tagged"])
    assert described["EndpointName"] == endpoints["tagged"]


def test_the_teardown_plans_ownership_check_is_allowed(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    endpoints: dict[str, str],
) -> None:
    """maas.endpoints.ownership: DescribeEndpoint, then ListTags of the endpoint's ARN, made
    through the tenant role (the function's own role may only assume it)."""
    plan_teardown = _acting_as(deploy_function, runtime, "PlanTeardown", for_tenant="acme")
    own = _acting_as(deploy_function, runtime, "PlanTeardown")
    assert own("sagemaker", "describe_endpoint", EndpointName=endpoints["tagged"])["error"] == (
        "AccessDeniedException"
    )

    described = plan_teardown("sagemaker", "describe_endpoint", EndpointName=endpoints["tagged"])
    arn = runtime.client("sagemaker").describe_endpoint(EndpointName=endpoints["tagged"])[
        "EndpointArn"
    ]
    tags = plan_teardown("sagemaker", "list_tags", ResourceArn=arn)

    assert described["EndpointArn"] == arn
    assert tags["Tags"] == [{"Key": "maas:tenant", "Value": "acme"}]


def test_the_cleanup_deletes_only_endpoints_tagged_for_its_tenant(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    endpoints: dict[str, str],
) -> None:
    """CleanupDeployment's tenant role deletes an endpoint only when its ``maas:tenant`` tag
    is the session's (``aws:ResourceTag/maas:tenant`` = ``${aws:PrincipalTag/maas:tenant}``)."""
    for_globex = _acting_as(deploy_function, runtime, "CleanupDeployment", for_tenant="globex")
    for_acme = _acting_as(deploy_function, runtime, "CleanupDeployment", for_tenant="acme")

    someone_elses = for_acme("sagemaker", "delete_endpoint", EndpointName=endpoints["untagged"])
    another_tenants = for_globex("sagemaker", "delete_endpoint", EndpointName=endpoints["tagged"])
    deleted = for_acme("sagemaker", "delete_endpoint", EndpointName=endpoints["tagged"])

    assert someone_elses["error"] == another_tenants["error"] == "AccessDeniedException"
    assert "assumed-role/maas-cleanup-deployment-tenant-role/" in another_tenants["message"]
    assert "error" not in deleted


def test_a_function_signs_as_a_session_of_its_own_role(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    """As Lambda does: the role session's credentials in the function's environment."""
    plan_teardown = _acting_as(deploy_function, runtime, "PlanTeardown")

    caller = plan_teardown("sts", "get_caller_identity")

    role = runtime.resources.name("PlanTeardownFunctionRole")
    assert f":assumed-role/{role}/" in caller["Arn"]
