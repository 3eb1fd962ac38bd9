"""Make sure the tenant's workflow role exists, and name it to the workflow's later calls.

Input: ``{"request": {...}}``, the workflow's input, of which only ``tenant_id`` is read (the
step runs first, before the plan takes anything, so a failure here leaves nothing to undo; the
plan validates the rest). Output: ``{"role_arn": ...}``, which
the state machine keeps in a variable and gives every SageMaker, Application Auto Scaling and
CloudWatch task as its ``Credentials`` (:mod:`maas.workflow_roles`). A role of that name that
is not the tenant's raises ``Maas.ValidationError``, and the workflow changes nothing.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from pydantic import BaseModel, ConfigDict

from functions.common import StepInput
from maas.aws import client
from maas.validation import parse
from maas.workflow_roles import TenantWorkflowRoles
from schemas.common import TenantId

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

roles = TenantWorkflowRoles(
    client("iam"),
    prefix=os.environ["TENANT_WORKFLOW_ROLE_PREFIX"],
    policy_arn=os.environ["TENANT_WORKFLOW_POLICY_ARN"],
    propagation_seconds=float(os.environ["TENANT_ROLE_PROPAGATION_SECONDS"]),
)

logger = Logger()
tracer = Tracer()


class TenantRequest(BaseModel):
    """Whose request the workflow runs: the rest is the plan's to read."""

    model_config = ConfigDict(extra="ignore")
    tenant_id: TenantId


class ActForTenantInput(StepInput):
    """The task's input."""

    request: TenantRequest


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """The ARN of the tenant's workflow role."""
    step = parse(ActForTenantInput, event)
    return {"role_arn": roles.ensure(step.request.tenant_id)}
