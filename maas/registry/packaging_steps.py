"""The ``package_model`` workflow's logic: open a version, register it, or fail it cleanly.

Each function is one step's work; the handlers in ``functions/`` only parse and call.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from maas.aws import split_s3_uri
from maas.exceptions import Conflict, IntegrityError, PackagingFailed
from maas.tenancy import check_tenant_file, check_tenant_secret
from schemas.common import FailureCause, failure_message
from schemas.packaging import (
    MANIFEST_FILE,
    ApprovalStatus,
    HuggingFaceSource,
    PackageManifest,
    PackagingJob,
    PackagingRequest,
    RegistrationRetry,
    S3Source,
    VersionStatus,
    default_model_name,
)

if TYPE_CHECKING:
    from maas.registry.packages import ModelPackages
    from maas.registry.versions import ModelRegistry
    from schemas.packaging import LocalSource, ModelVersionRecord
    from schemas.quantization import VersionLineage

STATES_PREFIX = "States."

#: The environment variable that carries the job to the packaging container.
JOB_ENVIRONMENT_VARIABLE = "MAAS_PACKAGING_JOB"


class PackagingPlan(BaseModel):
    """What the workflow needs after the version is open: the job and how to submit it."""

    tenant_id: str
    model_name: str
    version: int
    approval_status: ApprovalStatus
    description: str
    job: PackagingJob
    job_name: str
    container_overrides: dict[str, Any]


#: Why a request from outside the packaging machine (the API, an event) may not name a
#: ``local`` source: the folder would be the platform's, not the caller's.
LOCAL_SOURCE_REFUSED = (
    "'local' sources are not accepted over the API or from events (a folder of the "
    "platform's machine): upload the model to your S3 prefix, or package it with the CLI on "
    "your own machine"
)


def check_source(
    source: HuggingFaceSource | S3Source | LocalSource,
    tenant_id: str,
    artifacts_bucket: str,
    *,
    field: str = "source",
) -> None:
    """Refuse a source that reaches into another tenant's files or secrets.

    The packager reads the artifacts bucket and the Hub token secrets on every tenant's
    behalf, so what a request names is checked here for the tenant it names: an S3 source in
    the artifacts bucket only under ``<tenant>/`` (other buckets are the platform team's to
    grant, by the packager role), a token secret only under ``maas/<tenant>/``. The check
    is lexical: another tenant's file or secret is refused whether it exists or not.

    Raises
    ------
    ValidationError
        Naming ``<field>.uri`` or ``<field>.token_secret_arn``.
    """
    if isinstance(source, S3Source):
        check_tenant_file(source.uri, f"{field}.uri", artifacts_bucket, tenant_id)
    elif isinstance(source, HuggingFaceSource) and source.token_secret_arn is not None:
        check_tenant_secret(source.token_secret_arn, f"{field}.token_secret_arn", tenant_id)


def plan_packaging(
    request: PackagingRequest,
    registry: ModelRegistry,
    *,
    correlation_id: str,
    execution_arn: str | None,
    artifacts_bucket: str,
    lineage: VersionLineage | None = None,
) -> PackagingPlan:
    """Check the source is the tenant's, open the model's next version and describe the
    Batch job that packages it (made from a parent version as ``lineage`` says, if given)."""
    check_source(request.source, request.tenant_id, artifacts_bucket)
    model_name = request.model_name or default_model_name(request.source)
    record = registry.open_version(
        request,
        model_name=model_name,
        correlation_id=correlation_id,
        execution_arn=execution_arn,
        artifacts_bucket=artifacts_bucket,
        lineage=lineage,
    )
    return _plan_for(
        record,
        approval_status=request.approval_status,
        description=request.description or f"{model_name} version {record.version}",
    )


def plan_registration_retry(retry: RegistrationRetry, registry: ModelRegistry) -> PackagingPlan:
    """The plan that registers again a version whose package is complete.

    Only a REGISTRATION_FAILED version of the tenant's: another tenant's, like a missing one,
    is :class:`~maas.exceptions.NotFound`; any other status is a
    :class:`~maas.exceptions.Conflict`. The plan is the version's own (its job, under the
    execution that packaged it), so the registration checks the same manifest and finds the
    model package an earlier attempt may have made.
    """
    record = registry.get(retry.tenant_id, retry.model_name, retry.version)
    if record.status is not VersionStatus.REGISTRATION_FAILED:
        raise Conflict(
            f"model: version {record.version} of {record.model_name!r} is "
            f"{record.status.value}; only a {VersionStatus.REGISTRATION_FAILED.value} version "
            "can be registered again"
        )
    return _plan_for(
        record,
        approval_status=record.approval_status or ApprovalStatus.PENDING,
        description=f"{record.model_name} version {record.version}",
    )


def _plan_for(
    record: ModelVersionRecord, *, approval_status: ApprovalStatus, description: str
) -> PackagingPlan:
    job = PackagingJob(
        tenant_id=record.tenant_id,
        model_name=record.model_name,
        version=record.version,
        correlation_id=record.correlation_id,
        source=record.source,
        serving=record.serving,
        artifact_uri=record.artifact_uri,
        lineage=record.lineage,
    )
    return PackagingPlan(
        tenant_id=record.tenant_id,
        model_name=record.model_name,
        version=record.version,
        approval_status=approval_status,
        description=description,
        job=job,
        job_name=_job_name(record.tenant_id, record.model_name, record.version),
        container_overrides={
            "Environment": [{"Name": JOB_ENVIRONMENT_VARIABLE, "Value": job.model_dump_json()}]
        },
    )


def _job_name(tenant_id: str, model_name: str, version: int) -> str:
    """A Batch job name (128 characters of letters, digits, - and _).

    Examples
    --------
    >>> _job_name("acme", "glm-4-9b-chat", 3)
    'package-acme-glm-4-9b-chat-3'
    """
    return f"package-{tenant_id}-{model_name}-{version}"[:128]


def read_manifest(job: PackagingJob, s3: Any) -> PackageManifest:
    """The manifest the job wrote, checked against the job and against what is in S3.

    The manifest is written last; its files must all be there with the sizes it lists.
    """
    bucket, prefix = split_s3_uri(job.artifact_uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=f"{prefix}{MANIFEST_FILE}")["Body"].read()
    except Exception as exc:
        raise IntegrityError(
            f"the packaging job finished but wrote no manifest at {job.artifact_uri}"
            f"{MANIFEST_FILE}: {exc}"
        ) from None
    manifest = PackageManifest.model_validate_json(body)
    expected = (job.tenant_id, job.model_name, job.version, job.correlation_id, job.artifact_uri)
    found = (
        manifest.tenant_id,
        manifest.model_name,
        manifest.version,
        manifest.correlation_id,
        manifest.artifact_uri,
    )
    if found != expected:
        raise IntegrityError(f"the manifest at {job.artifact_uri} is for {found}, not {expected}")
    stored = _object_sizes(s3, bucket, prefix)
    for packaged in manifest.files:
        size = stored.get(f"{prefix}{packaged.path}")
        if size != packaged.size:
            raise IntegrityError(
                f"{packaged.path}: the manifest lists {packaged.size} bytes, S3 holds "
                f"{'nothing' if size is None else f'{size} bytes'}"
            )
    return manifest


def _object_sizes(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        sizes.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return sizes


def register_version(
    plan: PackagingPlan, registry: ModelRegistry, packages: ModelPackages, s3: Any
) -> ModelVersionRecord:
    """Register the packaged version: a model package in SageMaker, then the record."""
    manifest = read_manifest(plan.job, s3)
    arn = packages.register(
        manifest, approval_status=plan.approval_status, description=plan.description
    )
    return registry.mark_registered(
        manifest, model_package_arn=arn, approval_status=plan.approval_status
    )


class StepFailure(BaseModel):
    """A caught error as Step Functions hands it to the next state."""

    Error: str
    Cause: FailureCause = ""


def describe_failure(failure: StepFailure) -> str:
    """A person's reading of a caught error's cause.

    A failed ``batch:submitJob.sync`` carries the whole job description as its cause;
    what matters in it is the status reason and the exit code. A failed Lambda task
    carries the runtime's error document, whose stack trace names server paths: only its
    message is kept (the trace is in the function's log).

    Examples
    --------
    >>> import json
    >>> cause = json.dumps({"JobId": "1", "Status": "FAILED",
    ...                     "StatusReason": "Essential container in task exited",
    ...                     "Container": {"ExitCode": 1}})
    >>> describe_failure(StepFailure(Error="States.TaskFailed", Cause=cause))
    'Batch job 1 FAILED: Essential container in task exited (exit code 1)'
    >>> describe_failure(StepFailure(Error="Maas.Conflict", Cause="version 2 is REGISTERED"))
    'version 2 is REGISTERED'
    >>> lambda_error = json.dumps({"errorMessage": "no manifest", "errorType": "Maas.X",
    ...                            "stackTrace": ['  File "/var/task/x.py", line 1']})
    >>> describe_failure(StepFailure(Error="Maas.X", Cause=lambda_error))
    'no manifest'
    """
    return failure_message(failure.Cause)


def reported_failure(failure: StepFailure) -> tuple[str, str]:
    """The error name and cause a caught failure is recorded and announced with.

    Examples
    --------
    >>> reported_failure(StepFailure(Error="States.Timeout", Cause="too slow"))
    ('Maas.PackagingFailed', 'States.Timeout: too slow')
    """
    error, cause = failure.Error, describe_failure(failure)
    if error.startswith(STATES_PREFIX):
        # Step Functions' own names (States.TaskFailed, States.Timeout) say how the step
        # ended, not what went wrong; a Fail state may not raise them as its error either.
        error, cause = PackagingFailed.error_name, f"{failure.Error}: {cause}"
    return error, cause


def fail_version(
    plan: PackagingPlan,
    failure: StepFailure,
    registry: ModelRegistry,
    s3: Any,
    *,
    correlation_id: str,
) -> tuple[ModelVersionRecord, int]:
    """Delete whatever the version left under its prefix, then mark it FAILED.

    Returns the record (its error is the job's own when the job reported one) and the
    number of objects deleted.
    """
    bucket, prefix = split_s3_uri(plan.job.artifact_uri)
    deleted = delete_prefix(s3, bucket, prefix)
    error, cause = reported_failure(failure)
    record = registry.mark_failed(
        plan.tenant_id,
        plan.model_name,
        plan.version,
        correlation_id=correlation_id,
        error=error,
        cause=cause,
    )
    return record, deleted


def fail_registration(
    plan: PackagingPlan, failure: StepFailure, registry: ModelRegistry
) -> ModelVersionRecord:
    """Mark the version REGISTRATION_FAILED and keep its package.

    The packaging job finished and its manifest is written, so the files are the version's
    whole package; a SageMaker or DynamoDB error while registering it says nothing against
    them. Deleting them would throw away hours of download and conversion for an error a
    retry of the registration alone can mend.
    """
    error, cause = reported_failure(failure)
    return registry.mark_registration_failed(
        plan.tenant_id,
        plan.model_name,
        plan.version,
        correlation_id=plan.job.correlation_id,
        error=error,
        cause=cause,
        approval_status=plan.approval_status,
    )


def delete_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix``; return how many there were."""
    if not re.fullmatch(r"[^/]+/[^/]+/[0-9]+/", prefix):
        # Only ever a version's own prefix: never a tenant's or the bucket's.
        raise ValueError(f"refusing to delete under {prefix!r}: not a version prefix")
    keys = list(_object_sizes(s3, bucket, prefix))
    for start in range(0, len(keys), 1000):
        batch = [{"Key": name} for name in keys[start : start + 1000]]
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if response.get("Errors"):
            first = response["Errors"][0]
            raise RuntimeError(f"could not delete {first['Key']}: {first['Message']}")
    return len(keys)


__all__ = [
    "JOB_ENVIRONMENT_VARIABLE",
    "PackagingPlan",
    "StepFailure",
    "check_source",
    "delete_prefix",
    "describe_failure",
    "fail_registration",
    "fail_version",
    "plan_packaging",
    "plan_registration_retry",
    "read_manifest",
    "register_version",
    "reported_failure",
]
