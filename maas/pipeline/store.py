"""Endpoints' pipelines, kept in the tenant's partition of the model registry's table.

One item per tenant and endpoint (``pk = TENANT#<tenant>``, ``sk = PIPELINE#<endpoint>``), so
the tenant access role's ``dynamodb:LeadingKeys`` condition holds it to its own. The models
table, not the endpoints table: the API may write a tenant's items there (evaluation
reviews), while endpoint records are written by the workflows alone, and ``dynamodb:PutItem``
cannot be narrowed to a sort-key prefix. The prefix keeps these items out of the registry's
reads (``MODEL#``, ``EVALUATION#``, ...). A pipeline outlives a teardown: an endpoint
deployed again under the same name runs it again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from maas.dynamodb import from_item, key, to_item
from schemas.pipeline import DEFAULT_PIPELINE, EndpointPipeline

if TYPE_CHECKING:
    from schemas.pipeline import PipelineSpec


def _key_values(tenant_id: str, endpoint_name: str) -> dict[str, str]:
    return {"pk": f"TENANT#{tenant_id}", "sk": f"PIPELINE#{endpoint_name}"}


class PipelineStore:
    """Reads and writes of endpoints' pipelines.

    Parameters
    ----------
    table_name
        The model registry's table (``pk``, ``sk``).
    dynamodb
        A boto3 DynamoDB client (the API passes the tenant's).
    """

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def get(self, tenant_id: str, endpoint_name: str) -> EndpointPipeline:
        """The endpoint's pipeline, or the default one (``configured`` False) if none was set."""
        response = self._dynamodb.get_item(
            TableName=self.table_name,
            Key=key(**_key_values(tenant_id, endpoint_name)),
            ConsistentRead=True,
        )
        if "Item" not in response:
            return EndpointPipeline(
                endpoint_name=endpoint_name, pipeline=DEFAULT_PIPELINE, configured=False
            )
        return from_item(response["Item"], EndpointPipeline)

    def put(self, tenant_id: str, endpoint_name: str, spec: PipelineSpec) -> EndpointPipeline:
        """Set the endpoint's pipeline, replacing the one it had."""
        stored = EndpointPipeline(
            endpoint_name=endpoint_name,
            pipeline=spec,
            configured=True,
            updated_at=datetime.now(UTC),
        )
        self._dynamodb.put_item(
            TableName=self.table_name,
            Item=to_item(stored, _key_values(tenant_id, endpoint_name)),
        )
        return stored


__all__ = ["PipelineStore"]
