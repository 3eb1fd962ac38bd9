"""The typed client of the REST API: one method per operation, pydantic models in and out.

Every answer is parsed with the models of :mod:`schemas` (the API's contract), every error
becomes an exception of :mod:`maas.sdk.errors`, and throttling and server failures are
retried (:mod:`maas.sdk.retry`). Each operation that starts a workflow sends an
``Idempotency-Key`` (yours, or one generated per call), so its retries cannot start the
workflow twice, and answers the :class:`~schemas.api.ExecutionAccepted` to follow.

``import maas.sdk`` loads the SDK and :mod:`schemas` only (pydantic and httpx): the answers
whose models still live beside the server's code (EvalGen's, the evaluation report's, the
pipeline's answer) are imported by the methods that parse them, so that a client that never
calls those does not load the evaluation, registry and pipeline packages and boto3 with them.

Examples
--------
.. code-block:: python

    from maas.sdk import MaasClient
    from schemas.deployment import DeploymentSpec, RegisteredModel

    with MaasClient("http://127.0.0.1:8000", token) as maas:
        accepted = maas.create_endpoint(
            DeploymentSpec(
                endpoint_name="glm4-chat",
                model=RegisteredModel(model_name="glm-4-9b-chat", version=1),
            )
        )
        record = maas.wait_until_in_service("glm4-chat", execution=accepted)
        for endpoint in maas.iter_endpoints():
            print(endpoint.endpoint_name, endpoint.status)
"""

from __future__ import annotations

import time
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, TypeVar, overload
from urllib.parse import quote

import httpx
import pydantic

from maas.sdk import pages, waiters
from maas.sdk.bodies import request_body
from maas.sdk.errors import (
    GatewayTimeout,
    MaasSdkError,
    ServiceUnavailable,
    error_from_response,
)
from maas.sdk.retry import IDEMPOTENCY_HEADER, RetryPolicy, send_with_retries
from schemas.api import ExecutionAccepted, ExecutionView, ModelOverview, Page, Workflow
from schemas.datasets import DatasetDeleted, DatasetRecord, DatasetVersionRecord
from schemas.endpoint import EndpointRecord
from schemas.evaluation import EvaluationRecord, ReviewItem
from schemas.packaging import ModelVersionRecord
from schemas.pipeline import EndpointPipeline
from schemas.quantization import QuantizationOptions
from schemas.usage import UsageReport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime
    from types import TracebackType

    from maas.advisor import AdvisorReport, ServingRequest
    from maas.evaluation.evalgen.grading import SessionInfo, SessionStatus
    from maas.evaluation.evalgen.records import EvalOutput, Grade
    from maas.evaluation.evalgen.selection import AssertionSet, SelectionReport, StoredAssertionSet
    from maas.evaluation.evalgen.sessions import CriteriaSpec, GradeSpec, SessionSpec
    from maas.evaluation.report import ReportSummary
    from maas.pipeline.results import PipelineAnswer
    from schemas.datasets import DatasetSpec, DatasetVersionSpec
    from schemas.deployment import DeploymentSpec
    from schemas.evaluation import EvaluationSpec, ReviewSubmission
    from schemas.lifecycle import LifecycleSpec
    from schemas.packaging import PackagingSettings
    from schemas.pipeline import GenerationSettings, PipelineSpec
    from schemas.scaling import ScalingChange
    from schemas.update import EndpointChange
    from schemas.usage import GroupBy

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
T = TypeVar("T")

#: Seconds a request may take (connect, read, write, pool) unless the client is told otherwise.
DEFAULT_TIMEOUT = 30.0

#: How long API Gateway waits for the function before it answers 504 (its REST APIs' default
#: integration timeout); the local gateway waits as long.
GATEWAY_TIMEOUT_SECONDS = 29


def _user_agent() -> str:
    try:
        return f"maas-sdk/{version('maas')}"
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "maas-sdk"


class UnexpectedResponse(MaasSdkError):
    """The API answered a success that does not match the contract (a client/server skew)."""


class MaasClient:
    """A client of one deployment of the API, as one tenant (the token's).

    Parameters
    ----------
    base_url
        The API's URL, with its stage if any (``https://abc.execute-api.eu-west-1.amazonaws.com/prod``,
        or ``http://127.0.0.1:8000`` for ``maas local up``).
    token
        The tenant's ID token, sent as ``Authorization: Bearer``; None sends none.
    timeout
        Seconds each request may take.
    retries
        Retries after the first try, on 429, 5xx and connection errors (0: never retry).
    transport
        An httpx transport to send through instead of the network (tests:
        ``httpx.MockTransport``).
    retry_policy
        The full retry policy; overrides ``retries``.
    sleep
        How to wait between tries (tests pass a recorder).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": _user_agent()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.retry_policy = retry_policy or RetryPolicy(attempts=retries + 1)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> MaasClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- models and versions ----------------------------------------------------------

    def list_models(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[ModelOverview]:
        """One page of the tenant's models, each with its latest version."""
        return self._page("/v1/models", ModelOverview, limit, next_token)

    def iter_models(self, *, page_size: int | None = None) -> Iterator[ModelOverview]:
        """Every model of the tenant, across pages."""
        return pages.iterate(lambda token: self.list_models(limit=page_size, next_token=token))

    def list_versions(
        self, model_name: str, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[ModelVersionRecord]:
        """One page of a model's versions, oldest first (:class:`NotFound` for no such model)."""
        path = f"/v1/models/{_segment(model_name)}/versions"
        return self._page(path, ModelVersionRecord, limit, next_token)

    def iter_versions(
        self, model_name: str, *, page_size: int | None = None
    ) -> Iterator[ModelVersionRecord]:
        """Every version of a model, oldest first, across pages."""
        return pages.iterate(
            lambda token: self.list_versions(model_name, limit=page_size, next_token=token)
        )

    def get_version(self, model_name: str, version: int) -> ModelVersionRecord:
        """One version: status, packaging progress, artifact, image, the advisor's report."""
        path = f"/v1/models/{_segment(model_name)}/versions/{int(version)}"
        return self._parse(self._request("GET", path), ModelVersionRecord)

    def create_packaging_job(
        self, settings: PackagingSettings, *, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Start ``package_model``: fetch, convert and register a model as a new version."""
        return self._start("POST", "/v1/packaging-jobs", settings, idempotency_key)

    def retry_registration(
        self, model_name: str, version: int, *, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Register again a version whose registration failed; its package is kept as it is."""
        path = f"/v1/models/{_segment(model_name)}/versions/{int(version)}/registration"
        return self._start("POST", path, None, idempotency_key)

    def quantize_version(
        self,
        model_name: str,
        version: int,
        options: QuantizationOptions | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ExecutionAccepted:
        """Start ``quantize_model``: a REGISTERED version quantized into the model's next
        version, with its lineage and measured size and perplexity change (W8A16 unless
        ``options`` say otherwise)."""
        path = f"/v1/models/{_segment(model_name)}/versions/{int(version)}/quantizations"
        return self._start("POST", path, options or QuantizationOptions(), idempotency_key)

    # -- endpoints --------------------------------------------------------------------

    def list_endpoints(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[EndpointRecord]:
        """One page of the tenant's endpoints, deleted ones included, by name."""
        return self._page("/v1/endpoints", EndpointRecord, limit, next_token)

    def iter_endpoints(self, *, page_size: int | None = None) -> Iterator[EndpointRecord]:
        """Every endpoint of the tenant, across pages."""
        return pages.iterate(lambda token: self.list_endpoints(limit=page_size, next_token=token))

    def get_endpoint(self, name: str) -> EndpointRecord:
        """An endpoint's record (:class:`NotFound` when the tenant has none of that name)."""
        return self._parse(self._request("GET", f"/v1/endpoints/{_segment(name)}"), EndpointRecord)

    def create_endpoint(
        self, spec: DeploymentSpec, *, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Start ``deploy_endpoint``: a registered, approved version on a new endpoint."""
        return self._start("POST", "/v1/endpoints", spec, idempotency_key)

    def scale_endpoint(
        self, name: str, change: ScalingChange, *, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Start ``scale_endpoint``: a new instance count, new autoscaling, or none."""
        path = f"/v1/endpoints/{_segment(name)}/scaling"
        return self._start("PUT", path, change, idempotency_key)

    def update_endpoint(
        self, name: str, change: EndpointChange, *, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Start ``update_endpoint``: another version or instance type, blue/green."""
        return self._start("PATCH", f"/v1/endpoints/{_segment(name)}", change, idempotency_key)

    def stop_endpoint(self, name: str, *, idempotency_key: str | None = None) -> ExecutionAccepted:
        """Start ``stop_endpoint``: delete the endpoint, keep its model and configuration."""
        return self._start("POST", f"/v1/endpoints/{_segment(name)}/stop", None, idempotency_key)

    def start_endpoint(self, name: str, *, idempotency_key: str | None = None) -> ExecutionAccepted:
        """Start ``start_endpoint``: recreate a stopped endpoint from its kept configuration."""
        path = f"/v1/endpoints/{_segment(name)}/start"
        return self._start("POST", path, None, idempotency_key)

    def delete_endpoint(
        self, name: str, *, delete_model: bool = True, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Start ``teardown``: scaling, schedules, alarms, endpoint, configuration, model."""
        return self._start(
            "DELETE",
            f"/v1/endpoints/{_segment(name)}",
            None,
            idempotency_key,
            params={"delete_model": str(delete_model).lower()},
        )

    # -- inference ----------------------------------------------------------------------

    def get_pipeline(self, name: str) -> EndpointPipeline:
        """The endpoint's request pipeline (the default one, ``configured`` False, if unset)."""
        path = f"/v1/endpoints/{_segment(name)}/pipeline"
        return self._parse(self._request("GET", path), EndpointPipeline)

    def put_pipeline(self, name: str, spec: PipelineSpec) -> EndpointPipeline:
        """Set the endpoint's prompt template, knowledge, guardrail and generation settings."""
        path = f"/v1/endpoints/{_segment(name)}/pipeline"
        return self._parse(self._request("PUT", path, json=request_body(spec)), EndpointPipeline)

    def invoke_endpoint(
        self, name: str, question: str, *, parameters: GenerationSettings | None = None
    ) -> PipelineAnswer:
        """Ask the endpoint ``question`` through its pipeline.

        The answer has the retrieved passages, the guardrail's findings (a blocked question
        or answer is an answer too, with ``blocked`` set), the trace id and each stage's time.
        :class:`Conflict` when the endpoint is not in service.
        """
        body: dict[str, Any] = {"question": question}
        if parameters is not None:
            body["parameters"] = request_body(parameters)
        from maas.pipeline.results import PipelineAnswer  # noqa: PLC0415

        path = f"/v1/endpoints/{_segment(name)}/invoke"
        # Not replayable: each ask runs the model (tokens, time, a trace), and one the gateway
        # gave up on (504 after 29 s, a model's first load) may still be running. It is sent
        # again only when it certainly did not run; otherwise the caller hears what happened.
        try:
            response = self._request("POST", path, json=body, replayable=False)
        except GatewayTimeout as timeout:
            raise GatewayTimeout(
                timeout.status,
                timeout.title,
                f"{timeout.detail}: API Gateway stopped waiting after {GATEWAY_TIMEOUT_SECONDS} "
                f"s, and endpoint {name!r} may still be answering (a model's first load can take "
                "minutes); not asked again, as that would run the model twice: ask again once "
                "it has loaded",
                request_id=timeout.request_id,
            ) from None
        return self._parse(response, PipelineAnswer)

    # -- evaluations ------------------------------------------------------------------

    def create_evaluation(
        self, spec: EvaluationSpec, *, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Start ``evaluate``: the question set through the endpoint's pipeline, scored, gated.

        The evaluation's id is the execution's name (``accepted.execution_name``).
        """
        return self._start("POST", "/v1/evaluations", spec, idempotency_key)

    def list_evaluations(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[EvaluationRecord]:
        """One page of the tenant's evaluations, by id."""
        return self._page("/v1/evaluations", EvaluationRecord, limit, next_token)

    def get_evaluation(self, evaluation_id: str) -> EvaluationRecord:
        """Status, metrics, the gate's verdict, the judge's parse failures, the report."""
        path = f"/v1/evaluations/{_segment(evaluation_id)}"
        return self._parse(self._request("GET", path), EvaluationRecord)

    def get_evaluation_summary(self, evaluation_id: str) -> ReportSummary:
        """The JSON summary beside the report (:class:`Conflict` until it is written)."""
        from maas.evaluation.report import ReportSummary  # noqa: PLC0415

        path = f"/v1/evaluations/{_segment(evaluation_id)}/summary"
        return self._parse(self._request("GET", path), ReportSummary)

    def review_items(self, evaluation_id: str) -> list[ReviewItem]:
        """The answers an evaluation waits for a person to grade (:class:`Conflict` if none)."""
        path = f"/v1/evaluations/{_segment(evaluation_id)}/review"
        return self._parse(self._request("GET", path), _REVIEW_ITEMS)

    def submit_review(self, evaluation_id: str, submission: ReviewSubmission) -> EvaluationRecord:
        """Grade the answers; the evaluation resumes and writes its report."""
        path = f"/v1/evaluations/{_segment(evaluation_id)}/review"
        body = submission.model_dump(mode="json", exclude_none=True)
        return self._parse(self._request("POST", path, json=body), EvaluationRecord)

    # -- EvalGen: grading sessions and a version's assertion set ----------------------

    def create_evalgen_session(self, spec: SessionSpec) -> SessionStatus:
        """Begin a grading session with outputs, or an evaluation's answers and its review's
        grades; sent again, outputs it does not hold are added (:class:`Conflict` for an id
        it holds with other text, or another task)."""
        from maas.evaluation.evalgen.grading import SessionStatus  # noqa: PLC0415

        body = spec.model_dump(mode="json", exclude_none=True)
        # Adding what is held already changes nothing: a repeat is harmless.
        response = self._request("POST", "/v1/evalgen/sessions", json=body, replayable=True)
        return self._parse(response, SessionStatus)

    def list_evalgen_sessions(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[SessionInfo]:
        """One page of the tenant's grading sessions, by name."""
        from maas.evaluation.evalgen.grading import SessionInfo  # noqa: PLC0415

        return self._page("/v1/evalgen/sessions", SessionInfo, limit, next_token)

    def iter_evalgen_sessions(self, *, page_size: int | None = None) -> Iterator[SessionInfo]:
        """Every grading session of the tenant, across pages."""
        return pages.iterate(
            lambda token: self.list_evalgen_sessions(limit=page_size, next_token=token)
        )

    def get_evalgen_session(self, name: str) -> SessionStatus:
        """A session's counts (outputs, graded up and down, ungraded), criteria and latest
        selection."""
        from maas.evaluation.evalgen.grading import SessionStatus  # noqa: PLC0415

        path = f"/v1/evalgen/sessions/{_segment(name)}"
        return self._parse(self._request("GET", path), SessionStatus)

    def list_evalgen_outputs(
        self,
        name: str,
        *,
        ungraded: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[EvalOutput]:
        """One page of a session's outputs in the order added (``ungraded``: only those)."""
        from maas.evaluation.evalgen.records import EvalOutput  # noqa: PLC0415

        params: dict[str, str | int] = {"ungraded": str(ungraded).lower()}
        if limit is not None:
            params["limit"] = limit
        if next_token is not None:
            params["next_token"] = next_token
        path = f"/v1/evalgen/sessions/{_segment(name)}/outputs"
        return self._parse(self._request("GET", path, params=params), Page[EvalOutput])

    def iter_evalgen_outputs(
        self, name: str, *, ungraded: bool = False, page_size: int | None = None
    ) -> Iterator[EvalOutput]:
        """Every output of a session (or every ungraded one), across pages."""
        return pages.iterate(
            lambda token: self.list_evalgen_outputs(
                name, ungraded=ungraded, limit=page_size, next_token=token
            )
        )

    def grade_evalgen_output(self, name: str, grade: GradeSpec) -> Grade:
        """Thumbs up or down on one output (:class:`NotFound` for one the session lacks)."""
        from maas.evaluation.evalgen.records import Grade  # noqa: PLC0415

        path = f"/v1/evalgen/sessions/{_segment(name)}/grades"
        body = grade.model_dump(mode="json", exclude_none=True)
        # The latest grade counts, so the same grade twice is no change: safe to repeat.
        return self._parse(self._request("POST", path, json=body, replayable=True), Grade)

    def set_evalgen_criteria(self, name: str, criteria: CriteriaSpec) -> SessionStatus:
        """Replace a session's criteria, each with candidate assertions of the vetted kinds."""
        from maas.evaluation.evalgen.grading import SessionStatus  # noqa: PLC0415

        path = f"/v1/evalgen/sessions/{_segment(name)}/criteria"
        body = criteria.model_dump(mode="json")
        return self._parse(self._request("PUT", path, json=body), SessionStatus)

    def select_evalgen_assertions(self, name: str) -> SelectionReport:
        """Choose per criterion the candidate that agrees best with the grades; the report
        (:class:`Conflict` without criteria or grades of both kinds)."""
        from maas.evaluation.evalgen.selection import SelectionReport  # noqa: PLC0415

        path = f"/v1/evalgen/sessions/{_segment(name)}/selection"
        # Selection recomputes from what is held: a repeat gives the same report.
        response = self._request("POST", path, replayable=True)
        return self._parse(response, SelectionReport)

    def put_assertion_set(
        self,
        model_name: str,
        version: int,
        *,
        session: str | None = None,
        assertion_set: AssertionSet | None = None,
    ) -> StoredAssertionSet:
        """Store a session's latest chosen set, or ``assertion_set``, with the version; the
        ``assertions`` metric of its later evaluations runs it."""
        from maas.evaluation.evalgen.selection import StoredAssertionSet  # noqa: PLC0415
        from maas.evaluation.evalgen.sessions import AssertionSetChoice  # noqa: PLC0415

        choice = AssertionSetChoice(session=session, assertion_set=assertion_set)
        path = f"/v1/models/{_segment(model_name)}/versions/{int(version)}/assertions"
        body = choice.model_dump(mode="json", exclude_none=True)
        return self._parse(self._request("PUT", path, json=body), StoredAssertionSet)

    def get_assertion_set(self, model_name: str, version: int) -> StoredAssertionSet:
        """The assertion set stored with the version (:class:`NotFound` when none is)."""
        from maas.evaluation.evalgen.selection import StoredAssertionSet  # noqa: PLC0415

        path = f"/v1/models/{_segment(model_name)}/versions/{int(version)}/assertions"
        return self._parse(self._request("GET", path), StoredAssertionSet)

    # -- Datasets: question sets, corpora, fine-tuning and preference sets -------------

    def create_dataset(self, spec: DatasetSpec) -> DatasetVersionRecord:
        """A new dataset with its first version, from rows or an S3 prefix of the tenant's;
        the same request again answers that version (:class:`Conflict` for a name the tenant
        has otherwise; :class:`InvalidRequest` naming each bad row)."""
        # The version is its content's address: sending the same again makes nothing twice.
        response = self._request("POST", "/v1/datasets", json=request_body(spec), replayable=True)
        return self._parse(response, DatasetVersionRecord)

    def list_datasets(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[DatasetRecord]:
        """One page of the tenant's datasets, by name."""
        return self._page("/v1/datasets", DatasetRecord, limit, next_token)

    def iter_datasets(self, *, page_size: int | None = None) -> Iterator[DatasetRecord]:
        """Every dataset of the tenant, across pages."""
        return pages.iterate(lambda token: self.list_datasets(limit=page_size, next_token=token))

    def get_dataset(self, name: str) -> DatasetRecord:
        """A dataset: kind, status, latest version."""
        return self._parse(self._request("GET", f"/v1/datasets/{_segment(name)}"), DatasetRecord)

    def delete_dataset(self, name: str) -> DatasetDeleted:
        """Delete a dataset, its versions' records and its objects (one cut short stays
        ``DELETING``; deleting again finishes it)."""
        path = f"/v1/datasets/{_segment(name)}"
        return self._parse(self._request("DELETE", path), DatasetDeleted)

    def create_dataset_version(self, name: str, spec: DatasetVersionSpec) -> DatasetVersionRecord:
        """The dataset's next version; rows a version holds already answer that version."""
        path = f"/v1/datasets/{_segment(name)}/versions"
        response = self._request("POST", path, json=request_body(spec), replayable=True)
        return self._parse(response, DatasetVersionRecord)

    def list_dataset_versions(
        self, name: str, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[DatasetVersionRecord]:
        """One page of a dataset's versions, oldest first."""
        path = f"/v1/datasets/{_segment(name)}/versions"
        return self._page(path, DatasetVersionRecord, limit, next_token)

    def iter_dataset_versions(
        self, name: str, *, page_size: int | None = None
    ) -> Iterator[DatasetVersionRecord]:
        """Every version of a dataset, oldest first, across pages."""
        return pages.iterate(
            lambda token: self.list_dataset_versions(name, limit=page_size, next_token=token)
        )

    def get_dataset_version(self, name: str, version: int) -> DatasetVersionRecord:
        """One version of a dataset: sha256, rows, bytes, where it is and where it came from."""
        path = f"/v1/datasets/{_segment(name)}/versions/{int(version)}"
        return self._parse(self._request("GET", path), DatasetVersionRecord)

    def create_lifecycle(
        self, spec: LifecycleSpec, *, idempotency_key: str | None = None
    ) -> ExecutionAccepted:
        """Start ``lifecycle``: package, deploy, and tear down unless ``keep_endpoint``."""
        return self._start("POST", "/v1/lifecycles", spec, idempotency_key)

    def get_execution(self, workflow: Workflow | str, name: str) -> ExecutionView:
        """A workflow execution: its status, output or error, and the states it went through."""
        path = f"/v1/executions/{_segment(Workflow(workflow).value)}/{_segment(name)}"
        return self._parse(self._request("GET", path), ExecutionView)

    def recommend(
        self,
        config: dict[str, Any],
        *,
        model: str | None = None,
        serving: ServingRequest | None = None,
    ) -> AdvisorReport:
        """The serving-size advisor's report for a ``config.json``, computed by the API."""
        from maas.advisor import AdvisorReport  # noqa: PLC0415 - its catalog is slow to import

        body: dict[str, Any] = {"config": config, "model": model}
        if serving is not None:
            body["serving"] = serving.model_dump(mode="json")
        # Advising changes nothing: a repeat is harmless, so it is retried like a read.
        response = self._request("POST", "/v1/recommendations", json=body, replayable=True)
        return self._parse(response, AdvisorReport)

    def usage(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        group_by: GroupBy = "endpoint",
    ) -> UsageReport:
        """The tenant's requests, errors, guardrail blocks and tokens from ``start`` to ``end``
        (whole hours; default: the last day), per endpoint or hour, with each endpoint's
        estimated instance cost (``cost_basis`` says how it is estimated)."""
        params: dict[str, Any] = {"group_by": group_by}
        if start is not None:
            params["from"] = start.isoformat()
        if end is not None:
            params["to"] = end.isoformat()
        return self._parse(self._request("GET", "/v1/usage", params=params), UsageReport)

    # -- waiters ----------------------------------------------------------------------

    def wait_for_execution(
        self,
        accepted: ExecutionAccepted,
        *,
        on_progress: Callable[[ExecutionView], None] | None = None,
        until: Callable[[ExecutionView], bool] | None = None,
        timeout: float = waiters.DEFAULT_TIMEOUT,
        max_poll: float = waiters.MAX_POLL,
    ) -> ExecutionView:
        """Poll the execution until it stops (or ``until`` holds while it runs); see
        :func:`maas.sdk.waiters.wait_for_execution`."""
        return waiters.wait_for_execution(
            self,
            accepted,
            on_progress=on_progress,
            until=until,
            timeout=timeout,
            max_poll=max_poll,
        )

    def wait_until_in_service(
        self,
        endpoint_name: str,
        *,
        execution: ExecutionAccepted | None = None,
        on_progress: Callable[[ExecutionView], None] | None = None,
        timeout: float = waiters.DEFAULT_TIMEOUT,
        max_poll: float = waiters.MAX_POLL,
    ) -> EndpointRecord:
        """Poll until the endpoint is IN_SERVICE; see :func:`maas.sdk.waiters`."""
        return waiters.wait_until_in_service(
            self,
            endpoint_name,
            execution=execution,
            on_progress=on_progress,
            timeout=timeout,
            max_poll=max_poll,
        )

    # -- plumbing ---------------------------------------------------------------------

    def _page(
        self, path: str, item: type[ModelT], limit: int | None, next_token: str | None
    ) -> Page[ModelT]:
        params: dict[str, str | int] = {}
        if limit is not None:
            params["limit"] = limit
        if next_token is not None:
            params["next_token"] = next_token
        return self._parse(self._request("GET", path, params=params), Page[item])  # type: ignore[valid-type]

    def _start(
        self,
        method: str,
        path: str,
        body: pydantic.BaseModel | None,
        idempotency_key: str | None,
        *,
        params: dict[str, str] | None = None,
    ) -> ExecutionAccepted:
        response = self._request(
            method,
            path,
            json=request_body(body) if body is not None else None,
            params=params,
            headers={IDEMPOTENCY_HEADER: idempotency_key or _new_key()},
        )
        return self._parse(response, ExecutionAccepted)

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        replayable: bool | None = None,
    ) -> httpx.Response:
        request = self._http.build_request(method, path, json=json, params=params, headers=headers)
        try:
            response = send_with_retries(
                self._http.send,
                request,
                self.retry_policy,
                replayable=replayable,
                sleep=self._sleep,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServiceUnavailable(
                None, "Service Unavailable", f"could not reach {request.url}: {exc!r}"
            ) from exc
        except httpx.TransportError as exc:
            # Sent, and no answer came: it may have run; a replayable request was retried.
            raise ServiceUnavailable(
                None,
                "Service Unavailable",
                f"{request.method} {request.url} got no answer ({exc!r}); it may have run "
                "on the server all the same",
            ) from exc
        if response.is_error:
            raise error_from_response(response)
        return response

    @overload
    @staticmethod
    def _parse(response: httpx.Response, model: type[ModelT]) -> ModelT: ...

    @overload
    @staticmethod
    def _parse(response: httpx.Response, model: pydantic.TypeAdapter[T]) -> T: ...

    @staticmethod
    def _parse(response: httpx.Response, model: type[ModelT] | pydantic.TypeAdapter[T]) -> Any:
        try:
            if isinstance(model, pydantic.TypeAdapter):
                return model.validate_json(response.content)
            return model.model_validate_json(response.content)
        except pydantic.ValidationError as exc:
            name = model.__name__ if isinstance(model, type) else "list of the expected items"
            raise UnexpectedResponse(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code} with a body that is not a {name}: {exc}"
            ) from exc


_REVIEW_ITEMS = pydantic.TypeAdapter(list[ReviewItem])


def _new_key() -> str:
    return str(uuid.uuid4())


def _segment(value: str) -> str:
    # Names are validated by the API; quoting keeps a stray '/' or '?' from changing the route.
    return quote(str(value), safe="")


__all__ = ["DEFAULT_TIMEOUT", "GATEWAY_TIMEOUT_SECONDS", "MaasClient", "UnexpectedResponse"]
