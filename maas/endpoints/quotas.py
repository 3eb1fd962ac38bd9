"""Per-tenant quotas on endpoints and instances, held atomically before anything is created.

A tenant's instances are counted at the most each endpoint may run: its autoscaling maximum
when it scales, its instance count otherwise, so that autoscaling can never take a tenant
past its quota. A stopped endpoint still counts (its hours start it again); failed and
deleted ones do not.

Counting the tenant's records and then creating one is a race: twelve deployments planned at
once each count the same nine endpoints and all pass a quota of ten. So the workflows hold
the quota in a :class:`QuotaLedger`, one counter item per tenant in the endpoints table
(the tenant's partition, sort key :data:`LEDGER_SORT_KEY`), changed only by conditional
writes: a deployment takes a *hold* for its endpoint when it is planned (``PlanDeployment``),
scaling grows the hold before it scales (``PlanScaling``), and every change of a record
settles its hold (``RecordEndpointStatus``): released when the record is FAILED or DELETED,
shrunk to what a scaled endpoint now runs. N deployments against a quota of Q then admit
exactly Q, however they race.

:class:`TenantQuotas` checks a request against the tenant's records too, without holding
anything: the API answers at once with it (``403``) before it starts a workflow, which then
holds the quota for real.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.dynamodb import key
from maas.exceptions import Conflict, NotFound, QuotaExceeded
from schemas.endpoint import EndpointStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from maas.endpoints.records import EndpointRegistry
    from schemas.deployment import AutoscalingConfig
    from schemas.endpoint import EndpointRecord

_RELEASED = frozenset({EndpointStatus.FAILED, EndpointStatus.DELETED})
#: Statuses no execution is changing: their record says what the endpoint runs.
_SETTLED = frozenset({EndpointStatus.IN_SERVICE, EndpointStatus.STOPPED})

#: The ledger's sort key, in the tenant's partition (``TENANT#<tenant>``) of the endpoints
#: table, beside the records (``ENDPOINT#<name>``) whose queries it stays out of.
LEDGER_SORT_KEY = "QUOTA"
#: A hold is the ledger's attribute ``hold#<endpoint name>``.
_HOLD_PREFIX = "hold#"
#: A hold whose deployment never wrote its record (its execution stopped between planning
#: and recording, two steps seconds apart) is released after this long.
ORPHAN_AFTER = timedelta(hours=1)
#: How often a refused write is judged again on what the ledger holds then.
_ATTEMPTS = 4


@dataclass(frozen=True)
class TenantQuotas:
    """What one tenant may hold at once."""

    max_endpoints: int
    max_instances: int

    def check_deployment(
        self,
        records: Iterable[EndpointRecord],
        endpoint_name: str,
        instance_count: int,
        autoscaling: AutoscalingConfig | None,
    ) -> None:
        """Raise :class:`QuotaExceeded` if deploying ``endpoint_name`` would exceed a quota."""
        others = [record for record in _held(records) if record.endpoint_name != endpoint_name]
        self.check(
            endpoints=len(others),
            instances=sum(_most_of(record) for record in others),
            wanted=most_instances(instance_count, autoscaling),
            new_endpoint=True,
        )

    def check(self, *, endpoints: int, instances: int, wanted: int, new_endpoint: bool) -> None:
        """Raise :class:`QuotaExceeded` unless ``wanted`` more instances (on a ``new_endpoint``)
        fit beside the ``endpoints`` and ``instances`` the tenant's other endpoints hold."""
        if new_endpoint and endpoints + 1 > self.max_endpoints:
            raise QuotaExceeded(
                f"endpoints: the tenant has {endpoints} of its {self.max_endpoints}; "
                "tear one down first"
            )
        if instances + wanted > self.max_instances:
            raise QuotaExceeded(
                f"instances: the tenant's other endpoints may run {instances} and this one "
                f"{wanted}, above its quota of {self.max_instances}"
            )


def most_instances(instance_count: int, autoscaling: AutoscalingConfig | None) -> int:
    """The most instances an endpoint may run: what its quota counts."""
    return max(instance_count, autoscaling.max_capacity if autoscaling else 0)


def _most_of(record: EndpointRecord) -> int:
    return most_instances(record.instance_count, record.autoscaling)


def _held(records: Iterable[EndpointRecord]) -> list[EndpointRecord]:
    return [record for record in records if record.status not in _RELEASED]


@dataclass(frozen=True)
class Hold:
    """What one endpoint holds of its tenant's quota, and which deployment took it when."""

    instances: int
    owner: str
    at: datetime

    def value(self) -> dict[str, Any]:
        """The hold as a DynamoDB map."""
        return {
            "M": {
                "instances": {"N": str(self.instances)},
                "owner": {"S": self.owner},
                "at": {"S": self.at.isoformat()},
            }
        }

    @classmethod
    def of(cls, value: dict[str, Any]) -> Hold:
        """The hold a DynamoDB map stores."""
        fields = value["M"]
        return cls(
            instances=int(fields["instances"]["N"]),
            owner=fields["owner"]["S"],
            at=datetime.fromisoformat(fields["at"]["S"]),
        )


@dataclass(frozen=True)
class _Ledger:
    """The ledger item as read: the counts and the hold of each endpoint."""

    endpoints: int
    instances: int
    holds: dict[str, Hold]


class _Refused(Exception):
    """A conditional write of the ledger found it other than it expected."""


class QuotaLedger:
    """A tenant's holds on its quotas, in one counter item changed by conditional writes.

    Parameters
    ----------
    quotas
        What each tenant may hold.
    registry
        The endpoint records; the ledger lives in their table, in each tenant's partition.
    dynamodb
        A boto3 DynamoDB client.
    """

    def __init__(self, quotas: TenantQuotas, registry: EndpointRegistry, dynamodb: Any) -> None:
        self.quotas = quotas
        self._registry = registry
        self._dynamodb = dynamodb

    def reserve(self, tenant_id: str, endpoint_name: str, instances: int, *, owner: str) -> None:
        """Hold one endpoint and ``instances`` for the deployment ``owner`` (an execution).

        A retried step finds its hold taken and changes nothing. A name another deployment
        holds (a live endpoint, or one being deployed) keeps that hold, grown to
        ``instances`` if need be: recording the endpoint then decides which deployment wins
        (the loser gives back only a hold of its own), and whichever does is covered. Raises
        :class:`QuotaExceeded` when the tenant's quotas leave no room, once holds their
        records no longer justify have been given back.
        """
        self._hold(tenant_id, endpoint_name, instances, Hold(instances, owner, _now()))

    def grow(self, record: EndpointRecord, instances: int) -> None:
        """Hold at least ``instances`` for the live endpoint of ``record``, before it scales.

        The hold never shrinks here: while the endpoint changes it may run either count, and
        the change's end settles it (:meth:`settle`). An endpoint deployed before the ledger
        existed, with no hold yet, takes one. Raises :class:`QuotaExceeded` when the tenant's
        quotas leave no room.
        """
        fresh = Hold(instances, record.correlation_id, record.created_at)
        self._hold(record.tenant_id, record.endpoint_name, instances, fresh)

    def release(self, tenant_id: str, endpoint_name: str, *, owner: str) -> None:
        """Give back the hold the deployment ``owner`` took, unless it recorded its endpoint.

        For a deployment refused after it was planned (its name taken meanwhile), so that it
        never recorded the endpoint its hold was for. A hold of another deployment, or one
        the record was created under (a step retried after its deployment went on), stays.
        """
        ledger = self._read(tenant_id)
        held = ledger.holds.get(endpoint_name) if ledger else None
        if held is None or held.owner != owner:
            return
        try:
            record = self._registry.get(tenant_id, endpoint_name)
        except NotFound:
            record = None
        if record is None or record.created_at < held.at:
            self._shrink(tenant_id, endpoint_name, held, 0)

    def settle(self, record: EndpointRecord) -> None:
        """Make the endpoint's hold agree with its record, just written.

        A FAILED or DELETED record releases its hold; an IN_SERVICE or STOPPED one keeps what
        it may run now (less, after scaling down or an abandoned scale-up). A record being
        changed keeps its hold as it is, and a hold taken after the record was created (a
        later deployment of the name, still being planned) is not the record's to settle.
        """
        ledger = self._read(record.tenant_id)
        held = ledger.holds.get(record.endpoint_name) if ledger else None
        if held is None:
            return
        target = _settled(held, record, _now())
        if target is not None:
            self._shrink(record.tenant_id, record.endpoint_name, held, target)

    def _hold(self, tenant_id: str, endpoint_name: str, instances: int, fresh: Hold) -> None:
        """Make the endpoint's hold cover ``instances``: ``fresh`` where it has none."""
        for _ in range(_ATTEMPTS):
            held = self._ledger(tenant_id).holds.get(endpoint_name)
            if held is not None and held.instances >= instances:
                return
            wanted = fresh if held is None else Hold(instances, held.owner, held.at)
            with suppress(_Refused):
                self._add(tenant_id, endpoint_name, wanted, previous=held)
                return
            if self._sweep(tenant_id):
                continue
            current = self._ledger(tenant_id)
            if current.holds.get(endpoint_name) != held:
                continue  # the hold changed meanwhile: judged again on what it is now
            self.quotas.check(
                endpoints=current.endpoints - (held is not None),
                instances=current.instances - (held.instances if held else 0),
                wanted=instances,
                new_endpoint=held is None,
            )
            # Room again: the ledger changed between the refused write and the read.
        raise Conflict(
            f"endpoint_name: the tenant's quota changed while {endpoint_name!r} was held"
        )

    # -- the item ------------------------------------------------------------------------

    def _key(self, tenant_id: str) -> dict[str, dict[str, str]]:
        return key(f"TENANT#{tenant_id}", LEDGER_SORT_KEY)

    def _ledger(self, tenant_id: str) -> _Ledger:
        """The tenant's ledger, opened from its records the first time a request needs it."""
        ledger = self._read(tenant_id)
        if ledger is None:
            self._open(tenant_id)
            ledger = self._read(tenant_id)
        if ledger is None:
            raise Conflict("tenant_id: the tenant's quota ledger could not be opened")
        return ledger

    def _read(self, tenant_id: str) -> _Ledger | None:
        """The tenant's ledger, or None before the tenant's first request opens it."""
        response = self._dynamodb.get_item(
            TableName=self._registry.table_name, Key=self._key(tenant_id), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        item = response["Item"]
        return _Ledger(
            endpoints=int(item["endpoints"]["N"]),
            instances=int(item["instances"]["N"]),
            holds={
                name.removeprefix(_HOLD_PREFIX): Hold.of(value)
                for name, value in item.items()
                if name.startswith(_HOLD_PREFIX)
            },
        )

    def _open(self, tenant_id: str) -> None:
        """Create the ledger with a hold for each endpoint the tenant's records hold.

        Endpoints deployed before the ledger existed count from the start. Conditional on
        the item's absence, so of two first requests only one opens it.
        """
        holds = {
            record.endpoint_name: Hold(_most_of(record), record.correlation_id, record.created_at)
            for record in _held(self._registry.tenant_records(tenant_id))
        }
        names = {"#endpoints": "endpoints", "#instances": "instances"}
        values: dict[str, Any] = {
            ":endpoints": {"N": str(len(holds))},
            ":instances": {"N": str(sum(hold.instances for hold in holds.values()))},
        }
        assignments = ["#endpoints = :endpoints", "#instances = :instances"]
        for index, (name, hold) in enumerate(holds.items()):
            names[f"#h{index}"] = f"{_HOLD_PREFIX}{name}"
            values[f":h{index}"] = hold.value()
            assignments.append(f"#h{index} = :h{index}")
        with suppress(_Refused):  # opened by another request meanwhile
            self._update(
                tenant_id,
                f"SET {', '.join(assignments)}",
                "attribute_not_exists(pk)",
                names,
                values,
            )

    def _add(self, tenant_id: str, endpoint_name: str, hold: Hold, previous: Hold | None) -> None:
        """Take ``hold`` in place of ``previous`` (none: a new endpoint), if the quotas allow."""
        grown = hold.instances - (previous.instances if previous else 0)
        names = {"#instances": "instances", "#hold": f"{_HOLD_PREFIX}{endpoint_name}"}
        values: dict[str, Any] = {
            ":hold": hold.value(),
            ":grown": {"N": str(grown)},
            ":room": {"N": str(self.quotas.max_instances - grown)},
        }
        condition = "attribute_exists(pk) AND #instances <= :room"
        if previous is None:
            names["#endpoints"] = "endpoints"
            values |= {":one": {"N": "1"}, ":most": {"N": str(self.quotas.max_endpoints)}}
            condition += " AND attribute_not_exists(#hold) AND #endpoints < :most"
            expression = "SET #hold = :hold ADD #endpoints :one, #instances :grown"
        else:
            condition += f" AND {_unchanged(previous, names, values)}"
            expression = "SET #hold = :hold ADD #instances :grown"
        self._update(tenant_id, expression, condition, names, values)

    def _shrink(self, tenant_id: str, endpoint_name: str, held: Hold, instances: int) -> bool:
        """Hold ``instances`` (none: release the endpoint) where ``held`` was; False if it moved.

        Conditional on the hold as read, so a deployment or scaling that took or grew it
        meanwhile wins, and the shrink is judged again when next settled.
        """
        names = {"#instances": "instances", "#hold": f"{_HOLD_PREFIX}{endpoint_name}"}
        values: dict[str, Any] = {":freed": {"N": str(instances - held.instances)}}
        condition = _unchanged(held, names, values)
        if instances:
            values[":hold"] = Hold(instances, held.owner, held.at).value()
            expression = "SET #hold = :hold ADD #instances :freed"
        else:
            names["#endpoints"] = "endpoints"
            values[":gone"] = {"N": "-1"}
            expression = "REMOVE #hold ADD #endpoints :gone, #instances :freed"
        try:
            self._update(tenant_id, expression, condition, names, values)
        except _Refused:
            return False
        return True

    def _sweep(self, tenant_id: str) -> bool:
        """Settle every hold against the tenant's records; True if any was given back.

        The backstop for a release that never ran (an execution stopped from outside, a
        record repaired by the reconciler): a refused request sweeps before it refuses.
        """
        records = {
            record.endpoint_name: record for record in self._registry.tenant_records(tenant_id)
        }
        now = _now()
        freed = False
        for name, held in self._ledger(tenant_id).holds.items():
            target = _settled(held, records.get(name), now)
            if target is not None and self._shrink(tenant_id, name, held, target):
                freed = True
        return freed

    def _update(
        self,
        tenant_id: str,
        expression: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._registry.table_name,
                Key=self._key(tenant_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise _Refused from None


def _unchanged(held: Hold, names: dict[str, str], values: dict[str, Any]) -> str:
    """The condition that the hold ``#hold`` is still ``held`` (adds to names, values).

    Field by field: DynamoDB compares scalars, and the three together name one hold.
    """
    names |= {"#held_instances": "instances", "#held_owner": "owner", "#held_at": "at"}
    values |= {
        ":held_instances": {"N": str(held.instances)},
        ":held_owner": {"S": held.owner},
        ":held_at": {"S": held.at.isoformat()},
    }
    return (
        "#hold.#held_instances = :held_instances AND #hold.#held_owner = :held_owner "
        "AND #hold.#held_at = :held_at"
    )


def _settled(held: Hold, record: EndpointRecord | None, now: datetime) -> int | None:
    """The instances ``held`` should hold after ``record``: 0 releases it, None leaves it.

    A hold taken after its endpoint's record was created (or with no record at all) is a
    deployment's still being planned, released only when that deployment never recorded
    anything in :data:`ORPHAN_AFTER`.
    """
    if record is None or held.at > record.created_at:
        unrecorded = record is None or record.status in _RELEASED
        return 0 if unrecorded and now - held.at > ORPHAN_AFTER else None
    if record.status in _RELEASED:
        return 0
    most = _most_of(record)
    if record.status in _SETTLED and most < held.instances:
        return most
    return None


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "LEDGER_SORT_KEY",
    "ORPHAN_AFTER",
    "Hold",
    "QuotaLedger",
    "TenantQuotas",
    "most_instances",
]
