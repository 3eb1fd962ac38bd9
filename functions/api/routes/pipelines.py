"""``/v1/endpoints/{name}/pipeline`` and ``/invoke``: an endpoint's request pipeline, and a request.

``invoke`` runs the endpoint's configured pipeline (or the default one) for a question:
guardrail on the question, embedding and retrieval over the knowledge corpus, the prompt
template, generation on the endpoint, guardrail on the answer (``maas.pipeline``). The request
is one X-Ray trace, nested in the function's own, whose id the answer gives. A guardrail that
intervenes is a 200 that says what was blocked and why; an endpoint that is not in service is
a 409; a model that fails behind the endpoint is a 502.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import Services, services, tenant_of
from functions.api.problems import PROBLEM_CONTENT_TYPE, InvalidFields
from maas.exceptions import Conflict, NotFound
from maas.guardrails import GuardrailChecker, resolve_guardrail
from maas.pipeline import EndpointGenerator, PipelineAnswer, RagPipeline
from maas.pipeline.embedding import with_sagemaker_names
from maas.pipeline.pipeline import Guard
from maas.pipeline.streaming import StreamedAnswer, StreamedText
from maas.tenancy import check_tenant_file
from maas.usage import UsageMeter
from schemas.api import FieldProblem
from schemas.common import EndpointName
from schemas.endpoint import EndpointRecord, EndpointStatus
from schemas.pipeline import EndpointPipeline, GenerationSettings, InvokeRequest, PipelineSpec
from schemas.usage import UsageCounts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

router = APIGatewayRouter()
logger = Logger(child=True)

Name = Annotated[EndpointName, Path(description="The endpoint's name.")]

#: The OpenAPI answers of invoke: the answer (its schema from the route), or a model that
#: failed behind the endpoint.
INVOKE_RESPONSES: dict[int, Any] = {
    200: {"description": "The answer; a guardrail's intervention included."},
    502: {
        "description": "The endpoint (or the embedding model) answered an error.",
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


@router.get("/<name>/pipeline", summary="Show an endpoint's pipeline", tags=["Inference"])
def get_pipeline(name: Name) -> EndpointPipeline:
    """The endpoint's request pipeline; the default one (``configured: false``) if none was set."""
    tenant = tenant_of(router)
    services(tenant).endpoints.get(tenant, name)
    return services(tenant).pipelines.get(tenant, name)


@router.put("/<name>/pipeline", summary="Configure an endpoint's pipeline", tags=["Inference"])
def put_pipeline(name: Name, body: PipelineSpec) -> EndpointPipeline:
    """Set the endpoint's prompt template, knowledge corpus, guardrail and generation settings.

    It applies to the next request. An embedding endpoint must be one of the tenant's, and
    a corpus in the artifacts bucket under the tenant's own folder (evaluations read it on
    the tenant's behalf).
    """
    tenant = tenant_of(router)
    found = services(tenant)
    found.endpoints.get(tenant, name)
    if body.knowledge is not None:
        check_tenant_file(
            body.knowledge.corpus_uri,
            "knowledge.corpus_uri",
            os.environ["ARTIFACTS_BUCKET_NAME"],
            tenant,
        )
    embedding = body.knowledge.embedding if body.knowledge else None
    if embedding is not None and embedding.kind == "sagemaker":
        names = {record.endpoint_name for record in found.endpoints.tenant_records(tenant)}
        if embedding.endpoint_name not in names:
            raise InvalidFields(
                [
                    FieldProblem(
                        field="knowledge.embedding.endpoint_name",
                        message=f"the tenant has no endpoint {embedding.endpoint_name!r}",
                    )
                ]
            )
    return found.pipelines.put(tenant, name, body)


@router.post(
    "/<name>/invoke",
    summary="Ask an endpoint a question through its pipeline",
    tags=["Inference"],
    responses=INVOKE_RESPONSES,
)
def invoke_endpoint(name: Name, body: InvokeRequest) -> PipelineAnswer:
    """Run the endpoint's pipeline for the question: the answer, the passages it rests on, the
    guardrail's findings, the trace id and each stage's time."""
    return run_pipeline(tenant_of(router), name, body.question, parameters=body.parameters)


def run_pipeline(
    tenant: str,
    name: str,
    question: str,
    *,
    parameters: GenerationSettings | None = None,
    spec_of: Callable[[EndpointPipeline], PipelineSpec] | None = None,
    generator_of: Callable[[str, Any], EndpointGenerator] | None = None,
    guard_of: Callable[[Guard], Guard] | None = None,
) -> PipelineAnswer:
    """Answer ``question`` on the tenant's endpoint ``name`` through its pipeline, metered.

    Every request to a served model runs here (``invoke`` and the OpenAI-compatible path):
    the endpoint must be the tenant's (404) and in service (409); its stored pipeline (or
    the default) runs, each stage traced. The others adapt it: ``spec_of`` picks the spec
    from the stored pipeline, ``generator_of`` makes the generator from the SageMaker
    endpoint's name and the tenant's ``sagemaker-runtime`` client, ``guard_of`` wraps the
    tenant's guardrail. Once the endpoint is known to be the tenant's, the request counts
    in its usage (:mod:`maas.usage`), an error included.
    """
    found = services(tenant)
    record = found.endpoints.get(tenant, name)
    try:
        pipeline = _pipeline(
            found, tenant, record, spec_of=spec_of, generator_of=generator_of, guard_of=guard_of
        )
        answer = pipeline.run(question, parameters=parameters)
    except Exception:
        _meter(found, tenant, name, UsageCounts(requests=1, errors=1))
        raise
    _meter(found, tenant, name, _counts(answer))
    return answer


def stream_pipeline(
    tenant: str,
    name: str,
    question: str,
    *,
    parameters: GenerationSettings | None = None,
    spec_of: Callable[[EndpointPipeline], PipelineSpec] | None = None,
    generator_of: Callable[[str, Any], EndpointGenerator] | None = None,
    guard_of: Callable[[Guard], Guard] | None = None,
) -> Iterator[StreamedText | StreamedAnswer]:
    """:func:`run_pipeline`, streamed (:meth:`RagPipeline.stream`), and metered as it.

    What can be refused is refused before this returns (404, 409), so that the caller can
    still answer an error; what fails once the stream runs counts as an error in the usage,
    and a stream its reader abandons counts as a request, with the tokens known by then.
    """
    found = services(tenant)
    record = found.endpoints.get(tenant, name)
    try:
        pipeline = _pipeline(
            found, tenant, record, spec_of=spec_of, generator_of=generator_of, guard_of=guard_of
        )
    except Exception:
        _meter(found, tenant, name, UsageCounts(requests=1, errors=1))
        raise
    return _metered(found, tenant, name, pipeline.stream(question, parameters=parameters))


def _metered(
    found: Services, tenant: str, name: str, events: Iterator[StreamedText | StreamedAnswer]
) -> Iterator[StreamedText | StreamedAnswer]:
    counts = UsageCounts(requests=1)
    try:
        for event in events:
            if isinstance(event, StreamedAnswer):
                counts = _counts(event.answer)
            yield event
    except Exception:
        counts = UsageCounts(requests=1, errors=1)
        raise
    finally:
        _meter(found, tenant, name, counts)


def _pipeline(
    found: Services,
    tenant: str,
    record: EndpointRecord,
    *,
    spec_of: Callable[[EndpointPipeline], PipelineSpec] | None,
    generator_of: Callable[[str, Any], EndpointGenerator] | None,
    guard_of: Callable[[Guard], Guard] | None,
) -> RagPipeline:
    _in_service(record)
    name = record.endpoint_name
    stored = found.pipelines.get(tenant, name)
    chosen = spec_of(stored) if spec_of is not None else stored.pipeline
    try:
        spec = with_sagemaker_names(chosen, partial(found.endpoints.sagemaker_name_of, tenant))
    except NotFound as exc:
        raise Conflict(f"knowledge.embedding: {exc.message}") from None
    runtime = found.client("sagemaker-runtime")
    guardrail = _guardrail(tenant, found.client) if spec.guardrail else None
    return RagPipeline(
        spec,
        endpoint_name=name,
        tenant=tenant,
        model=record.model.model_id,
        version=record.model.version,
        guardrail=guard_of(guardrail) if guardrail and guard_of else guardrail,
        # SageMaker knows the endpoint by the name derived for the tenant.
        generator=(generator_of or _generator)(record.sagemaker_endpoint_name, runtime),
        sagemaker=runtime,
        bedrock=found.client("bedrock-runtime"),
        s3=found.client("s3"),
    )


def _counts(answer: PipelineAnswer) -> UsageCounts:
    return UsageCounts(
        requests=1,
        blocked=int(answer.blocked),
        tokens_in=answer.tokens_in,
        tokens_out=answer.tokens_out,
    )


def _generator(sagemaker_name: str, runtime: Any) -> EndpointGenerator:
    return EndpointGenerator(sagemaker_name, client=runtime)


def _meter(found: Services, tenant: str, name: str, counts: UsageCounts) -> None:
    try:
        UsageMeter(os.environ["MODELS_TABLE_NAME"], found.client("dynamodb")).record(
            tenant, name, counts
        )
    except Exception:
        # The answer stands (its tokens are spent); the log and its metric filter tell of
        # the counts lost, rather than the caller losing the answer to the meter.
        logger.exception(
            "usage not recorded", extra={"tenant": tenant, "endpoint": name, **counts.model_dump()}
        )


def _in_service(record: EndpointRecord) -> None:
    if record.status is EndpointStatus.DELETED:
        raise Conflict(f"endpoint {record.endpoint_name!r} is deleted")
    if record.status is not EndpointStatus.IN_SERVICE:
        raise Conflict(
            f"endpoint {record.endpoint_name!r} is {record.status.value}; it answers requests "
            "only when IN_SERVICE"
        )


def _guardrail(tenant: str, client: Any) -> GuardrailChecker | None:
    stage = os.environ["STAGE_NAME"]
    ref = resolve_guardrail(tenant, stage=stage, ssm=client("ssm"))
    if ref is None:
        # A stage deployed without its guardrails stack: requests are served unguarded.
        logger.warning("no guardrail in this stage", extra={"stage": stage, "tenant": tenant})
        return None
    return GuardrailChecker(ref, client=client("bedrock-runtime"))
