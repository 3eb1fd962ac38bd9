"""Start the control plane's workflows on a tenant's behalf, once per request, and read them back.

An execution is named ``<tenant>_<digest>``: tenant ids have no underscore, so the name's
prefix tells whose request it was, and IAM can hold a tenant's session to the executions
named ``<tenant>_*`` (see :mod:`maas.tenancy`). With an idempotency key the digest is derived
from the tenant, the workflow and the key, so a client that retries a request (a lost
response, a timeout) names the same execution, and Step Functions starts nothing new: it
answers with the running execution when the input is the same, or ``ExecutionAlreadyExists``
once it has finished. Without a key every request starts its own execution.

Reading an execution back is allowed only to the tenant whose request started it: the
execution's input names the tenant, and anything else is reported as absent, so that one
tenant cannot learn the names of another's executions.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.exceptions import Conflict, NotFound
from maas.executions import ExecutionSnapshot, read_execution
from schemas.api import Workflow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import BaseModel

#: Hex digits of the digest in an execution's name: the lifecycle's request id, which names its
#: execution, allows 64 characters, and a tenant id 32 of them.
NAME_DIGEST_LENGTH = 24
#: Between the tenant and the digest in an execution's name; never in a tenant id.
TENANT_SEPARATOR = "_"


@dataclass(frozen=True)
class StartedExecution:
    """An execution a request started, or found already started by the same request."""

    workflow: Workflow
    name: str
    arn: str
    started: bool


def execution_name(tenant_id: str, workflow: Workflow, idempotency_key: str | None) -> str:
    """The name of the execution a request starts: derived from its key, random without one.

    Examples
    --------
    >>> execution_name("acme", Workflow.TEARDOWN, "retry-me")
    'acme_a1c6f1f4e3d20e6f3dc155cd'
    >>> execution_name("acme", Workflow.TEARDOWN, "retry-me") == execution_name(
    ...     "acme", Workflow.TEARDOWN, "retry-me"
    ... )
    True
    """
    if idempotency_key is None:
        return f"{tenant_id}{TENANT_SEPARATOR}{uuid.uuid4().hex[:NAME_DIGEST_LENGTH]}"
    seed = f"{tenant_id}/{workflow.value}/{idempotency_key}".encode()
    digest = hashlib.sha256(seed).hexdigest()[:NAME_DIGEST_LENGTH]
    return f"{tenant_id}{TENANT_SEPARATOR}{digest}"


class WorkflowStarter:
    """Starts and reads the executions of the control plane's state machines.

    Parameters
    ----------
    state_machine_arns
        Each workflow's state machine ARN.
    stepfunctions
        A boto3 Step Functions client.
    """

    def __init__(self, state_machine_arns: Mapping[Workflow, str], stepfunctions: Any) -> None:
        self._arns = dict(state_machine_arns)
        self._stepfunctions = stepfunctions

    def find(self, workflow: Workflow, name: str, request: BaseModel) -> StartedExecution | None:
        """The execution ``name`` if a request started it already, or None.

        A retried request is answered with its first execution before anything is checked
        again: the state it was checked against has moved on since. Raises
        :class:`~maas.exceptions.Conflict` when ``name`` ran on another input.
        """
        arn = self.execution_arn(workflow, name)
        try:
            existing = self._stepfunctions.describe_execution(executionArn=arn)
        except Exception as exc:
            if error_code(exc) != "ExecutionDoesNotExist":
                raise
            return None
        if json.loads(existing["input"]) != json.loads(_document(request)):
            raise Conflict(
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new request"
            )
        return StartedExecution(workflow, name, arn, started=False)

    def start(self, workflow: Workflow, name: str, request: BaseModel) -> StartedExecution:
        """Start ``workflow`` on ``request`` under ``name``; a retry finds the same execution.

        Raises :class:`~maas.exceptions.Conflict` when ``name`` already ran on another input:
        an idempotency key reused for a different request.
        """
        try:
            response = self._stepfunctions.start_execution(
                stateMachineArn=self._arns[workflow], name=name, input=_document(request)
            )
        except Exception as exc:
            # Started between find() and now by the same request's retry: answer that one.
            if error_code(exc) != "ExecutionAlreadyExists":
                raise
            found = self.find(workflow, name, request)
            if found is None:
                raise
            return found
        return StartedExecution(workflow, name, str(response["executionArn"]), started=True)

    def read(self, tenant_id: str, workflow: Workflow, name: str) -> ExecutionSnapshot:
        """The execution ``name`` of ``workflow``, if ``tenant_id``'s request started it."""
        arn = self.execution_arn(workflow, name)
        try:
            description = self._stepfunctions.describe_execution(executionArn=arn)
        except Exception as exc:
            # A tenant's session may describe only its own executions (<tenant>_...): IAM
            # refuses another tenant's, which must look exactly like a missing one.
            if error_code(exc) not in {
                "ExecutionDoesNotExist",
                "InvalidArn",
                "AccessDeniedException",
            }:
                raise
            raise NotFound(f"no {workflow.value} execution named {name!r}") from exc
        if _tenant_of(description.get("input")) != tenant_id:
            raise NotFound(f"no {workflow.value} execution named {name!r}")
        return read_execution(self._stepfunctions, arn)

    def execution_arn(self, workflow: Workflow, name: str) -> str:
        """The ARN the execution ``name`` of ``workflow`` has (or will have)."""
        machine_arn = self._arns[workflow]
        return f"{machine_arn.replace(':stateMachine:', ':execution:')}:{name}"


def _document(request: BaseModel) -> str:
    return request.model_dump_json(exclude_none=True)


def _tenant_of(document: str | None) -> str | None:
    try:
        value = json.loads(document or "null")
    except json.JSONDecodeError:
        return None
    tenant = value.get("tenant_id") if isinstance(value, dict) else None
    return tenant if isinstance(tenant, str) else None


__all__ = [
    "NAME_DIGEST_LENGTH",
    "TENANT_SEPARATOR",
    "StartedExecution",
    "Workflow",
    "WorkflowStarter",
    "execution_name",
]
