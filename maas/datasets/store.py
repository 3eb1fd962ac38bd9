"""Datasets and their versions: records in the tenant's partition, objects in its folder.

Layout, in the models table's partition ``TENANT#<tenant>``: the dataset is
``DATASET#<name>`` (kind, status, the counter of version numbers, the latest version) and
each version ``DATASETVERSION#<name>#<0000000001>`` (its sha256, size, source). The sort keys
of versions do not start with ``DATASET#``, so listing datasets never reads them. A version's
rows are one object, ``<tenant>/_datasets/<name>/<sha256>.jsonl`` in the artifacts bucket:
the folder ``_datasets`` cannot be a model's name (those have no ``_``), so it never meets a
model's version prefix ``<tenant>/<model>/<version>/``.

Every call is made with the tenant's session (:mod:`maas.tenancy`), and every record read is
checked to be the tenant's before it is answered; another tenant's dataset is a missing one.

How a version is written, so that nothing is left behind (objects or records):

1. a version number is taken from the dataset's counter, on condition that the dataset takes
   versions (``ACTIVE``, or ``CREATING`` for the first);
2. the object is put (its key is its content's address), then the version's record;
3. the dataset's ``latest_version`` is moved, on the same condition. If a ``DELETE`` came in
   between, this fails and the version's record and object are removed again (unless another
   version holds the same object). A delete lists the dataset's whole folder, so even an
   object whose writer died before step 3 goes with it.

A version whose rows are those of an existing version is that version (the same address):
nothing is written, and the answer says it was not created.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from maas.aws import error_code
from maas.dynamodb import from_item, key, to_item
from maas.exceptions import Conflict, NotFound
from schemas.datasets import (
    DatasetDeleted,
    DatasetKind,
    DatasetRecord,
    DatasetStatus,
    DatasetVersionRecord,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.datasets.validation import VersionContent
    from schemas.datasets import DatasetSource

logger = logging.getLogger(__name__)

#: The folder of a tenant's datasets in the artifacts bucket (``<tenant>/_datasets/``).
DATASETS_FOLDER = "_datasets"
#: What S3's DeleteObjects takes at once.
_DELETE_BATCH = 1000
_CONDITION_FAILED = "ConditionalCheckFailedException"


def _partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _dataset_key(name: str) -> str:
    return f"DATASET#{name}"


def _versions_prefix(name: str) -> str:
    return f"DATASETVERSION#{name}#"


def _version_key(name: str, version: int) -> str:
    return f"{_versions_prefix(name)}{version:010d}"


def dataset_folder(tenant_id: str, name: str) -> str:
    """The dataset's folder in the artifacts bucket; the slash ends the name, so ``qa``'s
    folder is never a prefix of ``qa-2``'s.

    >>> dataset_folder("acme", "support-qa")
    'acme/_datasets/support-qa/'
    """
    return f"{tenant_id}/{DATASETS_FOLDER}/{name}/"


def object_key(tenant_id: str, name: str, sha256: str) -> str:
    """Where a version's canonical JSONL is: named by its sha256."""
    return f"{dataset_folder(tenant_id, name)}{sha256}.jsonl"


class DatasetStore:
    """Datasets of one tenant's session: records in ``table_name``, objects in ``bucket``.

    Parameters
    ----------
    table_name
        The models table (partition key ``pk``, sort key ``sk``).
    dynamodb, s3
        boto3 clients acting as the tenant.
    bucket
        The artifacts bucket.
    clock
        Now, as an aware datetime (a test's clock).
    """

    def __init__(
        self,
        table_name: str,
        dynamodb: Any,
        s3: Any,
        bucket: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table_name = table_name
        self.bucket = bucket
        self._dynamodb = dynamodb
        self._s3 = s3
        self._clock = clock

    # -- reads -----------------------------------------------------------------------

    def get(self, tenant_id: str, name: str) -> DatasetRecord:
        """The dataset, or :class:`NotFound` (also when it is another tenant's)."""
        response = self._dynamodb.get_item(
            TableName=self.table_name,
            Key=key(_partition(tenant_id), _dataset_key(name)),
            ConsistentRead=True,
        )
        record = from_item(response["Item"], DatasetRecord) if "Item" in response else None
        if record is None or record.tenant_id != tenant_id:
            raise NotFound(f"name: no dataset {name!r} for this tenant")
        return record

    def list_datasets(self, tenant_id: str) -> list[DatasetRecord]:
        """Every dataset of the tenant, by name."""
        items = self._query(tenant_id, _dataset_key(""))
        records = [from_item(item, DatasetRecord) for item in items]
        return [record for record in records if record.tenant_id == tenant_id]

    def list_versions(self, tenant_id: str, name: str) -> list[DatasetVersionRecord]:
        """The dataset's versions, oldest first (:class:`NotFound` for no such dataset)."""
        self.get(tenant_id, name)
        return self._versions(tenant_id, name)

    def get_version(self, tenant_id: str, name: str, version: int) -> DatasetVersionRecord:
        """One version, or :class:`NotFound`."""
        response = self._dynamodb.get_item(
            TableName=self.table_name,
            Key=key(_partition(tenant_id), _version_key(name, version)),
            ConsistentRead=True,
        )
        record = from_item(response["Item"], DatasetVersionRecord) if "Item" in response else None
        if record is None or record.tenant_id != tenant_id:
            self.get(tenant_id, name)  # a missing dataset is said first
            raise NotFound(f"version: no version {version} of dataset {name!r}")
        return record

    def read_rows(self, record: DatasetVersionRecord) -> bytes:
        """A version's canonical JSONL, as stored."""
        bucket, _, object_name = record.uri.removeprefix("s3://").partition("/")
        body: bytes = self._s3.get_object(Bucket=bucket, Key=object_name)["Body"].read()
        return body

    # -- writes ----------------------------------------------------------------------

    def create(
        self,
        tenant_id: str,
        name: str,
        kind: DatasetKind,
        content: VersionContent,
        source: DatasetSource,
        *,
        description: str | None = None,
    ) -> tuple[DatasetVersionRecord, bool]:
        """A new dataset with ``content`` as its version 1: (the version, True).

        For a name the tenant has, the same kind and content answer the version that holds
        it, (the version, False), as a retry of the creation would; anything else is a
        :class:`Conflict`.
        """
        now = self._clock()
        record = DatasetRecord(
            tenant_id=tenant_id,
            name=name,
            kind=kind,
            description=description,
            status=DatasetStatus.CREATING,
            created_at=now,
            updated_at=now,
        )
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(record, {"pk": _partition(tenant_id), "sk": _dataset_key(name)}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if error_code(exc) != _CONDITION_FAILED:
                raise
            existing = self.get(tenant_id, name)
            held = self._holding(tenant_id, name, content.sha256)
            if existing.kind is kind and existing.status is DatasetStatus.ACTIVE and held:
                return held, False
            raise Conflict(
                f"name: the tenant has a dataset {name!r} ({existing.kind.value}, "
                f"{existing.status.value}); add a version with POST /v1/datasets/{name}/versions"
            ) from None
        try:
            return self._write_version(record, content, source, None), True
        except BaseException:
            # Compensate: a dataset whose first version failed is not left half made.
            self._forget_creation(tenant_id, name)
            raise

    def add_version(
        self,
        dataset: DatasetRecord,
        content: VersionContent,
        source: DatasetSource,
        *,
        description: str | None = None,
    ) -> tuple[DatasetVersionRecord, bool]:
        """``content`` as the dataset's next version: (the version, True); or, when a version
        holds the same content already, (that version, False)."""
        if dataset.status is not DatasetStatus.ACTIVE:
            raise self._not_taking(dataset)
        held = self._holding(dataset.tenant_id, dataset.name, content.sha256)
        if held is not None:
            return held, False
        return self._write_version(dataset, content, source, description), True

    def delete(self, tenant_id: str, name: str) -> DatasetDeleted:
        """Remove the dataset: every object of its folder, every version's record, its record.

        The dataset is marked ``DELETING`` first, so no version is added meanwhile; if a call
        fails on the way, it stays so, and a delete again finishes what is left.
        """
        self.get(tenant_id, name)
        dataset_key = key(_partition(tenant_id), _dataset_key(name))
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=dataset_key,
                UpdateExpression="SET #status = :deleting, updated_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":deleting": {"S": DatasetStatus.DELETING.value},
                    ":now": {"S": self._clock().isoformat()},
                },
            )
        except ClientError as exc:
            if error_code(exc) == _CONDITION_FAILED:
                raise NotFound(f"name: no dataset {name!r} for this tenant") from None
            raise
        objects = self._delete_folder(dataset_folder(tenant_id, name))
        versions = self._versions(tenant_id, name)
        for version in versions:
            self._dynamodb.delete_item(
                TableName=self.table_name,
                Key=key(_partition(tenant_id), _version_key(name, version.version)),
            )
        self._dynamodb.delete_item(TableName=self.table_name, Key=dataset_key)
        return DatasetDeleted(name=name, versions=len(versions), objects=objects)

    # -- the steps -------------------------------------------------------------------

    def _write_version(
        self,
        dataset: DatasetRecord,
        content: VersionContent,
        source: DatasetSource,
        description: str | None,
    ) -> DatasetVersionRecord:
        tenant_id, name = dataset.tenant_id, dataset.name
        number = self._take_number(dataset)
        sha256 = content.sha256
        record = DatasetVersionRecord(
            tenant_id=tenant_id,
            dataset_name=name,
            kind=dataset.kind,
            version=number,
            sha256=sha256,
            uri=f"s3://{self.bucket}/{object_key(tenant_id, name, sha256)}",
            rows=content.rows,
            bytes=len(content.body),
            description=description,
            source=source,
            created_at=self._clock(),
        )
        self._s3.put_object(
            Bucket=self.bucket,
            Key=object_key(tenant_id, name, sha256),
            Body=content.body,
            ContentType="application/x-ndjson",
            Metadata={"sha256": sha256, "dataset": name, "version": str(number)},
        )
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(
                    record, {"pk": _partition(tenant_id), "sk": _version_key(name, number)}
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
            self._settle(dataset, number)
        except BaseException:
            # Compensate: what this call wrote goes, so a failure leaves nothing behind.
            self._undo(tenant_id, name, number, sha256)
            raise
        return record

    def _forget_creation(self, tenant_id: str, name: str) -> None:
        """Remove a dataset record still ``CREATING`` (its first version failed)."""
        try:
            self._dynamodb.delete_item(
                TableName=self.table_name,
                Key=key(_partition(tenant_id), _dataset_key(name)),
                ConditionExpression="#status = :creating",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":creating": {"S": DatasetStatus.CREATING.value}},
            )
        except ClientError as exc:
            # Settled (or deleted) meanwhile: it is not this call's to remove.
            if error_code(exc) != _CONDITION_FAILED:
                logger.exception("dataset %s of %s left CREATING", name, tenant_id)

    def _take_number(self, dataset: DatasetRecord) -> int:
        """The next version number, on condition that the dataset takes versions."""
        try:
            response = self._dynamodb.update_item(
                TableName=self.table_name,
                Key=key(_partition(dataset.tenant_id), _dataset_key(dataset.name)),
                UpdateExpression="ADD version_count :one",
                ConditionExpression="#status IN (:taking, :creating)"
                if dataset.status is DatasetStatus.CREATING
                else "#status = :taking",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":taking": {"S": DatasetStatus.ACTIVE.value},
                    **(
                        {":creating": {"S": DatasetStatus.CREATING.value}}
                        if dataset.status is DatasetStatus.CREATING
                        else {}
                    ),
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if error_code(exc) != _CONDITION_FAILED:
                raise
            raise self._not_taking(self.get(dataset.tenant_id, dataset.name)) from None
        return int(response["Attributes"]["version_count"]["N"])

    def _settle(self, dataset: DatasetRecord, number: int) -> None:
        """Make ``number`` the latest version (and the dataset ``ACTIVE``), unless a later one
        already is; :class:`Conflict` when the dataset stopped taking versions meanwhile."""
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=key(_partition(dataset.tenant_id), _dataset_key(dataset.name)),
                UpdateExpression="SET latest_version = :number, #status = :active, "
                "updated_at = :now",
                ConditionExpression="#status IN (:active, :creating) AND "
                "(attribute_not_exists(latest_version) OR latest_version < :number)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":number": {"N": str(number)},
                    ":active": {"S": DatasetStatus.ACTIVE.value},
                    ":creating": {"S": DatasetStatus.CREATING.value},
                    ":now": {"S": self._clock().isoformat()},
                },
            )
        except ClientError as exc:
            if error_code(exc) != _CONDITION_FAILED:
                raise
            now = self.get(dataset.tenant_id, dataset.name)
            if now.status is DatasetStatus.ACTIVE:
                return  # a later version was settled first: it stays the latest
            raise self._not_taking(now) from None

    def _undo(self, tenant_id: str, name: str, number: int, sha256: str) -> None:
        """Remove version ``number``'s record, and its object unless another version holds
        the same content (two writers of the same rows at once share the object). A failure
        here is logged, not raised: the caller raises what went wrong first, and a delete of
        the dataset removes its whole folder and every version record."""
        try:
            self._remove_version(tenant_id, name, number, sha256)
        except Exception:
            logger.exception("version %d of dataset %s of %s not removed", number, name, tenant_id)

    def _remove_version(self, tenant_id: str, name: str, number: int, sha256: str) -> None:
        self._dynamodb.delete_item(
            TableName=self.table_name, Key=key(_partition(tenant_id), _version_key(name, number))
        )
        others = [
            version
            for version in self._versions(tenant_id, name)
            if version.sha256 == sha256 and version.version != number
        ]
        if not others:
            self._s3.delete_object(Bucket=self.bucket, Key=object_key(tenant_id, name, sha256))

    def _holding(self, tenant_id: str, name: str, sha256: str) -> DatasetVersionRecord | None:
        """The first version whose content is ``sha256``, if any."""
        return next(
            (version for version in self._versions(tenant_id, name) if version.sha256 == sha256),
            None,
        )

    def _versions(self, tenant_id: str, name: str) -> list[DatasetVersionRecord]:
        items = self._query(tenant_id, _versions_prefix(name))
        versions = [from_item(item, DatasetVersionRecord) for item in items]
        return [version for version in versions if version.tenant_id == tenant_id]

    def _query(self, tenant_id: str, sort_key_prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": _partition(tenant_id)},
                ":prefix": {"S": sort_key_prefix},
            },
            ConsistentRead=True,
        ):
            items.extend(page.get("Items", []))
        return items

    def _delete_folder(self, folder: str) -> int:
        """Delete every object under ``folder``; how many there were."""
        deleted = 0
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
            keys = [item["Key"] for item in page.get("Contents", [])]
            for start in range(0, len(keys), _DELETE_BATCH):
                batch = keys[start : start + _DELETE_BATCH]
                response = self._s3.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                )
                if errors := response.get("Errors"):
                    first = errors[0]
                    raise RuntimeError(
                        f"S3 kept {len(errors)} objects of {folder}, such as {first.get('Key')} "
                        f"({first.get('Code')}: {first.get('Message')})"
                    )
                deleted += len(batch)
        return deleted

    @staticmethod
    def _not_taking(dataset: DatasetRecord) -> Conflict:
        if dataset.status is DatasetStatus.DELETING:
            return Conflict(f"name: dataset {dataset.name!r} is being deleted")
        return Conflict(
            f"name: dataset {dataset.name!r} is {dataset.status.value}: its creation did not "
            "finish; delete it and create it again"
        )


__all__ = ["DATASETS_FOLDER", "DatasetStore", "dataset_folder", "object_key"]
