"""One teardown per endpoint, however many ``DELETE``s ask for it at once.

A teardown takes the endpoint's record (``DELETING``, owned by its execution); a second
teardown started beside it took the record over, and the first then failed on its next
write ("owned by execution ..."): two ``DELETE``s of one endpoint, each with its own
Idempotency-Key (the SDK sends a fresh one per call), reported a failed teardown for an
endpoint that was deleted. So a ``DELETE`` answers the teardown already under way when there
is one (``202``, ``started: false``), and otherwise names its execution after the endpoint as
it is now, not after the caller's key: two ``DELETE``s that read the same record name the
same execution, which Step Functions starts once and answers both with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.api.context import accepted, services
from maas.endpoints.records import ALLOWED_TRANSITIONS
from maas.exceptions import Conflict, NotFound
from maas.workflows import execution_name
from schemas.api import Workflow
from schemas.endpoint import EndpointRecord, EndpointStatus

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

    from schemas.api import ExecutionAccepted
    from schemas.deployment import TeardownRequest


def start_teardown(request: TeardownRequest) -> Response[ExecutionAccepted]:
    """Start ``teardown`` for the request, or answer the one under way for the endpoint.

    Raises ``Maas.NotFound`` for an endpoint the tenant does not have (or has deleted),
    ``Maas.Conflict`` for one whose state forbids it now (being updated) or that is being
    torn down with other options (``delete_model``).
    """
    tenant, name = request.tenant_id, request.endpoint_name
    record = services(tenant).endpoints.get(tenant, name)
    if record.status is EndpointStatus.DELETED:
        raise NotFound(f"endpoint {name!r} is deleted")
    starter = services(tenant).workflows
    running = _running_teardown(record)
    if running is not None:
        try:
            # The one under way, if it was asked the same (Conflict for other options).
            found = starter.find(Workflow.TEARDOWN, running, request)
        except Conflict:
            raise _other_options(name, running) from None
        if found is not None:
            return accepted(found)
    if record.status not in ALLOWED_TRANSITIONS[EndpointStatus.DELETING]:
        raise Conflict(
            f"endpoint {name!r} is {record.status.value}; it cannot become DELETING now "
            "(wait for the change under way to finish)"
        )
    execution = execution_name(tenant, Workflow.TEARDOWN, _teardown_key(record))
    try:
        started = starter.find(Workflow.TEARDOWN, execution, request)
        if started is None or not _is_running(record, started.name):
            # None yet; or one that stopped before it took the record (the record would
            # name it otherwise): a new one, under a name of its own.
            fresh = (
                execution if started is None else execution_name(tenant, Workflow.TEARDOWN, None)
            )
            started = starter.start(Workflow.TEARDOWN, fresh, request)
    except Conflict:
        raise _other_options(name, execution) from None
    return accepted(started)


def _other_options(name: str, execution: str) -> Conflict:
    return Conflict(
        f"endpoint {name!r} is being torn down already, with other options (delete_model): "
        f"follow /v1/executions/{Workflow.TEARDOWN.value}/{execution}; a DELETE is answered "
        "with the teardown under way whatever its Idempotency-Key"
    )


def _teardown_key(record: EndpointRecord) -> str:
    # The endpoint as this request read it: this deployment of it (created_at) and the
    # execution that last changed it. A teardown changes the latter as it takes the record,
    # so a later DELETE finds it by the record instead; a failed one leaves its own name there,
    # so a DELETE after it starts a new teardown.
    return f"{record.endpoint_name}/{record.created_at.isoformat()}/{record.correlation_id}"


def _running_teardown(record: EndpointRecord) -> str | None:
    """The name of the teardown that holds the record and still runs, if one does."""
    if record.status is not EndpointStatus.DELETING:
        return None
    if not _is_running(record, record.correlation_id):
        return None  # it stopped: a new teardown takes the record over
    return record.correlation_id


def _is_running(record: EndpointRecord, execution: str) -> bool:
    try:
        snapshot = services(record.tenant_id).workflows.read(
            record.tenant_id, Workflow.TEARDOWN, execution
        )
    except NotFound:
        return False
    return snapshot.status == "RUNNING"


__all__ = ["start_teardown"]
