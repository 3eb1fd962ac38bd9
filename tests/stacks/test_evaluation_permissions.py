"""IAM of the evaluation workflow: each step writes only its own files, the evaluator asks
only the product's endpoints and the stage's guardrails, tenants see only their own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.manifest import MANIFEST, tenant_role_id
from stacks.iam_policies import SESSION_TENANT, STAGE_TAG, TENANT_TAG
from tests.stacks.cfn_template import (
    arn_text,
    as_list,
    function_by_handler,
    logical_id_of,
    policy_statements,
)

if TYPE_CHECKING:
    from stacks.control_plane import ControlPlane

pytestmark = pytest.mark.stacks

#: The S3 objects each evaluation step may write for its tenant, as ARN tails after the
#: bucket name.
WRITES = {
    "PlanEvaluation": {
        f"/evaluations/{SESSION_TENANT}/*/shards/*",
        f"/evaluations/{SESSION_TENANT}/*/job.json",
    },
    "FinishEvaluation": {
        f"/evaluations/{SESSION_TENANT}/*/report.html",
        f"/evaluations/{SESSION_TENANT}/*/summary.json",
    },
    "AggregateEvaluation": set(),
    "RequestEvaluationReview": set(),
    "RecordEvaluationFailure": set(),
}


def _granting(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements if action in as_list(statement["Action"])]


def _function_statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    _, properties = function_by_handler(template, MANIFEST.function(function_id).handler)
    return policy_statements(template, properties["Role"]["Fn::GetAtt"][0])


def _step_statements(
    template: dict[str, Any], plane: ControlPlane, function_id: str
) -> list[dict[str, Any]]:
    """What an evaluation step does for its tenant: its tenant role's statements (its own
    role may only assume that role)."""
    assert _function_statements(template, function_id) == [
        statement
        for statement in _function_statements(template, function_id)
        if not any(
            action.split(":")[0] in ("s3", "dynamodb", "sagemaker")
            for action in as_list(statement["Action"])
        )
    ]
    role = plane.lifecycle.roles[tenant_role_id(function_id)]
    return policy_statements(template, logical_id_of(role))


def _machine_statements(
    template: dict[str, Any], plane: ControlPlane, machine_id: str
) -> list[dict[str, Any]]:
    machine = plane.lifecycle.state_machines[machine_id].state_machine
    role = template["Resources"][logical_id_of(machine)]["Properties"]["RoleArn"]
    return policy_statements(template, role["Fn::GetAtt"][0])


#: The Batch job acts under its tenant's session (maas.tenancy.act_as_tenant); the function,
#: for small sets, under its own role.
EVALUATOR_JOB, EVALUATOR_FUNCTION = "Evaluator job", "EvaluateShard function"


@pytest.fixture(params=[EVALUATOR_JOB, EVALUATOR_FUNCTION])
def evaluator_kind(request: pytest.FixtureRequest) -> str:
    """Which principal scores a shard."""
    kind: str = request.param
    return kind


@pytest.fixture
def evaluator_statements(
    request: pytest.FixtureRequest, plane: ControlPlane, evaluator_kind: str
) -> list[dict[str, Any]]:
    """What scores a shard may do: the job's tenant role, and the function's role."""
    if evaluator_kind == EVALUATOR_JOB:
        template = request.getfixturevalue("packaging_json")
        return policy_statements(template, logical_id_of(plane.packaging.tenant_roles["Evaluator"]))
    return _function_statements(request.getfixturevalue("lifecycle_json"), "EvaluateShard")


def _artifacts(plane: ControlPlane) -> str:
    bucket = f"maas-{plane.config.name}-artifacts-<AWS::AccountId>-<AWS::Region>"
    return f"arn:<AWS::Partition>:s3:::{bucket}"


# --- Functions -------------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", sorted(WRITES))
def test_evaluation_step_writes_only_its_own_files_of_the_evaluations_folder(
    lifecycle_json: dict[str, Any], plane: ControlPlane, function_id: str
) -> None:
    statements = _step_statements(lifecycle_json, plane, function_id)
    written = {
        arn_text(resource).removeprefix(_artifacts(plane))
        for statement in _granting(statements, "s3:PutObject")
        for resource in as_list(statement["Resource"])
    }
    assert written == WRITES[function_id]
    assert not _granting(statements, "s3:DeleteObject")


@pytest.mark.parametrize("function_id", ["AggregateEvaluation", "FinishEvaluation"])
def test_scoring_and_reporting_read_only_the_evaluations_folder(
    lifecycle_json: dict[str, Any], plane: ControlPlane, function_id: str
) -> None:
    statements = _step_statements(lifecycle_json, plane, function_id)
    [read] = _granting(statements, "s3:GetObject")
    assert arn_text(read["Resource"]) == f"{_artifacts(plane)}/evaluations/{SESSION_TENANT}/*"
    assert not _granting(statements, "s3:ListBucket")


def test_finish_evaluation_rejects_only_the_tenants_model_packages(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    [update] = _granting(
        _step_statements(lifecycle_json, plane, "FinishEvaluation"),
        "sagemaker:UpdateModelPackage",
    )
    assert update["Action"] == "sagemaker:UpdateModelPackage"
    assert arn_text(update["Resource"]).endswith(":model-package/*")
    assert update["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/{TENANT_TAG}": SESSION_TENANT}
    }


# --- The state machines ------------------------------------------------------------------------


def test_evaluate_submits_only_the_evaluator_job_to_its_queue(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    statements = _machine_statements(lifecycle_json, plane, "Evaluate")
    [submit] = _granting(statements, "batch:SubmitJob")
    assert submit["Action"] == "batch:SubmitJob"
    name = plane.config.resource_name("Evaluator")
    tails = sorted(arn_text(resource).rsplit(":", 1)[-1] for resource in submit["Resource"])
    queue = plane.config.resource_name("EvaluatorQueue")
    assert tails == ["*", f"job-definition/{name}", f"job-queue/{queue}"]
    assert any(
        arn_text(resource).endswith(f":job-definition/{name}:*") for resource in submit["Resource"]
    )


def test_evaluate_starts_only_teardown_and_the_lifecycle_starts_evaluate(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    machines = plane.lifecycle.state_machines

    def started(machine_id: str) -> set[str]:
        statements = _machine_statements(lifecycle_json, plane, machine_id)
        return {
            resource["Ref"]
            for statement in _granting(statements, "states:StartExecution")
            for resource in as_list(statement["Resource"])
        }

    def ref(machine_id: str) -> str:
        return logical_id_of(machines[machine_id].state_machine)

    assert started("Evaluate") == {ref("Teardown")}
    assert started("Lifecycle") == {
        ref(child) for child in ("PackageModel", "DeployEndpoint", "Evaluate", "Teardown")
    }


# --- The evaluator: a Batch job, or a function for small sets ---------------------------------


def test_the_evaluator_function_is_the_evaluator_jobs_image_run_by_the_lambda_runtime_client(
    lifecycle_json: dict[str, Any], packaging_json: dict[str, Any]
) -> None:
    spec = MANIFEST.function("EvaluateShard")
    _, function = function_by_handler(lifecycle_json, spec.handler)
    assert function["PackageType"] == "Image"
    assert function["ImageConfig"] == {
        "Command": [spec.handler],
        "EntryPoint": ["python", "-m", "awslambdaric"],
    }
    assert function["Architectures"] == ["x86_64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert "Layers" not in function  # the image holds its dependencies
    assert (function["Timeout"], function["MemorySize"]) == (900, 10240)
    assert spec.image == MANIFEST.job("Evaluator").dockerfile
    # One image for both: the function's image asset is the job's (same content hash).
    job_images = [
        resource["Properties"]["ContainerProperties"]["Image"]
        for resource in packaging_json["Resources"].values()
        if resource["Type"] == "AWS::Batch::JobDefinition"
    ]
    assert function["Code"]["ImageUri"] in job_images


def test_evaluator_invokes_only_endpoints_tagged_for_a_tenant(
    evaluator_statements: list[dict[str, Any]], evaluator_kind: str
) -> None:
    [invoke] = _granting(evaluator_statements, "sagemaker:InvokeEndpoint")
    assert invoke["Action"] == "sagemaker:InvokeEndpoint"
    assert arn_text(invoke["Resource"]).endswith(":endpoint/*")
    if evaluator_kind == EVALUATOR_JOB:
        # The job's session names its tenant: only that tenant's endpoints.
        assert invoke["Condition"] == {
            "StringEquals": {f"aws:ResourceTag/{TENANT_TAG}": SESSION_TENANT}
        }
    else:
        assert invoke["Condition"] == {"Null": {f"aws:ResourceTag/{TENANT_TAG}": "false"}}


def test_evaluator_applies_only_its_stages_guardrails_found_through_their_parameters(
    evaluator_statements: list[dict[str, Any]],
    guardrails_json: dict[str, Any],
    plane: ControlPlane,
) -> None:
    statements = evaluator_statements
    stage = plane.config.name
    [apply] = _granting(statements, "bedrock:ApplyGuardrail")
    assert apply["Condition"] == {"StringEquals": {f"aws:ResourceTag/{STAGE_TAG}": stage}}
    [read] = _granting(statements, "ssm:GetParameter")
    assert read["Action"] == "ssm:GetParameter"
    assert arn_text(read["Resource"]).endswith(f":parameter/maas/{stage}/guardrails/*")
    # The condition holds for the guardrails the stage deploys: each carries the stage tag.
    guardrails = [
        resource["Properties"]
        for resource in guardrails_json["Resources"].values()
        if resource["Type"] == "AWS::Bedrock::Guardrail"
    ]
    assert guardrails
    for guardrail in guardrails:
        assert {"Key": STAGE_TAG, "Value": stage} in guardrail["Tags"]


def test_evaluator_writes_only_shard_results_and_invokes_only_foundation_models(
    evaluator_statements: list[dict[str, Any]], plane: ControlPlane, evaluator_kind: str
) -> None:
    statements = evaluator_statements
    [write] = _granting(statements, "s3:PutObject")
    assert write["Action"] == "s3:PutObject"
    # The job writes only under its tenant's evaluations; the function under any.
    folder = f"{SESSION_TENANT}/*" if evaluator_kind == EVALUATOR_JOB else "*"
    assert arn_text(write["Resource"]) == f"{_artifacts(plane)}/evaluations/{folder}/results/*"
    assert not any(
        action.startswith(("s3:Delete", "secretsmanager:"))
        or (action.startswith("dynamodb:") and action != "dynamodb:GetItem")
        for statement in statements
        for action in as_list(statement["Action"])
    )
    # One read: the version's EvalGen assertion set, for the ``assertions`` metric.
    [get] = _granting(statements, "dynamodb:GetItem")
    assert "ModelsTable" in json.dumps(get["Resource"])
    [invoke] = _granting(statements, "bedrock:InvokeModel")
    assert invoke["Action"] == "bedrock:InvokeModel"
    assert arn_text(invoke["Resource"]) == (
        "arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*"
    )


# --- The API, acting as a tenant ------------------------------------------------------------


def _tenant_statements(template: dict[str, Any], plane: ControlPlane) -> list[dict[str, Any]]:
    return policy_statements(template, logical_id_of(plane.lifecycle.roles["TenantAccessRole"]))


def test_api_reads_only_its_tenants_evaluation_files_and_corpora(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    [read] = _granting(_tenant_statements(lifecycle_json, plane), "s3:GetObject")
    assert read["Action"] == "s3:GetObject"
    session_tenant = f"${{aws:PrincipalTag/{TENANT_TAG}}}"
    assert sorted(arn_text(resource) for resource in read["Resource"]) == [
        f"{_artifacts(plane)}/{session_tenant}/*",
        f"{_artifacts(plane)}/evaluations/{session_tenant}/*",
    ]


def test_api_resumes_evaluations_and_starts_and_follows_only_its_tenants(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    statements = _tenant_statements(lifecycle_json, plane)
    [send] = _granting(statements, "states:SendTaskSuccess")
    assert send["Resource"] == "*"
    assert not _granting(statements, "states:SendTaskFailure")
    evaluate = logical_id_of(plane.lifecycle.state_machines["Evaluate"].state_machine)
    [start] = _granting(statements, "states:StartExecution")
    assert {"Ref": evaluate} in as_list(start["Resource"])
    [describe] = _granting(statements, "states:DescribeExecution")
    followed = [arn_text(resource) for resource in as_list(describe["Resource"])]
    assert f":execution:<{evaluate}.Name>:${{aws:PrincipalTag/{TENANT_TAG}}}_*" in {
        arn[arn.index(":execution:") :] for arn in followed
    }
