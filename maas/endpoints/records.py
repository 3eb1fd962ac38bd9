"""The endpoint registry: one DynamoDB item per tenant and endpoint, with guarded transitions.

Every write is conditional, so two executions cannot both own an endpoint and a record is
never moved backwards: a deployment only creates a record that is absent or finished, only
the execution that owns a record moves it on, and teardown cannot start while a deployment
is still creating.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.dynamodb import from_item, key, to_item
from maas.exceptions import Conflict, NotFound
from schemas import EndpointRecord, EndpointStatus

if TYPE_CHECKING:
    from maas.endpoints.plan import DeploymentPlan
    from schemas import AutoscalingConfig

#: status -> the statuses it may be entered from (None: no record yet).
ALLOWED_TRANSITIONS: dict[EndpointStatus, frozenset[EndpointStatus | None]] = {
    EndpointStatus.CREATING: frozenset({None, EndpointStatus.FAILED, EndpointStatus.DELETED}),
    EndpointStatus.IN_SERVICE: frozenset({EndpointStatus.CREATING, EndpointStatus.UPDATING}),
    EndpointStatus.UPDATING: frozenset({EndpointStatus.IN_SERVICE}),
    EndpointStatus.FAILED: frozenset({EndpointStatus.CREATING, EndpointStatus.DELETING}),
    EndpointStatus.DELETING: frozenset(
        {EndpointStatus.IN_SERVICE, EndpointStatus.FAILED, EndpointStatus.DELETING}
    ),
    EndpointStatus.DELETED: frozenset({EndpointStatus.DELETING}),
}


def table_arguments(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments of a registry table: string keys ``pk`` and ``sk``, on demand."""
    return {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _key_values(tenant_id: str, endpoint_name: str) -> dict[str, str]:
    return {"pk": f"TENANT#{tenant_id}", "sk": f"ENDPOINT#{endpoint_name}"}


def _key(tenant_id: str, endpoint_name: str) -> dict[str, dict[str, str]]:
    return key(**_key_values(tenant_id, endpoint_name))


def _now() -> datetime:
    return datetime.now(UTC)


class EndpointRegistry:
    """Reads and guarded writes of endpoint records in one table.

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

    def get(self, tenant_id: str, endpoint_name: str) -> EndpointRecord:
        """The record, or :class:`NotFound` (also when it belongs to another tenant)."""
        response = self._dynamodb.get_item(
            TableName=self.table_name, Key=_key(tenant_id, endpoint_name), ConsistentRead=True
        )
        if "Item" not in response:
            raise NotFound(f"endpoint_name: no endpoint {endpoint_name!r} for this tenant")
        return from_item(response["Item"], EndpointRecord)

    def begin_deployment(self, plan: DeploymentPlan) -> EndpointRecord:
        """Create the record as CREATING, unless a live endpoint of that name exists."""
        request = plan.request
        now = _now()
        record = EndpointRecord(
            tenant_id=plan.tenant_id,
            endpoint_name=plan.endpoint_name,
            status=EndpointStatus.CREATING,
            correlation_id=plan.correlation_id,
            model=request.model,
            model_name=plan.model_name,
            endpoint_config_name=plan.endpoint_config_name,
            variant_name=request.variant_name,
            instance_type=request.instance_type,
            instance_count=request.instance_count,
            autoscaling=request.autoscaling,
            expires_at=request.expires_at,
            schedule_name=plan.schedule.Name if plan.schedule else None,
            created_at=now,
            updated_at=now,
        )
        self._write(record, previous=ALLOWED_TRANSITIONS[EndpointStatus.CREATING], owner=None)
        return record

    def mark_in_service(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str, endpoint_arn: str
    ) -> EndpointRecord:
        """CREATING -> IN_SERVICE, by the execution that is creating it."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.IN_SERVICE,
            correlation_id=correlation_id,
            changes={"endpoint_arn": endpoint_arn, "failure_reason": None},
        )

    def mark_failed(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str, reason: str
    ) -> EndpointRecord:
        """CREATING or DELETING -> FAILED, by the execution that owns it."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.FAILED,
            correlation_id=correlation_id,
            changes={"failure_reason": reason[:2000]},
        )

    def begin_update(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str
    ) -> EndpointRecord:
        """IN_SERVICE -> UPDATING; the scaling or update execution takes ownership."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.UPDATING,
            correlation_id=correlation_id,
            current=self._live(tenant_id, endpoint_name, "was deleted"),
            take_ownership=True,
        )

    def mark_scaled(
        self,
        tenant_id: str,
        endpoint_name: str,
        *,
        correlation_id: str,
        instance_count: int,
        autoscaling: AutoscalingConfig | None,
    ) -> EndpointRecord:
        """UPDATING -> IN_SERVICE with the new count and autoscaling, by the owning execution."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.IN_SERVICE,
            correlation_id=correlation_id,
            changes={
                "instance_count": instance_count,
                "autoscaling": autoscaling,
                "failure_reason": None,
            },
        )

    def abandon_update(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str, reason: str
    ) -> EndpointRecord:
        """UPDATING -> IN_SERVICE as it was, with the reason the change failed."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.IN_SERVICE,
            correlation_id=correlation_id,
            changes={"failure_reason": reason[:2000]},
        )

    def begin_teardown(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str
    ) -> EndpointRecord:
        """IN_SERVICE, FAILED or DELETING -> DELETING; the teardown execution takes ownership."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.DELETING,
            correlation_id=correlation_id,
            current=self._live(tenant_id, endpoint_name, "was already deleted"),
            take_ownership=True,
        )

    def mark_deleted(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str
    ) -> EndpointRecord:
        """DELETING -> DELETED, by the teardown execution."""
        return self._transition(
            tenant_id, endpoint_name, EndpointStatus.DELETED, correlation_id=correlation_id
        )

    def list_records(self) -> list[EndpointRecord]:
        """Every endpoint record of every tenant (the reconciler's view; a full scan)."""
        records: list[EndpointRecord] = []
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "begins_with(sk, :endpoint)",
            "ExpressionAttributeValues": {":endpoint": {"S": "ENDPOINT#"}},
            "ConsistentRead": True,
        }
        while True:
            response = self._dynamodb.scan(**arguments)
            records += [from_item(item, EndpointRecord) for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return records
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def repair(
        self,
        record: EndpointRecord,
        *,
        status: EndpointStatus,
        reason: str,
        correlation_id: str,
    ) -> EndpointRecord:
        """Correct a record that disagrees with SageMaker, if nobody changed it meanwhile.

        The reconciler read ``record``; the write succeeds only while the stored record still
        has that status and owner, so a workflow that moved it on in between wins.
        """
        updated = record.model_copy(
            update={
                "status": status,
                "failure_reason": reason[:2000],
                "correlation_id": correlation_id,
                "updated_at": _now(),
            }
        )
        key_values = _key_values(record.tenant_id, record.endpoint_name)
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(updated, key_values),
                ConditionExpression="#status = :seen AND correlation_id = :owner",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":seen": {"S": record.status.value},
                    ":owner": {"S": record.correlation_id},
                },
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise Conflict(
                f"endpoint_name: endpoint {record.endpoint_name!r} changed while it was checked"
            ) from None
        return updated

    def _live(self, tenant_id: str, endpoint_name: str, deleted: str) -> EndpointRecord:
        """The record, or :class:`NotFound` when its endpoint ``deleted`` (is DELETED)."""
        current = self.get(tenant_id, endpoint_name)
        if current.status is EndpointStatus.DELETED:
            raise NotFound(f"endpoint_name: endpoint {endpoint_name!r} {deleted}")
        return current

    def _transition(
        self,
        tenant_id: str,
        endpoint_name: str,
        status: EndpointStatus,
        *,
        correlation_id: str,
        changes: dict[str, Any] | None = None,
        current: EndpointRecord | None = None,
        take_ownership: bool = False,
    ) -> EndpointRecord:
        current = current or self.get(tenant_id, endpoint_name)
        allowed = ALLOWED_TRANSITIONS[status]
        if current.status not in allowed:
            raise Conflict(
                f"endpoint_name: endpoint {endpoint_name!r} is {current.status.value}; "
                f"it cannot become {status.value}"
            )
        if not take_ownership and current.correlation_id != correlation_id:
            raise Conflict(
                f"endpoint_name: endpoint {endpoint_name!r} is owned by execution "
                f"{current.correlation_id!r}, not {correlation_id!r}"
            )
        updated = current.model_copy(
            update={
                **(changes or {}),
                "status": status,
                "correlation_id": correlation_id,
                "updated_at": _now(),
            }
        )
        self._write(updated, previous=allowed, owner=None if take_ownership else correlation_id)
        return updated

    def _write(
        self,
        record: EndpointRecord,
        *,
        previous: frozenset[EndpointStatus | None],
        owner: str | None,
    ) -> None:
        clauses = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if None in previous:
            clauses.append("attribute_not_exists(pk)")
        statuses = sorted(status.value for status in previous if status is not None)
        if statuses:
            names["#status"] = "status"
            placeholders = []
            for index, status in enumerate(statuses):
                values[f":s{index}"] = {"S": status}
                placeholders.append(f":s{index}")
            clauses.append(f"#status IN ({', '.join(placeholders)})")
        condition = " OR ".join(clauses)
        if owner is not None:
            values[":owner"] = {"S": owner}
            condition = f"({condition}) AND correlation_id = :owner"
        expression: dict[str, Any] = {"ConditionExpression": condition}
        if names:
            expression["ExpressionAttributeNames"] = names
        if values:
            expression["ExpressionAttributeValues"] = values
        try:
            item = to_item(record, _key_values(record.tenant_id, record.endpoint_name))
            self._dynamodb.put_item(TableName=self.table_name, Item=item, **expression)
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise Conflict(
                f"endpoint_name: endpoint {record.endpoint_name!r} already exists "
                f"for tenant {record.tenant_id!r} or changed concurrently"
            ) from None


__all__ = ["ALLOWED_TRANSITIONS", "EndpointRegistry", "table_arguments"]
