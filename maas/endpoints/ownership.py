"""Ownership of an endpoint in SageMaker, checked from its ``maas:tenant`` tag before any act.

A record says which SageMaker endpoint is the tenant's; the tag says so on the endpoint
itself. The workflows that change or delete an endpoint check both: a record that names an
endpoint SageMaker holds for another tenant (a record written before names were derived per
tenant, or one written by a bug) is refused as if the endpoint did not exist, and nothing of
the other tenant's is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.exceptions import NotFound
from schemas.aws_events import TENANT_TAG

if TYPE_CHECKING:
    from maas.endpoints.records import EndpointRegistry
    from schemas import EndpointRecord

#: What SageMaker answers for an endpoint it does not hold ("Could not find endpoint").
_MISSING = "ValidationException"
#: What IAM answers where the caller's tenant conditions refuse another tenant's endpoint.
_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})


def check_endpoint_owner(sagemaker: Any, record: EndpointRecord) -> None:
    """Raise :class:`NotFound` unless the record's SageMaker endpoint is absent or its tenant's.

    An absent endpoint is no one's: the workflows treat it as already gone. One tagged for
    another tenant, or untagged, answers exactly as a missing record does.
    """
    try:
        described = sagemaker.describe_endpoint(EndpointName=record.sagemaker_endpoint_name)
    except Exception as exc:
        code = error_code(exc)
        if code == _MISSING:
            return
        if code in _DENIED:
            raise _not_found(record) from None
        raise
    tags = sagemaker.list_tags(ResourceArn=described["EndpointArn"]).get("Tags", [])
    owner = next((tag["Value"] for tag in tags if tag["Key"] == TENANT_TAG), None)
    if owner != record.tenant_id:
        raise _not_found(record)


def owned_record(
    registry: EndpointRegistry, sagemaker: Any, tenant_id: str, endpoint_name: str
) -> EndpointRecord:
    """The tenant's record of ``endpoint_name``, its SageMaker endpoint checked to be its own."""
    record = registry.get(tenant_id, endpoint_name)
    check_endpoint_owner(sagemaker, record)
    return record


def _not_found(record: EndpointRecord) -> NotFound:
    # The words EndpointRegistry.get uses for a missing record: the two must not differ.
    return NotFound(f"endpoint_name: no endpoint {record.endpoint_name!r} for this tenant")


__all__ = ["check_endpoint_owner", "owned_record"]
