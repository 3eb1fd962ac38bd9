"""What every route needs: the caller's tenant, the services, request bodies made whole, pages.

The tenant is never read from a body or a path: it is the ``custom:tenant_id`` claim of the
caller's token, which API Gateway's Cognito authorizer has verified and put in the request
context (the local API puts it in the same place after verifying a local token).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic
from aws_lambda_powertools.event_handler import Response

from functions.api.problems import InvalidFields, field_problems
from functions.common import int_setting
from maas.aws import client
from maas.endpoints import EndpointRegistry
from maas.endpoints.quotas import TenantQuotas
from maas.evaluation.evalgen.session_table import SessionTable
from maas.evaluation.store import EvaluationStore
from maas.events import log_group_name
from maas.exceptions import ValidationError
from maas.pipeline.store import PipelineStore
from maas.registry import AssertionSetRegistry, ModelRegistry
from maas.tenancy import TenantSessions
from maas.workflows import WorkflowStarter, execution_name
from schemas.api import ExecutionAccepted, Page, Workflow
from schemas.common import TenantId

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from maas.workflows import StartedExecution

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
ItemT = TypeVar("ItemT")

#: The token claim that names the caller's tenant (a Cognito custom attribute).
TENANT_CLAIM = "custom:tenant_id"
_TENANT = pydantic.TypeAdapter(TenantId)


class Unauthenticated(Exception):
    """The request carries no valid tenant claim."""


@dataclass(frozen=True)
class Services:
    """The registries, the workflow starter, the quotas and the clients, acting as one tenant."""

    endpoints: EndpointRegistry
    models: ModelRegistry
    workflows: WorkflowStarter
    quotas: TenantQuotas
    sagemaker: Any
    cloudwatch: Any
    logs: Any
    event_log_group: str
    pipelines: PipelineStore
    #: Any other client acting as the tenant, made on first use (the invoke route's).
    client: Callable[[str], Any]
    evaluations: EvaluationStore
    s3: Any
    stepfunctions: Any
    evalgen: SessionTable
    assertion_sets: AssertionSetRegistry


@functools.cache
def _sessions() -> TenantSessions:
    # On first use (the cold start), not at import: generating the OpenAPI document imports
    # the routes with no environment.
    return TenantSessions(os.environ["TENANT_ROLE_ARN"], client("sts"))


_services: dict[str, tuple[float, Services]] = {}


def services(tenant: str) -> Services:
    """The services acting as ``tenant``: every call is made with the tenant's session, which
    IAM holds to the tenant's own items, endpoints and executions (see :mod:`maas.tenancy`)."""
    credentials = _sessions().for_tenant(tenant)
    kept = _services.get(tenant)
    if kept is not None and kept[0] == credentials.expires_at:
        return kept[1]
    dynamodb = credentials.client("dynamodb")
    made = Services(
        endpoints=EndpointRegistry(os.environ["ENDPOINTS_TABLE_NAME"], dynamodb),
        models=ModelRegistry(os.environ["MODELS_TABLE_NAME"], dynamodb),
        workflows=WorkflowStarter(
            {workflow: os.environ[f"{workflow.name}_STATE_MACHINE_ARN"] for workflow in Workflow},
            credentials.client("stepfunctions"),
        ),
        quotas=TenantQuotas(
            int_setting("TENANT_MAX_ENDPOINTS"), int_setting("TENANT_MAX_INSTANCES")
        ),
        sagemaker=credentials.client("sagemaker"),
        cloudwatch=credentials.client("cloudwatch"),
        logs=credentials.client("logs"),
        event_log_group=log_group_name(os.environ["EVENT_LOG_GROUP_ARN"]),
        pipelines=PipelineStore(os.environ["MODELS_TABLE_NAME"], dynamodb),
        client=functools.cache(credentials.client),
        evaluations=EvaluationStore(os.environ["MODELS_TABLE_NAME"], dynamodb),
        s3=credentials.client("s3"),
        stepfunctions=credentials.client("stepfunctions"),
        evalgen=SessionTable(os.environ["MODELS_TABLE_NAME"], dynamodb),
        assertion_sets=AssertionSetRegistry(os.environ["MODELS_TABLE_NAME"], dynamodb),
    )
    _services[tenant] = (credentials.expires_at, made)
    return made


def tenant_of(router: APIGatewayRouter) -> str:
    """The caller's tenant, from the verified token's claims."""
    authorizer = router.current_event.request_context.authorizer
    return tenant_from_claims(authorizer.claims if authorizer else None)


def tenant_from_claims(claims: Mapping[str, Any] | None) -> str:
    """The tenant the authorizer's ``claims`` name.

    Raises
    ------
    Unauthenticated
        When they name none, or not a valid tenant id.
    """
    try:
        return _TENANT.validate_python((claims or {}).get(TENANT_CLAIM))
    except pydantic.ValidationError:
        raise Unauthenticated(f"the token carries no valid {TENANT_CLAIM} claim") from None


def start_once(
    tenant: str,
    workflow: Workflow,
    request: pydantic.BaseModel,
    idempotency_key: str | None,
    *,
    checks: Callable[[], object] | None = None,
    name: str | None = None,
) -> Response[ExecutionAccepted]:
    """Start ``workflow`` for the request, once per Idempotency-Key; answer ``202 Accepted``.

    A retry (same key) is answered with the first request's execution before ``checks``
    run again, as what they checked has moved on since (the endpoint being created exists
    now). ``name`` is the execution's name when the request had to know it already.
    """
    starter = services(tenant).workflows
    name = name or execution_name(tenant, workflow, idempotency_key)
    if idempotency_key is not None and (found := starter.find(workflow, name, request)):
        return accepted(found)
    if checks is not None:
        checks()
    return accepted(starter.start(workflow, name, request))


def accepted(started: StartedExecution) -> Response[ExecutionAccepted]:
    """``202 Accepted`` for a started workflow, with where to follow it."""
    status_url = f"/v1/executions/{started.workflow.value}/{started.name}"
    body = ExecutionAccepted(
        workflow=started.workflow,
        execution_name=started.name,
        execution_arn=started.arn,
        status_url=status_url,
        started=started.started,
    )
    return Response(
        status_code=202,
        content_type="application/json",
        body=body,
        headers={"Location": status_url},
    )


def complete(model: type[ModelT], body: pydantic.BaseModel, **identity: Any) -> ModelT:
    """``model`` from an API body plus what the API knows (tenant, names from the path).

    The body's own fields were checked already; this runs the model's cross-field checks on
    the whole, and reports a failure per field like any invalid body.
    """
    try:
        return model.model_validate({**body.model_dump(exclude_unset=True), **identity})
    except pydantic.ValidationError as exc:
        raise InvalidFields(field_problems(exc.errors())) from None


def paginate(
    items: Sequence[ItemT], key: Callable[[ItemT], str], limit: int, next_token: str | None
) -> Page[ItemT]:
    """One page of ``items`` in ``key`` order, after the item the token names.

    The token is the last key of the previous page, so a page stays right when items are
    added or removed between two calls.
    """
    ordered = sorted(items, key=key)
    if next_token is not None:
        after = _decode_token(next_token)
        ordered = [item for item in ordered if key(item) > after]
    page = ordered[:limit]
    more = len(ordered) > limit
    token = _encode_token(key(page[-1])) if more and page else None
    return Page[Any](items=list(page), next_token=token)


def _encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode_token(token: str) -> str:
    try:
        value = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        if value:
            return value.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationError("next_token: not a token this API returned")


__all__ = [
    "TENANT_CLAIM",
    "Services",
    "Unauthenticated",
    "accepted",
    "complete",
    "paginate",
    "services",
    "start_once",
    "tenant_from_claims",
    "tenant_of",
]
