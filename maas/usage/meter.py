"""Hourly usage counters per tenant and endpoint, kept with atomic ``ADD`` updates.

One item per tenant, hour and endpoint in the models table (``pk = TENANT#<tenant>``,
``sk = USAGE#<hour>#<endpoint>``, the hour as ``2026-12-07T17``): in the tenant's partition,
so the tenant access role's ``dynamodb:LeadingKeys`` condition holds each tenant to its own
counters, and keyed by hour first, so a window is one ``Query`` on a range of sort keys.
Each request adds to its hour's item with ``ADD`` (which creates the item and its numbers
when missing), so concurrent requests never lose a count and nothing is read first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from schemas.usage import UsageCounts

if TYPE_CHECKING:
    from collections.abc import Iterator

#: The sort key prefix of counter items (out of the registry's ``MODEL#``, ``PIPELINE#``...).
USAGE_PREFIX = "USAGE#"
_HOUR_FORMAT = "%Y-%m-%dT%H"
#: Sorts after every endpoint name (letters, digits, hyphens): the end of an hour's range.
_AFTER_NAMES = "~"
_COUNTERS = tuple(UsageCounts.model_fields)
_ONE_HOUR = timedelta(hours=1)


def hour_of(moment: datetime) -> datetime:
    """The start of ``moment``'s hour, in UTC.

    Examples
    --------
    >>> hour_of(datetime(2026, 12, 7, 17, 42, 5, tzinfo=UTC))
    datetime.datetime(2026, 12, 7, 17, 0, tzinfo=datetime.timezone.utc)
    """
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class HourlyUsage:
    """One endpoint's counters for one hour."""

    endpoint_name: str
    hour: datetime
    counts: UsageCounts


class UsageMeter:
    """Records and reads a tenant's usage counters.

    Parameters
    ----------
    table_name
        The models table (``pk``, ``sk``).
    dynamodb
        A boto3 DynamoDB client (the API passes the tenant's).
    """

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def record(
        self,
        tenant_id: str,
        endpoint_name: str,
        counts: UsageCounts,
        *,
        at: datetime | None = None,
    ) -> None:
        """Add ``counts`` to the endpoint's counters of the hour of ``at`` (now by default)."""
        hour = hour_of(at or datetime.now(UTC))
        values = {f":{name}": {"N": str(getattr(counts, name))} for name in _COUNTERS}
        additions = ", ".join(f"{name} :{name}" for name in _COUNTERS)
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key={
                "pk": {"S": f"TENANT#{tenant_id}"},
                "sk": {"S": f"{USAGE_PREFIX}{hour:{_HOUR_FORMAT}}#{endpoint_name}"},
            },
            UpdateExpression=f"ADD {additions} SET endpoint_name = :endpoint, hour_start = :hour",
            ExpressionAttributeValues={
                **values,
                ":endpoint": {"S": endpoint_name},
                ":hour": {"S": hour.isoformat()},
            },
        )

    def read(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[HourlyUsage]:
        """The tenant's counter items of the hours from ``start`` up to ``end`` (excluded)."""
        last = hour_of(end)
        if last == end:
            # ``end`` is exclusive: an hour that starts there is not in the window.
            last -= _ONE_HOUR
        low = f"{USAGE_PREFIX}{hour_of(start):{_HOUR_FORMAT}}"
        high = f"{USAGE_PREFIX}{last:{_HOUR_FORMAT}}#{_AFTER_NAMES}"
        if high < low:
            return
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"TENANT#{tenant_id}"},
                ":low": {"S": low},
                ":high": {"S": high},
            },
            "ConsistentRead": True,
        }
        while True:
            page = self._dynamodb.query(**arguments)
            for item in page.get("Items", []):
                yield HourlyUsage(
                    endpoint_name=item["endpoint_name"]["S"],
                    hour=datetime.fromisoformat(item["hour_start"]["S"]),
                    counts=UsageCounts.model_validate(
                        {name: int(item[name]["N"]) for name in _COUNTERS if name in item}
                    ),
                )
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


__all__ = ["USAGE_PREFIX", "HourlyUsage", "UsageMeter", "hour_of"]
