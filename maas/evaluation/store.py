"""Evaluation records in the models table, under their tenant's partition.

Keys: ``pk = TENANT#<tenant>``, ``sk = EVALUATION#<evaluation id>``. A record is created
once (a second plan of the same evaluation finds it), then moved forward by the workflow's
steps; each move names the status it expects, so a late or repeated step cannot move an
evaluation back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from maas.aws import error_code
from maas.dynamodb import from_item, key, to_item
from maas.exceptions import Conflict, NotFound
from schemas.evaluation import EvaluationRecord, EvaluationStatus

if TYPE_CHECKING:
    from collections.abc import Collection

_PREFIX = "EVALUATION#"


def _key_values(tenant_id: str, evaluation_id: str) -> dict[str, str]:
    return {"pk": f"TENANT#{tenant_id}", "sk": f"{_PREFIX}{evaluation_id}"}


def now() -> datetime:
    """The time records are stamped with."""
    return datetime.now(UTC)


class EvaluationStore:
    """The evaluations of every tenant in one DynamoDB table (``pk``/``sk`` strings)."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def get(self, tenant_id: str, evaluation_id: str) -> EvaluationRecord:
        """The evaluation, or :class:`NotFound` (also when another tenant has it)."""
        values = _key_values(tenant_id, evaluation_id)
        response = self._dynamodb.get_item(
            TableName=self.table_name, Key=key(values["pk"], values["sk"]), ConsistentRead=True
        )
        if "Item" not in response:
            raise NotFound(f"evaluation: no evaluation {evaluation_id!r} for this tenant")
        return from_item(response["Item"], EvaluationRecord)

    def list(self, tenant_id: str) -> list[EvaluationRecord]:
        """The tenant's evaluations, by id."""
        records: list[EvaluationRecord] = []
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"TENANT#{tenant_id}"},
                ":prefix": {"S": _PREFIX},
            },
        }
        while True:
            page = self._dynamodb.query(**arguments)
            records.extend(from_item(item, EvaluationRecord) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return records
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def create(self, record: EvaluationRecord) -> EvaluationRecord:
        """Store a new evaluation; the same evaluation planned again gets its first record.

        :class:`Conflict` when the id is another execution's evaluation.
        """
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(record, _key_values(record.tenant_id, record.evaluation_id)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            existing = self.get(record.tenant_id, record.evaluation_id)
            if existing.correlation_id != record.correlation_id:
                raise Conflict(
                    f"evaluation: {record.evaluation_id!r} already exists "
                    f"(started by {existing.correlation_id})"
                ) from None
            return existing
        return record

    def save(
        self, record: EvaluationRecord, *, expected: Collection[EvaluationStatus]
    ) -> EvaluationRecord:
        """Replace the record if its stored status is one of ``expected``; else Conflict."""
        record = record.model_copy(update={"updated_at": now()})
        placeholders = {f":s{index}": status for index, status in enumerate(sorted(expected))}
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(record, _key_values(record.tenant_id, record.evaluation_id)),
                ConditionExpression=f"#status IN ({', '.join(placeholders)})",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    name: {"S": status.value} for name, status in placeholders.items()
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.get(record.tenant_id, record.evaluation_id)
            raise Conflict(
                f"evaluation: {record.evaluation_id!r} is {current.status.value}, not "
                + " or ".join(status.value for status in sorted(expected))
            ) from None
        return record


__all__ = ["EvaluationStore", "now"]
