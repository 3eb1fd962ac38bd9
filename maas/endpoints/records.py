"""The endpoint registry: one DynamoDB item per tenant and endpoint, with guarded transitions.

Every write is conditional, so two executions cannot both own an endpoint and a record is
never moved backwards: a deployment only creates a record that is absent or finished, only
the execution that owns a record moves it on, and teardown cannot start while a deployment
is still creating. SageMaker's own word on the endpoint (its state change events) is kept
on the record too, ordered by SageMaker's change time (:meth:`EndpointRegistry.observe_sagemaker`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.dynamodb import from_item, key, to_item, to_value
from maas.exceptions import Conflict, NotFound
from schemas import EndpointRecord, EndpointStatus

if TYPE_CHECKING:
    from maas.endpoints.plan import DeploymentPlan
    from schemas import AutoscalingConfig, ModelReference
    from schemas.aws_events import SageMakerEndpointStateChange

#: status -> the statuses it may be entered from (None: no record yet).
ALLOWED_TRANSITIONS: dict[EndpointStatus, frozenset[EndpointStatus | None]] = {
    EndpointStatus.CREATING: frozenset({None, EndpointStatus.FAILED, EndpointStatus.DELETED}),
    EndpointStatus.IN_SERVICE: frozenset(
        {
            EndpointStatus.CREATING,
            EndpointStatus.UPDATING,
            # Started again; or a stop undone before the endpoint was deleted.
            EndpointStatus.STARTING,
            EndpointStatus.STOPPING,
        }
    ),
    EndpointStatus.UPDATING: frozenset({EndpointStatus.IN_SERVICE}),
    EndpointStatus.STOPPING: frozenset({EndpointStatus.IN_SERVICE}),
    # Stopped; or a start undone (the endpoint it had created deleted again).
    EndpointStatus.STOPPED: frozenset({EndpointStatus.STOPPING, EndpointStatus.STARTING}),
    EndpointStatus.STARTING: frozenset({EndpointStatus.STOPPED}),
    EndpointStatus.FAILED: frozenset(
        {
            EndpointStatus.CREATING,
            EndpointStatus.DELETING,
            # SageMaker left the endpoint Failed while it was being deleted or created.
            EndpointStatus.STOPPING,
            EndpointStatus.STARTING,
        }
    ),
    EndpointStatus.DELETING: frozenset(
        {
            EndpointStatus.IN_SERVICE,
            EndpointStatus.FAILED,
            EndpointStatus.DELETING,
            EndpointStatus.STOPPED,
        }
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


def _replacement(
    record: EndpointRecord, names: dict[str, str], values: dict[str, Any], *, fresh: bool
) -> str:
    """The update expression that makes the stored record ``record`` (adds to names, values).

    An update rather than a put: SageMaker's latest word (``sagemaker``), which the inbound
    rule writes at any moment, stays as stored, so a workflow's transition never puts back
    the older one it read. A ``fresh`` record (a new deployment) starts without it.
    """
    attributes = {
        name: value for name, value in to_item(record, {}).items() if fresh or name != _OBSERVATION
    }
    removed = [
        name
        for name in EndpointRecord.model_fields
        if name not in attributes and (fresh or name != _OBSERVATION)
    ]
    assignments = []
    for index, (name, value) in enumerate(attributes.items()):
        names[f"#a{index}"] = name
        values[f":a{index}"] = value
        assignments.append(f"#a{index} = :a{index}")
    for index, name in enumerate(removed):
        names[f"#r{index}"] = name
    expression = f"SET {', '.join(assignments)}"
    if removed:
        expression += f" REMOVE {', '.join(f'#r{index}' for index in range(len(removed)))}"
    return expression


#: The record's attribute that holds SageMaker's latest word.
_OBSERVATION = "sagemaker"
#: How often an event is judged again when the record changed while it was being written.
_OBSERVE_ATTEMPTS = 3
#: SageMaker's statuses that contradict an IN_SERVICE record nobody is changing.
_CONTRADICTIONS = {
    "FAILED": "SageMaker reports the endpoint Failed: {reason}",
    "DELETING": "SageMaker is deleting the endpoint (deleted outside the platform)",
}


def _contradiction(status: EndpointStatus, change: SageMakerEndpointStateChange) -> str | None:
    """Why the record must become FAILED after ``change``, or None when it stays as it is.

    Only an IN_SERVICE record is judged: CREATING, UPDATING, STOPPING, STARTING and
    DELETING records are held by the execution named on them, which follows SageMaker
    itself; FAILED, STOPPED and DELETED records claim no live endpoint.
    """
    template = _CONTRADICTIONS.get(change.endpoint_status)
    if status is not EndpointStatus.IN_SERVICE or template is None:
        return None
    return template.format(reason=change.failure_reason or "no reason given")


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

    def sagemaker_name_of(self, tenant_id: str, endpoint_name: str) -> str:
        """The SageMaker name of the tenant's endpoint ``endpoint_name``, to call it by.

        Whatever a tenant names as an endpoint to call (an embedding model, a judge) is looked
        up here, in the tenant's own partition: another tenant's endpoint, like a missing or a
        deleted one, raises :class:`NotFound`.
        """
        record = self.get(tenant_id, endpoint_name)
        if record.status is EndpointStatus.DELETED:
            raise NotFound(f"endpoint_name: no endpoint {endpoint_name!r} for this tenant")
        return record.sagemaker_endpoint_name

    def begin_deployment(self, plan: DeploymentPlan) -> EndpointRecord:
        """Create the record as CREATING, unless a live endpoint of that name exists."""
        request = plan.request
        now = _now()
        record = EndpointRecord(
            tenant_id=plan.tenant_id,
            endpoint_name=plan.endpoint_name,
            sagemaker_endpoint_name=plan.sagemaker_endpoint_name,
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
            hours=request.hours,
            idle_alarm_name=plan.idle_alarm.AlarmName if plan.idle_alarm else None,
            created_at=now,
            updated_at=now,
        )
        try:
            self._write(record, previous=ALLOWED_TRANSITIONS[EndpointStatus.CREATING], owner=None)
        except Conflict:
            current = self.get(plan.tenant_id, plan.endpoint_name)
            if (current.status, current.correlation_id) == (
                EndpointStatus.CREATING,
                plan.correlation_id,
            ):
                return current  # a retried step: this deployment created the record already
            raise
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

    def mark_updated(
        self,
        tenant_id: str,
        endpoint_name: str,
        *,
        correlation_id: str,
        model: ModelReference,
        model_name: str,
        endpoint_config_name: str,
        instance_type: str,
    ) -> EndpointRecord:
        """UPDATING -> IN_SERVICE on the new model and configuration, by the owning execution."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.IN_SERVICE,
            correlation_id=correlation_id,
            changes={
                "model": model,
                "model_name": model_name,
                "endpoint_config_name": endpoint_config_name,
                "instance_type": instance_type,
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

    def begin_stop(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str
    ) -> EndpointRecord:
        """IN_SERVICE -> STOPPING; the stop execution takes ownership."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.STOPPING,
            correlation_id=correlation_id,
            current=self._live(tenant_id, endpoint_name, "was deleted"),
            take_ownership=True,
        )

    def mark_stopped(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str
    ) -> EndpointRecord:
        """STOPPING -> STOPPED: the endpoint is gone, its model and configuration kept."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.STOPPED,
            correlation_id=correlation_id,
            changes={"endpoint_arn": None, "failure_reason": None},
        )

    def begin_start(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str
    ) -> EndpointRecord:
        """STOPPED -> STARTING; the start execution takes ownership."""
        return self._transition(
            tenant_id,
            endpoint_name,
            EndpointStatus.STARTING,
            correlation_id=correlation_id,
            current=self._live(tenant_id, endpoint_name, "was deleted"),
            take_ownership=True,
        )

    def abandon_hours_change(
        self,
        tenant_id: str,
        endpoint_name: str,
        *,
        correlation_id: str,
        status: EndpointStatus,
        reason: str,
    ) -> EndpointRecord:
        """STOPPING or STARTING back to ``status``, with the reason the change failed.

        A stop undone is IN_SERVICE again, a start undone STOPPED again; an endpoint that
        SageMaker left Failed is FAILED, for teardown to clear.
        """
        return self._transition(
            tenant_id,
            endpoint_name,
            status,
            correlation_id=correlation_id,
            changes={"failure_reason": reason[:2000]},
        )

    def begin_teardown(
        self, tenant_id: str, endpoint_name: str, *, correlation_id: str
    ) -> EndpointRecord:
        """IN_SERVICE, FAILED, STOPPED or DELETING -> DELETING; teardown takes ownership."""
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

    def tenant_records(self, tenant_id: str) -> list[EndpointRecord]:
        """Every endpoint record of one tenant, by endpoint name (a query of its partition)."""
        records: list[EndpointRecord] = []
        prefix = _key_values(tenant_id, "")  # the tenant's partition; sk: any endpoint
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :tenant AND begins_with(sk, :endpoint)",
            "ExpressionAttributeValues": {
                ":tenant": {"S": prefix["pk"]},
                ":endpoint": {"S": prefix["sk"]},
            },
            "ConsistentRead": True,
        }
        while True:
            response = self._dynamodb.query(**arguments)
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
        has that status and owner, so a workflow that moved it on in between wins. ``reason``
        is kept as the failure reason of a record repaired to FAILED.
        """
        updated = record.model_copy(
            update={
                "status": status,
                "failure_reason": reason[:2000] if status is EndpointStatus.FAILED else None,
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

    def observe_sagemaker(
        self, tenant_id: str, change: SageMakerEndpointStateChange, *, correlation_id: str
    ) -> EndpointRecord | None:
        """Keep SageMaker's latest word on the record; fail an unowned live record it contradicts.

        SageMaker's status, reason and change time are always kept, whoever owns the record.
        The record's own status changes only where no execution holds it: an IN_SERVICE
        record whose endpoint SageMaker reports ``FAILED``, or ``DELETING`` (deleted outside
        the platform: the workflows take their record before they delete), becomes FAILED
        with the reason, as the reconciler would repair it. Every write is conditional on
        SageMaker's change time, so an older or repeated event changes nothing, and a status
        change also on the status and owner read, so a workflow that moved the record on wins.

        The record is the one the endpoint's ``maas:endpoint`` tag names in the tenant's
        partition, and only when it names this SageMaker endpoint: a tag copied onto another
        endpoint changes nothing.

        Returns the record as written, or None when the event changed nothing: no such
        record, an older or repeated report, or a report about an earlier endpoint of that
        name (created before this record).
        """
        observation = change.observation()
        for _ in range(_OBSERVE_ATTEMPTS):
            current = self._observed_record(tenant_id, change)
            if current is None:
                return None
            if current.sagemaker and current.sagemaker.sequence >= observation.sequence:
                return None
            reason = _contradiction(current.status, change)
            changes: dict[str, Any] = {"sagemaker": observation}
            if reason:
                changes |= {
                    "status": EndpointStatus.FAILED,
                    "failure_reason": reason[:2000],
                    "correlation_id": correlation_id,
                    "updated_at": _now(),
                }
            try:
                self._observe(current, changes, sequence=observation.sequence, guard=bool(reason))
            except Conflict:
                continue  # a newer report or a workflow came first: judge again on what is there
            return current.model_copy(update=changes)
        return None

    def _observed_record(
        self, tenant_id: str, change: SageMakerEndpointStateChange
    ) -> EndpointRecord | None:
        """The record ``change`` is about: the tenant's record its ``maas:endpoint`` tag names,
        if that record names this SageMaker endpoint, created no later than the endpoint."""
        name = change.tenant_endpoint_name
        if name is None:
            return None
        try:
            current = self.get(tenant_id, name)
        except NotFound:
            return None
        if current.sagemaker_endpoint_name != change.endpoint_name:
            return None
        if change.created_at < current.created_at.replace(microsecond=0):
            return None
        return current

    def _observe(
        self, current: EndpointRecord, changes: dict[str, Any], *, sequence: int, guard: bool
    ) -> None:
        """Set ``changes`` unless a newer report is kept (or, ``guard``, the record moved on)."""
        names = {"#sagemaker": "sagemaker", "#sequence": "sequence"}
        values: dict[str, Any] = {":sequence": {"N": str(sequence)}}
        condition = "(attribute_not_exists(#sagemaker) OR #sagemaker.#sequence < :sequence)"
        if guard:
            names["#status"] = "status"
            values |= {
                ":seen": {"S": current.status.value},
                ":owner": {"S": current.correlation_id},
            }
            condition += " AND #status = :seen AND correlation_id = :owner"
        # As the record's own serialisation stores them (enums, datetimes, nested models).
        stored = current.model_copy(update=changes).model_dump(
            mode="json", include=set(changes), exclude_none=True
        )
        assignments = []
        for index, (name, value) in enumerate(stored.items()):
            names[f"#f{index}"] = name
            values[f":v{index}"] = to_value(value)
            assignments.append(f"#f{index} = :v{index}")
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=_key(current.tenant_id, current.endpoint_name),
                UpdateExpression=f"SET {', '.join(assignments)}",
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise Conflict(
                f"endpoint_name: endpoint {current.endpoint_name!r} changed while it was observed"
            ) from None

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
        if current.status is status and current.correlation_id == correlation_id:
            # A retried step (its first invocation wrote, then timed out) finds its work done.
            return current
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
        expression: dict[str, Any] = {
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        expression["UpdateExpression"] = _replacement(record, names, values, fresh=None in previous)
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=_key(record.tenant_id, record.endpoint_name),
                **expression,
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise Conflict(
                f"endpoint_name: endpoint {record.endpoint_name!r} already exists "
                f"for tenant {record.tenant_id!r} or changed concurrently"
            ) from None


__all__ = ["ALLOWED_TRANSITIONS", "EndpointRegistry", "table_arguments"]
