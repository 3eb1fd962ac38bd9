"""What each workflow, function, job and role may do: one table, read from top to bottom.

Each entry names grants of :mod:`stacks.iam_policies` (each statement is written there once);
the stacks build every role's statements from this table and nothing else, beside what a
role's construct implies by itself (a function's log group, a machine's ``${...Arn}``
substitutions: the functions it invokes and the roles it passes, ``LifecycleStack``).

A principal's ``own`` grants are its own role's, for every tenant (``Owner.PRODUCT``: only
what is tagged for a tenant, any tenant). Its ``tenant`` grants are held to one tenant
(``Owner.SESSION_TENANT``): for a function, the role it assumes for the tenant its input names
(maas.tenancy); for a job, the same; for a workflow, the tenant workflow policy, which every
tenant's workflow role holds (maas.workflow_roles), built from all the workflows' ``tenant``
grants.

Examples
--------
>>> [grant.actions for grant in FUNCTIONS["PublishEvent"].own][0]
('events:PutEvents',)
"""

from __future__ import annotations

from dataclasses import dataclass

from maas.manifest import MANIFEST, RefKind
from schemas.api import Workflow
from stacks.iam_policies import (
    ACT_AS_TENANT_WORKFLOW_ROLES,
    APPLY_STAGE_GUARDRAILS,
    AUTOSCALE,
    CREATE_AUTOSCALING_ROLE,
    CREATE_ENDPOINTS,
    CREATE_HOSTING,
    CREATE_HOURS_SCHEDULES,
    CREATE_IDLE_ALARMS,
    CREATE_MODEL_PACKAGES,
    CREATE_MODELS_AND_CONFIGS,
    CREATE_ROLLBACK_ALARMS,
    CREATE_TTL_SCHEDULES,
    DELETE_ENDPOINT_CONFIGS,
    DELETE_ENDPOINTS,
    DELETE_HOURS_SCHEDULES,
    DELETE_IDLE_ALARMS,
    DELETE_MODELS,
    DELETE_ROLLBACK_ALARMS,
    DELETE_SCALING_ALARMS,
    DELETE_TTL_SCHEDULES,
    DELETE_VERSIONS,
    DEREGISTER_SCALING,
    DESCRIBE_ALARMS,
    DESCRIBE_ENDPOINTS,
    DESCRIBE_MODEL_PACKAGES,
    DESCRIBE_OWN_ENDPOINTS,
    GET_REGISTRY_TOKEN,
    INSPECT_ENDPOINTS,
    INVOKE_ENDPOINTS,
    INVOKE_FOUNDATION_MODELS,
    JUDGE_IDLE_ALARMS,
    KEEP_IDEMPOTENCY_RECORDS,
    LIST_HOSTING,
    LIST_MODEL_PACKAGES,
    LIST_TENANT_FOLDER,
    LIST_VERSIONS,
    MAKE_TENANT_WORKFLOW_ROLES,
    MANAGE_SCALING_ALARMS,
    PULL_SERVING_IMAGES,
    PUT_EVENTS,
    PUT_SAGEMAKER_METRICS,
    PUT_TRACE_SEGMENTS,
    READ_ARTIFACTS_BUCKET,
    READ_ENDPOINT_METRICS,
    READ_EVALUATIONS,
    READ_EVALUATIONS_AND_CORPORA,
    READ_EVENT_LOG,
    READ_FILES,
    READ_GUARDRAIL_PARAMETERS,
    READ_HOSTING_TAGS,
    READ_SCALED_VARIANTS,
    READ_TENANT_HUB_TOKENS,
    READ_VERSIONS,
    READ_WITH_KEY_FOR_FILES,
    READ_WITH_KEY_FOR_TABLES,
    REGISTER_SCALING,
    REJECT_MODEL_PACKAGES,
    RESTART_IDLE_CLOCKS,
    SCAN_ENDPOINT_RECORDS,
    SEND_TASK_SUCCESS,
    UPDATE_CAPACITIES,
    UPDATE_ENDPOINTS,
    USE_KEY_FOR_FILES,
    USE_KEY_FOR_TABLES,
    WRITE_EVALUATION_PLANS,
    WRITE_EVALUATION_REPORTS,
    WRITE_EVALUATION_RESULTS,
    WRITE_SAGEMAKER_LOGS,
    WRITE_TENANT_DATASETS,
    WRITE_VERSIONS,
    Grant,
    invoke_functions,
    items,
    pass_role,
    read_tenant_executions,
    run_batch_job,
    run_children,
    start,
)


@dataclass(frozen=True)
class Rights:
    """What one principal may do: as itself (``own``), and for one tenant (``tenant``)."""

    own: tuple[Grant, ...] = ()
    tenant: tuple[Grant, ...] = ()


# --- Records (DynamoDB), with the key they are encrypted under -----------------------------

ENDPOINTS, MODELS = "EndpointsTable", "ModelsTable"
READ_ENDPOINT, READ_MODEL = items(ENDPOINTS, "GetItem"), items(MODELS, "GetItem")
QUERY_ENDPOINTS = items(ENDPOINTS, "Query")
UPDATE_MODEL = items(MODELS, "UpdateItem")
#: maas.endpoints.records: a read, then guarded updates (not puts, so SageMaker's latest word,
#: written by EndpointStateChanged at any moment, is never put back older).
ENDPOINT_RECORDS = (READ_ENDPOINT, items(ENDPOINTS, "UpdateItem"), USE_KEY_FOR_TABLES)
#: maas.evaluation.store: reads, and puts guarded by the status they expect.
EVALUATION_RECORDS = (items(MODELS, "GetItem", "PutItem"), USE_KEY_FOR_TABLES)
#: maas.registry.ModelRegistry: guarded puts of version records; the model's counter is an
#: update, and opening a version queries the model's versions first.
VERSION_RECORDS = (
    items(MODELS, "GetItem", "PutItem"),
    UPDATE_MODEL,
    items(MODELS, "Query"),
    USE_KEY_FOR_TABLES,
)
#: maas.evaluation.shard: one shard scored, from a Batch job or a function alike: read the job
#: document, the shard and knowledge corpora, write the shard's results; ask the endpoint, a
#: Bedrock judge or embedder, the stage's guardrail (found through its SSM parameter); read the
#: version's EvalGen assertion set.
SCORE_A_SHARD = (
    READ_EVALUATIONS_AND_CORPORA,
    WRITE_EVALUATION_RESULTS,
    USE_KEY_FOR_FILES,
    INVOKE_ENDPOINTS,
    INVOKE_FOUNDATION_MODELS,
    APPLY_STAGE_GUARDRAILS,
    READ_GUARDRAIL_PARAMETERS,
    READ_MODEL,
    USE_KEY_FOR_TABLES,
)

# --- Functions ------------------------------------------------------------------------------

#: Every function of the manifest: its own role's grants beyond its log group and X-Ray, and
#: the grants of the role it assumes for a tenant (those with one, ``tenant_role_id``). The
#: workflows' steps act for the tenant their input names through that role; what stays with
#: a function's own role is what takes no tenant: its idempotency records (the answers of the
#: handlers that create things, functions.common.idempotency), and the deployment's clean-up
#: of what cannot be tagged (the scalable target and its alarms, the schedules).
FUNCTIONS: dict[str, Rights] = {
    # Nothing of its own: it acts as the caller's tenant (the TenantAccessRole).
    "Api": Rights(),
    "StartLifecycle": Rights(own=(start("Lifecycle"),)),
    # maas.endpoints.idle: the alarm and its tags, the endpoint's record, teardown.
    "TearDownIdleEndpoint": Rights(
        own=(
            JUDGE_IDLE_ALARMS,
            RESTART_IDLE_CLOCKS,
            READ_ENDPOINT,
            READ_WITH_KEY_FOR_TABLES,
            start("Teardown"),
        )
    ),
    # The version to deploy, and the tenant's quota ledger (maas.endpoints.quotas): a read and
    # guarded updates of its counter item, and a query of the tenant's endpoints when the
    # ledger opens or a refused request sweeps it.
    "PlanDeployment": Rights(tenant=(READ_MODEL, QUERY_ENDPOINTS, *ENDPOINT_RECORDS)),
    # Each plan takes the endpoint's record after reading the endpoint's maas:tenant tag.
    "PlanTeardown": Rights(
        own=(KEEP_IDEMPOTENCY_RECORDS,), tenant=(*ENDPOINT_RECORDS, INSPECT_ENDPOINTS)
    ),
    # Scaling also queries the tenant's endpoints, for its instance quota.
    "PlanScaling": Rights(
        own=(KEEP_IDEMPOTENCY_RECORDS,),
        tenant=(*ENDPOINT_RECORDS, INSPECT_ENDPOINTS, QUERY_ENDPOINTS),
    ),
    "PlanStop": Rights(
        own=(KEEP_IDEMPOTENCY_RECORDS,), tenant=(*ENDPOINT_RECORDS, INSPECT_ENDPOINTS)
    ),
    "PlanStart": Rights(
        own=(KEEP_IDEMPOTENCY_RECORDS,), tenant=(*ENDPOINT_RECORDS, INSPECT_ENDPOINTS)
    ),
    # maas.endpoints.update: the endpoint's record, and the version it moves to.
    "PlanUpdate": Rights(
        own=(KEEP_IDEMPOTENCY_RECORDS,),
        tenant=(*ENDPOINT_RECORDS, INSPECT_ENDPOINTS, READ_MODEL),
    ),
    "RecordEndpointStatus": Rights(tenant=ENDPOINT_RECORDS),
    # maas.endpoints.cleanup: the tagged resources a failed deployment made (the endpoint only
    # if its tag says this deployment's tenant), and the idle alarm; its own role the rest.
    "CleanupDeployment": Rights(
        own=(
            DEREGISTER_SCALING,
            DELETE_SCALING_ALARMS,
            DELETE_TTL_SCHEDULES,
            DELETE_HOURS_SCHEDULES,
        ),
        tenant=(
            INSPECT_ENDPOINTS,
            DELETE_ENDPOINTS,
            DELETE_ENDPOINT_CONFIGS,
            DELETE_MODELS,
            DELETE_IDLE_ALARMS,
        ),
    ),
    "PlanPackaging": Rights(own=(KEEP_IDEMPOTENCY_RECORDS,), tenant=VERSION_RECORDS),
    # maas.quantization.steps.plan_quantization: read the parent version, then open the next
    # one as PlanPackaging does.
    "PlanQuantization": Rights(own=(KEEP_IDEMPOTENCY_RECORDS,), tenant=VERSION_RECORDS),
    # maas.registry.packaging_steps.register_version: read the job's manifest and list what it
    # uploaded, then the model package and the REGISTERED record.
    "RegisterModelVersion": Rights(
        own=(KEEP_IDEMPOTENCY_RECORDS,),
        tenant=(
            *VERSION_RECORDS,
            READ_VERSIONS,
            LIST_VERSIONS,
            READ_WITH_KEY_FOR_FILES,
            CREATE_MODEL_PACKAGES,
            DESCRIBE_MODEL_PACKAGES,
            LIST_MODEL_PACKAGES,
        ),
    ),
    # maas.registry.packaging_steps.fail_version: clear the version's prefix.
    "FailModelVersion": Rights(
        own=(KEEP_IDEMPOTENCY_RECORDS,),
        tenant=(*VERSION_RECORDS, LIST_VERSIONS, DELETE_VERSIONS),
    ),
    # maas.workflow_roles.TenantWorkflowRoles: find or create the tenant's role.
    "ActForTenant": Rights(own=MAKE_TENANT_WORKFLOW_ROLES),
    "PublishEvent": Rights(own=(PUT_EVENTS, KEEP_IDEMPOTENCY_RECORDS, USE_KEY_FOR_TABLES)),
    # maas.endpoints.reconcile: every record against every tagged resource; drifted records
    # repaired (guarded puts), orphans deleted only when a run asks.
    "ReconcileEndpoints": Rights(
        own=(
            items(ENDPOINTS, "GetItem", "PutItem"),
            SCAN_ENDPOINT_RECORDS,
            USE_KEY_FOR_TABLES,
            LIST_HOSTING,
            READ_HOSTING_TAGS,
            DESCRIBE_ENDPOINTS,
            DELETE_ENDPOINTS,
            DELETE_ENDPOINT_CONFIGS,
            DELETE_MODELS,
            PUT_EVENTS,
        )
    ),
    # maas.endpoints.records.EndpointRegistry.observe_sagemaker: read the record, then
    # conditional updates of SageMaker's word (and of the status, rarely).
    "EndpointStateChanged": Rights(own=ENDPOINT_RECORDS),
    # maas.registry.ModelRegistry.observe_packaging_job: one conditional update.
    "PackagingJobChanged": Rights(own=(UPDATE_MODEL, USE_KEY_FOR_TABLES)),
    # maas.evaluation.plan: the endpoint's record, the question set (in the tenant's folder:
    # another tenant's, or a missing one, is a NotFound), the shards and job document, the
    # EVALUATION# record (create, or find it).
    "PlanEvaluation": Rights(
        tenant=(
            READ_ENDPOINT,
            *EVALUATION_RECORDS,
            READ_FILES,
            WRITE_EVALUATION_PLANS,
            USE_KEY_FOR_FILES,
        )
    ),
    # maas.evaluation.outcome.gather: every shard's results; then the record.
    "AggregateEvaluation": Rights(
        tenant=(*EVALUATION_RECORDS, READ_EVALUATIONS, READ_WITH_KEY_FOR_FILES)
    ),
    "RequestEvaluationReview": Rights(tenant=EVALUATION_RECORDS),
    # maas.evaluation.finish: the results again, the report and summary, the record; a failed
    # gate that rejects the version: its record and its model package.
    "FinishEvaluation": Rights(
        tenant=(
            *EVALUATION_RECORDS,
            READ_EVALUATIONS,
            WRITE_EVALUATION_REPORTS,
            USE_KEY_FOR_FILES,
            REJECT_MODEL_PACKAGES,
        )
    ),
    "RecordEvaluationFailure": Rights(tenant=EVALUATION_RECORDS),
    # One shard of a small evaluation, as the Evaluator job scores it (its tracing is the
    # function's own).
    "EvaluateShard": Rights(own=SCORE_A_SHARD),
}

# --- Workflows ------------------------------------------------------------------------------

#: Every state machine: its role's grants beyond the functions it invokes and the roles it
#: passes, and what its SageMaker, Application Auto Scaling and CloudWatch states do as the
#: tenant's workflow role (``Credentials``). Schedules cannot be tagged: the machine's own role
#: keeps them, by name prefix.
WORKFLOWS: dict[str, Rights] = {
    "Teardown": Rights(
        own=(ACT_AS_TENANT_WORKFLOW_ROLES, DELETE_TTL_SCHEDULES, DELETE_HOURS_SCHEDULES),
        tenant=(
            DEREGISTER_SCALING,
            DELETE_IDLE_ALARMS,
            DELETE_SCALING_ALARMS,
            DESCRIBE_ENDPOINTS,
            DELETE_ENDPOINTS,
            DELETE_ENDPOINT_CONFIGS,
            DELETE_MODELS,
        ),
    ),
    "DeployEndpoint": Rights(
        own=(ACT_AS_TENANT_WORKFLOW_ROLES, CREATE_TTL_SCHEDULES, CREATE_HOURS_SCHEDULES),
        tenant=(
            CREATE_HOSTING,
            DESCRIBE_ENDPOINTS,
            *AUTOSCALE,
            CREATE_IDLE_ALARMS,
            # CreateModel names the role SageMaker runs the model with.
            pass_role("SageMakerExecutionRole", "sagemaker.amazonaws.com"),
        ),
    ),
    # Delete the endpoint only; its configuration and model stay for the start. Restoring the
    # autoscaling of an endpoint that could not be deleted.
    "StopEndpoint": Rights(
        own=(ACT_AS_TENANT_WORKFLOW_ROLES,),
        tenant=(
            DEREGISTER_SCALING,
            DESCRIBE_ENDPOINTS,
            DELETE_ENDPOINTS,
            REGISTER_SCALING,
            READ_SCALED_VARIANTS,
            UPDATE_CAPACITIES,
            MANAGE_SCALING_ALARMS,
        ),
    ),
    # Undoing a start that failed: its scaling target and its endpoint.
    "StartEndpoint": Rights(
        own=(ACT_AS_TENANT_WORKFLOW_ROLES,),
        tenant=(
            CREATE_ENDPOINTS,
            DESCRIBE_ENDPOINTS,
            *AUTOSCALE,
            RESTART_IDLE_CLOCKS,
            DEREGISTER_SCALING,
            DELETE_ENDPOINTS,
        ),
    ),
    "UpdateEndpoint": Rights(
        own=(ACT_AS_TENANT_WORKFLOW_ROLES,),
        tenant=(
            CREATE_MODELS_AND_CONFIGS,
            CREATE_ROLLBACK_ALARMS,
            DELETE_ROLLBACK_ALARMS,
            DESCRIBE_ALARMS,
            UPDATE_ENDPOINTS,
            DESCRIBE_ENDPOINTS,
            REGISTER_SCALING,
            DEREGISTER_SCALING,
            READ_SCALED_VARIANTS,
            UPDATE_CAPACITIES,
            MANAGE_SCALING_ALARMS,
            CREATE_AUTOSCALING_ROLE,
            DELETE_ENDPOINT_CONFIGS,
            DELETE_MODELS,
            pass_role("SageMakerExecutionRole", "sagemaker.amazonaws.com"),
        ),
    ),
    "ScaleEndpoint": Rights(
        own=(ACT_AS_TENANT_WORKFLOW_ROLES,),
        tenant=(
            DESCRIBE_ENDPOINTS,
            UPDATE_CAPACITIES,
            REGISTER_SCALING,
            DEREGISTER_SCALING,
            READ_SCALED_VARIANTS,
            MANAGE_SCALING_ALARMS,
            CREATE_AUTOSCALING_ROLE,
        ),
    ),
    "PackageModel": Rights(own=run_batch_job("Packager")),
    # The packaging job quantizes the parent's package (maas.quantization.package).
    "QuantizeModel": Rights(own=run_batch_job("Packager")),
    # A Map of batch:submitJob.sync, one Evaluator job per shard; a gate that fails with
    # on_gate_failure=teardown tears the endpoint down.
    "Evaluate": Rights(own=(*run_batch_job("Evaluator"), *run_children("Teardown"))),
    "Lifecycle": Rights(own=run_children("PackageModel", "DeployEndpoint", "Evaluate", "Teardown")),
}

# --- Jobs -----------------------------------------------------------------------------------

#: Every Batch job: what its container calls under its tenant's session.
JOBS: dict[str, Rights] = {
    # maas.packaging: read a source in the tenant's folder or the tenant's Hub token, upload
    # the package under the tenant's version prefix, report on the tenant's version record.
    "Packager": Rights(
        tenant=(
            READ_FILES,
            LIST_TENANT_FOLDER,
            WRITE_VERSIONS,
            USE_KEY_FOR_FILES,
            READ_MODEL,
            UPDATE_MODEL,
            USE_KEY_FOR_TABLES,
            READ_TENANT_HUB_TOKENS,
        )
    ),
    # maas.evaluation.shard: one shard scored on the tenant's endpoint; its questions' traces
    # go through the X-Ray API (a job has no daemon).
    "Evaluator": Rights(tenant=(*SCORE_A_SHARD, PUT_TRACE_SEGMENTS)),
}

# --- Roles ----------------------------------------------------------------------------------

#: The functions the schedules of the manifest invoke (the reconciler).
SCHEDULED_FUNCTIONS = tuple(
    schedule.target.target
    for schedule in MANIFEST.schedules
    if schedule.target.kind is RefKind.FUNCTION_ARN
)

#: The roles of no single function, job or workflow.
ROLES: dict[str, Rights] = {
    # What SageMaker runs a model with: its artifacts, serving images, logs and metrics.
    "SageMakerExecutionRole": Rights(
        own=(
            READ_ARTIFACTS_BUCKET,
            READ_WITH_KEY_FOR_FILES,
            PULL_SERVING_IMAGES,
            GET_REGISTRY_TOKEN,
            WRITE_SAGEMAKER_LOGS,
            PUT_SAGEMAKER_METRICS,
        )
    ),
    # What the schedules start: an endpoint's time-to-live and hours, the reconciler.
    "SchedulerRole": Rights(
        own=(
            start("Teardown"),
            start("StopEndpoint"),
            start("StartEndpoint"),
            invoke_functions(*SCHEDULED_FUNCTIONS),
        )
    ),
    # What the API may do for one tenant (maas.tenancy).
    "TenantAccessRole": Rights(
        tenant=(
            items((ENDPOINTS, MODELS), "GetItem", "Query"),
            # maas.evaluation.review.submit_review: the grades on the evaluation's record;
            # EvalGen's sessions (maas.evaluation.evalgen.session_table) and the assertion
            # sets stored with versions: puts only, in the tenant's partition.
            items(MODELS, "PutItem"),
            # maas.usage.UsageMeter: each request ADDs to its hour's counters, an update in
            # the tenant's partition (USAGE#<hour>#<endpoint>).
            UPDATE_MODEL,
            USE_KEY_FOR_TABLES,
            # maas.evaluation.review.review_items: the answers to grade; maas.pipeline: the
            # tenant's knowledge corpora.
            READ_EVALUATIONS_AND_CORPORA,
            READ_WITH_KEY_FOR_FILES,
            # ... and the grades resume the workflow through the record's task token.
            SEND_TASK_SUCCESS,
            *(start(workflow.state_machine_id) for workflow in Workflow),
            read_tenant_executions(*(workflow.state_machine_id for workflow in Workflow)),
            DESCRIBE_OWN_ENDPOINTS,
            # The invoke route (maas.pipeline): the tenant's endpoints and the stage's
            # guardrails (endpoints' pipelines are items of the models table, written above).
            INVOKE_ENDPOINTS,
            # ... a Bedrock embedding model, when the pipeline names one.
            INVOKE_FOUNDATION_MODELS,
            APPLY_STAGE_GUARDRAILS,
            READ_GUARDRAIL_PARAMETERS,
            READ_ENDPOINT_METRICS,
            # An execution's events; the API keeps only those naming the session's tenant.
            READ_EVENT_LOG,
            # /v1/datasets (maas.datasets.store): the tenant's dataset objects (a version's
            # JSONL; a delete empties the dataset's folder), its own folder listed (a
            # version's source prefix, what a delete empties), and the dataset's and its
            # versions' records deleted (reads and puts it has already).
            WRITE_TENANT_DATASETS,
            LIST_TENANT_FOLDER,
            USE_KEY_FOR_FILES,
            items(MODELS, "DeleteItem"),
        )
    ),
}


__all__ = ["FUNCTIONS", "JOBS", "ROLES", "SCHEDULED_FUNCTIONS", "WORKFLOWS", "Rights"]
