"""Bodies of the REST API that are not workflow requests or records: problems, pages, executions.

Errors follow RFC 9457 (problem details): ``type``, ``title``, ``status``, ``detail`` and
``instance``, plus ``errors``, one entry per bad field, so that a client can point at what to
fix. Operations that start a workflow answer ``202 Accepted`` with an
:class:`ExecutionAccepted` whose ``status_url`` (also the ``Location`` header) is polled.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.common import FailureCause

ItemT = TypeVar("ItemT")

#: The API's OpenAPI document, generated from its routes (``python -m functions.api.openapi``).
OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"

#: Where the problem types are described; ``type`` is this plus the kind of problem.
PROBLEM_TYPE_BASE = "https://maas.dev/problems/"

#: Paths whose ``GET`` needs no token: the Swagger UI page and the OpenAPI document.
PUBLIC_PATHS = ("/docs", "/openapi.json")

#: Lists answer at most this many items per page unless the client asks for fewer.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

_RESPONSE = ConfigDict(extra="forbid")


class Workflow(StrEnum):
    """The workflows a tenant's request starts, by the path segment the API names them with."""

    PACKAGE_MODEL = "package-model"
    DEPLOY_ENDPOINT = "deploy-endpoint"
    SCALE_ENDPOINT = "scale-endpoint"
    UPDATE_ENDPOINT = "update-endpoint"
    STOP_ENDPOINT = "stop-endpoint"
    START_ENDPOINT = "start-endpoint"
    TEARDOWN = "teardown"
    LIFECYCLE = "lifecycle"
    EVALUATE = "evaluate"
    QUANTIZE_MODEL = "quantize-model"

    @property
    def state_machine_id(self) -> str:
        """The manifest's id of the workflow's state machine."""
        return "".join(word.capitalize() for word in self.value.split("-"))


class FieldProblem(BaseModel):
    """One invalid part of a request."""

    model_config = _RESPONSE

    field: str = Field(
        description="Where: the dotted path in the body, or the parameter's name.",
        examples=["autoscaling.min_capacity"],
    )
    message: str = Field(examples=["Input should be greater than or equal to 1"])


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = _RESPONSE

    type: str = Field(
        description="A URI naming the kind of problem.", examples=[f"{PROBLEM_TYPE_BASE}not-found"]
    )
    title: str = Field(description="The kind of problem, for people.", examples=["Not Found"])
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    instance: str | None = Field(default=None, description="The request's path.")
    error_name: str | None = Field(
        default=None,
        description="The control plane's typed error name, as workflows report it.",
        examples=["Maas.NotFound"],
    )
    errors: list[FieldProblem] | None = Field(
        default=None, description="Each invalid field, when the request did not validate."
    )
    request_id: str | None = Field(
        default=None,
        description="The request's id (API Gateway's, also x-amzn-RequestId): the API's log "
        "has what went wrong under it, for a 500 too.",
        examples=["c6af9ac6-7b61-11e6-9a41-93e8deadbeef"],
    )


class GatewayMessage(BaseModel):
    """What API Gateway itself answers, before the function runs: its authorizer's 401.

    Not a problem: API Gateway's default gateway responses are ``{"message": ...}`` as
    ``application/json``.
    """

    message: str = Field(examples=["Unauthorized"])


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; pass ``next_token`` back to get the next one."""

    model_config = _RESPONSE

    items: list[ItemT]
    next_token: str | None = Field(
        default=None, description="Absent on the last page; otherwise the next page's token."
    )


class ExecutionAccepted(BaseModel):
    """A workflow the request started (or found started by the same Idempotency-Key)."""

    model_config = _RESPONSE

    workflow: Workflow
    execution_name: str = Field(description="Also the correlation id of its records and events.")
    execution_arn: str
    status_url: str = Field(description="Where to follow it: GET this path.")
    started: bool = Field(
        description="False when an earlier request with the same Idempotency-Key started it."
    )


class StateVisitView(BaseModel):
    """One entry into one state of an execution."""

    model_config = _RESPONSE

    name: str
    state_type: str
    status: str = Field(description="running, succeeded, caught (failed, then handled) or failed.")
    entered_at: AwareDatetime
    exited_at: AwareDatetime | None = None
    seconds: float | None = None
    attempts: int = Field(description="Task attempts, retries included.")
    error: str | None = None
    cause: FailureCause | None = None


class ExecutionView(BaseModel):
    """A workflow execution: its status and the path it took, state by state."""

    model_config = _RESPONSE

    workflow: Workflow
    execution_name: str
    execution_arn: str
    status: str = Field(examples=["RUNNING", "SUCCEEDED", "FAILED"])
    started_at: AwareDatetime
    stopped_at: AwareDatetime | None = None
    error: str | None = None
    cause: FailureCause | None = None
    output: Any = Field(default=None, description="The workflow's output, once it succeeded.")
    path: list[StateVisitView]
    events: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The events it (and, for a lifecycle, its children) published, as "
        "EventBridge delivered them, oldest first.",
    )


class ModelOverview(BaseModel):
    """A model of the registry: its versions, newest first, summarised."""

    model_config = _RESPONSE

    model_name: str
    latest_version: int
    latest_status: str
    versions: int = Field(ge=1, description="How many versions it has.")
    updated_at: AwareDatetime


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "OPENAPI_FILE",
    "PROBLEM_TYPE_BASE",
    "PUBLIC_PATHS",
    "ExecutionAccepted",
    "ExecutionView",
    "FieldProblem",
    "GatewayMessage",
    "ModelOverview",
    "Page",
    "Problem",
    "StateVisitView",
    "Workflow",
]
