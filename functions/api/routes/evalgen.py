"""``/v1/evalgen/sessions`` and a version's ``assertions``: EvalGen through the API.

A person's thumbs up or down on outputs (sent, or an evaluation's answers with its review's
grades), criteria with candidate assertions from the vetted library, a selection per
criterion of the candidate that agrees best with the grades, and the chosen set stored with
the model version so that the ``assertions`` metric of later evaluations runs it. Sessions
are items of the models table under the tenant's partition
(:mod:`maas.evaluation.evalgen.session_table`); no judge runs here.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import paginate, services, tenant_of
from functions.api.params import Limit, NextToken
from maas.evaluation.evalgen.grading import SessionInfo, SessionStatus
from maas.evaluation.evalgen.records import SESSION_NAME_PATTERN, EvalOutput, Grade
from maas.evaluation.evalgen.selection import SelectionReport
from maas.evaluation.evalgen.sessions import (
    AssertionSetChoice,
    CriteriaSpec,
    GradeSpec,
    SessionSpec,
    begin_session,
)
from maas.registry.assertion_sets import StoredAssertionSet
from schemas.api import DEFAULT_PAGE_SIZE, Page
from schemas.common import ModelName

router = APIGatewayRouter()

Session = Annotated[
    str, Path(pattern=SESSION_NAME_PATTERN, max_length=64, description="The session's name.")
]
Model = Annotated[ModelName, Path(description="The model's name in the registry.")]
Version = Annotated[int, Path(ge=1, description="The version number.")]

_TAGS = ["EvalGen"]
_CREATED: dict[int, Any] = {
    201: {"description": "The session was begun."},
    200: {"description": "The session existed; outputs it did not hold were added."},
}


@router.post("/evalgen/sessions", summary="Begin a grading session", tags=_TAGS, responses=_CREATED)
def create_session(body: SessionSpec) -> Response[SessionStatus]:
    """Outputs to grade, sent or an evaluation's answers (with its review's grades).

    Sent again, the outputs the session does not hold are added; an output id it holds with
    other text, or another task, is a 409.
    """
    tenant = tenant_of(router)
    found = services(tenant)
    session, created = begin_session(
        found.evalgen,
        tenant,
        body,
        evaluations=found.evaluations,
        s3=found.s3,
        bucket=os.environ["ARTIFACTS_BUCKET_NAME"],
    )
    return Response(
        status_code=201 if created else 200,
        content_type="application/json",
        body=session.status(),
        headers={"Location": f"/v1/evalgen/sessions/{session.name}"},
    )


@router.get("/evalgen/sessions", summary="List the grading sessions", tags=_TAGS)
def list_sessions(
    limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> Page[SessionInfo]:
    """The tenant's sessions by name, each with the task it grades for."""
    tenant = tenant_of(router)
    sessions = services(tenant).evalgen.list(tenant)
    return paginate(sessions, lambda info: info.name, limit, next_token)


@router.get("/evalgen/sessions/<name>", summary="Describe a grading session", tags=_TAGS)
def describe_session(name: Session) -> SessionStatus:
    """Outputs, graded (up, down) and ungraded; the criteria; the latest selection."""
    tenant = tenant_of(router)
    return services(tenant).evalgen.get(tenant, name).status()


@router.get("/evalgen/sessions/<name>/outputs", summary="The outputs to grade", tags=_TAGS)
def list_outputs(
    name: Session,
    ungraded: Annotated[bool, Query(description="Only the outputs no one graded yet.")] = False,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
) -> Page[EvalOutput]:
    """The session's outputs in the order added (or only the ungraded ones)."""
    tenant = tenant_of(router)
    session = services(tenant).evalgen.get(tenant, name)
    outputs = session.outputs()
    order = {output.id: f"{position:08d}" for position, output in enumerate(outputs)}
    shown = session.ungraded() if ungraded else outputs
    return paginate(shown, lambda output: order[output.id], limit, next_token)


@router.post(
    "/evalgen/sessions/<name>/grades",
    summary="Grade an output",
    tags=_TAGS,
    responses={201: {"description": "The grade was kept; an output's latest grade counts."}},
)
def grade_output(name: Session, body: GradeSpec) -> Response[Grade]:
    """Thumbs up or down on one output (404 for an output the session does not hold)."""
    tenant = tenant_of(router)
    session = services(tenant).evalgen.get(tenant, name)
    grade = session.grade(body.output_id, body.grade, note=body.note)
    return Response(status_code=201, content_type="application/json", body=grade)


@router.put("/evalgen/sessions/<name>/criteria", summary="Set the criteria", tags=_TAGS)
def set_criteria(name: Session, body: CriteriaSpec) -> SessionStatus:
    """Criteria, each with candidate assertions of the vetted kinds, replacing the session's."""
    tenant = tenant_of(router)
    session = services(tenant).evalgen.get(tenant, name)
    session.set_criteria([criterion.candidates() for criterion in body.criteria])
    return session.status()


@router.post("/evalgen/sessions/<name>/selection", summary="Select the assertions", tags=_TAGS)
def run_selection(name: Session) -> SelectionReport:
    """Run every candidate over the graded outputs and choose, per criterion, the one that
    agrees best with the grades (409 without criteria or grades of both kinds)."""
    tenant = tenant_of(router)
    return services(tenant).evalgen.get(tenant, name).select()


@router.put(
    "/models/<model_name>/versions/<version>/assertions",
    summary="Store a version's assertion set",
    tags=_TAGS,
)
def store_assertions(
    model_name: Model, version: Version, body: AssertionSetChoice
) -> StoredAssertionSet:
    """A session's latest chosen set, or a set chosen elsewhere, kept with the version: the
    ``assertions`` metric of its later evaluations runs it."""
    tenant = tenant_of(router)
    found = services(tenant)
    # An unknown version is the first thing to say, before what the session lacks.
    found.models.get(tenant, model_name, version)
    chosen = body.assertion_set
    if chosen is None:
        assert body.session is not None
        chosen = found.evalgen.get(tenant, body.session).chosen_set()
    return found.assertion_sets.store(tenant, model_name, version, chosen)


@router.get(
    "/models/<model_name>/versions/<version>/assertions",
    summary="A version's assertion set",
    tags=_TAGS,
)
def describe_assertions(model_name: Model, version: Version) -> StoredAssertionSet:
    """The set stored with the version (404 when none is)."""
    tenant = tenant_of(router)
    return services(tenant).assertion_sets.get(tenant, model_name, version)
