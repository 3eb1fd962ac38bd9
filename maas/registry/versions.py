"""Model versions in DynamoDB: numbers that only increase, records that only move forward.

Layout, one partition per tenant: the model's item ``MODEL#<model>`` holds the counter of
its versions; each version is ``MODEL#<model>#VERSION#<0000000001>``, so a query lists a
model's versions in order. Every write is conditional: a version is created once, only
while it is PACKAGING does it take progress or change status, and only the execution that
opened it may close it. A REGISTERED version is immutable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.dynamodb import from_item, key, to_item, to_value
from maas.exceptions import Conflict, NotFound
from schemas.packaging import ApprovalStatus, ModelVersionRecord, VersionStatus

if TYPE_CHECKING:
    from schemas.aws_events import ServiceStatus
    from schemas.packaging import (
        PackageManifest,
        PackagingJob,
        PackagingRequest,
        VersionProgress,
    )
    from schemas.quantization import VersionLineage

#: Longest error cause kept on a record; DynamoDB items stop at 400 KB.
MAX_CAUSE_LENGTH = 4000


def _partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _model_sort_key(model_name: str) -> str:
    return f"MODEL#{model_name}"


def _version_sort_key(model_name: str, version: int) -> str:
    return f"MODEL#{model_name}#VERSION#{version:010d}"


def _now() -> datetime:
    return datetime.now(UTC)


class ModelRegistry:
    """Reads and guarded writes of model versions in one table.

    Parameters
    ----------
    table_name
        The DynamoDB table (partition key ``pk``, sort key ``sk``, both strings).
    dynamodb
        A boto3 DynamoDB client.
    """

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    # -- reads -----------------------------------------------------------------------

    def get(self, tenant_id: str, model_name: str, version: int) -> ModelVersionRecord:
        """The version, or :class:`NotFound` (also when another tenant has it)."""
        response = self._dynamodb.get_item(
            TableName=self.table_name,
            Key=key(_partition(tenant_id), _version_sort_key(model_name, version)),
            ConsistentRead=True,
        )
        if "Item" not in response:
            raise NotFound(f"model: no version {version} of model {model_name!r} for this tenant")
        return from_item(response["Item"], ModelVersionRecord)

    def list_versions(self, tenant_id: str, model_name: str) -> list[ModelVersionRecord]:
        """Every version of the model, oldest first."""
        return self._query(tenant_id, f"{_model_sort_key(model_name)}#VERSION#")

    def tenant_versions(self, tenant_id: str) -> list[ModelVersionRecord]:
        """Every version of every model of the tenant, by model name, oldest version first."""
        return self._query(tenant_id, "MODEL#")

    def _query(self, tenant_id: str, sort_key_prefix: str) -> list[ModelVersionRecord]:
        records: list[ModelVersionRecord] = []
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": _partition(tenant_id)},
                ":prefix": {"S": sort_key_prefix},
            },
            "ConsistentRead": True,
        }
        while True:
            response = self._dynamodb.query(**arguments)
            # A model's own item (its version counter) sorts among its versions: skip it.
            records += [
                from_item(item, ModelVersionRecord)
                for item in response["Items"]
                if "#VERSION#" in item["sk"]["S"]
            ]
            if "LastEvaluatedKey" not in response:
                return records
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- the packaging workflow's writes ---------------------------------------------

    def open_version(
        self,
        request: PackagingRequest,
        *,
        model_name: str,
        correlation_id: str,
        execution_arn: str | None,
        artifacts_bucket: str,
        lineage: VersionLineage | None = None,
    ) -> ModelVersionRecord:
        """Allocate the model's next version number and record it PACKAGING.

        A retry by the same execution gets the version it already opened, not a new one.
        ``lineage`` names the version it is made from (a quantization's parent).
        """
        tenant_id = request.tenant_id
        for existing in self.list_versions(tenant_id, model_name):
            if existing.correlation_id == correlation_id:
                return existing
        now = _now()
        counter = self._dynamodb.update_item(
            TableName=self.table_name,
            Key=key(_partition(tenant_id), _model_sort_key(model_name)),
            UpdateExpression=(
                "ADD latest_version :one "
                "SET created_at = if_not_exists(created_at, :now), model_name = :model"
            ),
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":now": {"S": now.isoformat()},
                ":model": {"S": model_name},
            },
            ReturnValues="UPDATED_NEW",
        )
        version = int(counter["Attributes"]["latest_version"]["N"])
        record = ModelVersionRecord(
            tenant_id=tenant_id,
            model_name=model_name,
            version=version,
            status=VersionStatus.PACKAGING,
            source=request.source,
            serving=request.serving,
            correlation_id=correlation_id,
            execution_arn=execution_arn,
            artifact_uri=f"s3://{artifacts_bucket}/{tenant_id}/{model_name}/{version}/",
            lineage=lineage,
            created_at=now,
            updated_at=now,
        )
        self._dynamodb.put_item(
            TableName=self.table_name,
            Item=to_item(record, self._key_values(record)),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return record

    def record_progress(
        self, tenant_id: str, model_name: str, version: int, progress: VersionProgress
    ) -> None:
        """Note what the packaging job is doing; ignored once the version left PACKAGING."""
        self._update_packaging(
            tenant_id,
            model_name,
            version,
            {"progress": progress.model_dump(mode="json", exclude_none=True)},
        )

    def record_job_failure(
        self, tenant_id: str, model_name: str, version: int, *, error: str, cause: str
    ) -> None:
        """Keep the packaging job's own account of its failure for the workflow to report."""
        self._update_packaging(
            tenant_id,
            model_name,
            version,
            {"error": error, "cause": cause[:MAX_CAUSE_LENGTH]},
        )

    def observe_packaging_job(
        self, job: PackagingJob, observation: ServiceStatus
    ) -> ServiceStatus | None:
        """Keep what Batch last said about the version's packaging job, while it packages.

        Only annotates: the workflow alone registers or fails the version. The write holds
        only for the execution that opened the version, while it is PACKAGING, and when no
        later report of the job is kept (``observation.sequence``), so an older or repeated
        event changes nothing. Returns what was kept, or None.
        """
        applied = self._update_packaging(
            job.tenant_id,
            job.model_name,
            job.version,
            {"packaging_job": observation.model_dump(mode="json", exclude_none=True)},
            guard=(
                "correlation_id = :owner "
                "AND (attribute_not_exists(#job) OR #job.#sequence < :sequence)",
                {"#job": "packaging_job", "#sequence": "sequence"},
                {
                    ":owner": {"S": job.correlation_id},
                    ":sequence": {"N": str(observation.sequence)},
                },
            ),
        )
        return observation if applied else None

    def mark_registered(
        self,
        manifest: PackageManifest,
        *,
        model_package_arn: str,
        approval_status: ApprovalStatus,
    ) -> ModelVersionRecord:
        """PACKAGING (or REGISTRATION_FAILED, a retry) -> REGISTERED with what the package
        holds, for the execution that opened the version."""
        current = self.get(manifest.tenant_id, manifest.model_name, manifest.version)
        self._check_owner(
            current,
            manifest.correlation_id,
            allowed=(VersionStatus.PACKAGING, VersionStatus.REGISTRATION_FAILED),
        )
        updated = current.model_copy(
            update={
                "status": VersionStatus.REGISTERED,
                "resolved_revision": manifest.resolved_revision,
                "image_uri": manifest.image_uri,
                "instance_type": manifest.instance_type,
                "environment": manifest.environment,
                "advisor_report": manifest.advisor_report,
                # The job's measurements complete the lineage the version was opened with.
                "lineage": manifest.lineage or current.lineage,
                "model_package_arn": model_package_arn,
                "approval_status": approval_status,
                "progress": None,
                "error": None,
                "cause": None,
                "updated_at": _now(),
            }
        )
        self._replace_packaging(updated, owner=manifest.correlation_id, expected=current.status)
        return updated

    def mark_registration_failed(
        self,
        tenant_id: str,
        model_name: str,
        version: int,
        *,
        correlation_id: str,
        error: str,
        cause: str,
        approval_status: ApprovalStatus,
    ) -> ModelVersionRecord:
        """PACKAGING -> REGISTRATION_FAILED: the package is whole, only registering it failed.

        The files stay under the version's prefix and the record keeps the approval asked
        for, so the registration can be retried (to REGISTERED) without packaging again. A
        retry that fails again keeps its own error.
        """
        current = self.get(tenant_id, model_name, version)
        self._check_owner(
            current,
            correlation_id,
            allowed=(VersionStatus.PACKAGING, VersionStatus.REGISTRATION_FAILED),
        )
        updated = current.model_copy(
            update={
                "status": VersionStatus.REGISTRATION_FAILED,
                "approval_status": approval_status,
                "progress": None,
                "error": error,
                "cause": cause[:MAX_CAUSE_LENGTH],
                "updated_at": _now(),
            }
        )
        self._replace_packaging(updated, owner=correlation_id, expected=current.status)
        return updated

    def mark_failed(
        self,
        tenant_id: str,
        model_name: str,
        version: int,
        *,
        correlation_id: str,
        error: str,
        cause: str,
    ) -> ModelVersionRecord:
        """PACKAGING -> FAILED. The job's own error, when it recorded one, is the one kept.

        The workflow only sees that the Batch job exited non-zero; the job knew why.
        """
        current = self.get(tenant_id, model_name, version)
        if current.status is VersionStatus.FAILED and current.correlation_id == correlation_id:
            return current
        self._check_owner(current, correlation_id)
        updated = current.model_copy(
            update={
                "status": VersionStatus.FAILED,
                "error": current.error or error,
                "cause": (current.cause or cause)[:MAX_CAUSE_LENGTH],
                "updated_at": _now(),
            }
        )
        self._replace_packaging(updated, owner=correlation_id, expected=current.status)
        return updated

    # -- helpers ---------------------------------------------------------------------

    def reject(
        self, tenant_id: str, model_name: str, version: int, *, reason: str
    ) -> ModelVersionRecord:
        """Mark a REGISTERED version Rejected (an evaluation's gate failed); deploys refuse it.

        Rejecting a rejected version changes nothing. :class:`NotFound` when there is no such
        version, :class:`Conflict` when it is not registered.
        """
        record = self.get(tenant_id, model_name, version)
        if record.status is not VersionStatus.REGISTERED:
            raise Conflict(
                f"model: version {version} of {model_name!r} is {record.status.value}, "
                "not REGISTERED"
            )
        if record.approval_status is ApprovalStatus.REJECTED:
            return record
        updated = record.model_copy(
            update={
                "approval_status": ApprovalStatus.REJECTED,
                "approval_reason": reason[:1000],
                "updated_at": _now(),
            }
        )
        self._dynamodb.put_item(
            TableName=self.table_name,
            Item=to_item(updated, self._key_values(updated)),
            ConditionExpression="#status = :registered",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":registered": {"S": VersionStatus.REGISTERED.value}},
        )
        return updated

    @staticmethod
    def _key_values(record: ModelVersionRecord) -> dict[str, str]:
        return {
            "pk": _partition(record.tenant_id),
            "sk": _version_sort_key(record.model_name, record.version),
        }

    @staticmethod
    def _check_owner(
        record: ModelVersionRecord,
        correlation_id: str,
        *,
        allowed: tuple[VersionStatus, ...] = (VersionStatus.PACKAGING,),
    ) -> None:
        if record.status not in allowed:
            raise Conflict(
                f"model: version {record.version} of {record.model_name!r} is "
                f"{record.status.value}; versions are immutable once packaging ends"
            )
        if record.correlation_id != correlation_id:
            raise Conflict(
                f"model: version {record.version} of {record.model_name!r} belongs to "
                f"execution {record.correlation_id!r}, not {correlation_id!r}"
            )

    def _replace_packaging(
        self, record: ModelVersionRecord, *, owner: str, expected: VersionStatus
    ) -> None:
        """Write ``record`` if the version is still ``expected`` (as read) and ``owner``'s."""
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(record, self._key_values(record)),
                ConditionExpression="#status = :expected AND correlation_id = :owner",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":expected": {"S": expected.value},
                    ":owner": {"S": owner},
                },
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise Conflict(
                f"model: version {record.version} of {record.model_name!r} changed concurrently"
            ) from None

    def _update_packaging(
        self,
        tenant_id: str,
        model_name: str,
        version: int,
        changes: dict[str, Any],
        *,
        guard: tuple[str, dict[str, str], dict[str, Any]] | None = None,
    ) -> bool:
        """Set ``changes`` while the version is PACKAGING; False when it was not.

        ``guard`` adds a condition (expression, its names, its values) that must hold too.
        """
        # A late report about a version that already left PACKAGING changes nothing.
        names = {"#status": "status", "#updated": "updated_at"}
        values: dict[str, Any] = {
            ":packaging": {"S": VersionStatus.PACKAGING.value},
            ":updated": {"S": _now().isoformat()},
        }
        condition = "#status = :packaging"
        if guard:
            condition = f"{condition} AND ({guard[0]})"
            names |= guard[1]
            values |= guard[2]
        assignments = ["#updated = :updated"]
        for index, (name, value) in enumerate(changes.items()):
            names[f"#f{index}"] = name
            values[f":v{index}"] = to_value(value)
            assignments.append(f"#f{index} = :v{index}")
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=key(_partition(tenant_id), _version_sort_key(model_name, version)),
                UpdateExpression=f"SET {', '.join(assignments)}",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True


__all__ = ["MAX_CAUSE_LENGTH", "ModelRegistry"]
