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
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import services, tenant_of
from functions.api.problems import PROBLEM_CONTENT_TYPE, InvalidFields
from maas.exceptions import Conflict, NotFound
from maas.guardrails import GuardrailChecker, resolve_guardrail
from maas.pipeline import EndpointGenerator, PipelineAnswer, RagPipeline
from maas.pipeline.embedding import with_sagemaker_names
from maas.tenancy import check_tenant_file
from schemas.api import FieldProblem
from schemas.common import EndpointName
from schemas.endpoint import EndpointRecord, EndpointStatus
from schemas.pipeline import EndpointPipeline, InvokeRequest, PipelineSpec

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
    tenant = tenant_of(router)
    found = services(tenant)
    record = found.endpoints.get(tenant, name)
    _in_service(record)
    stored = found.pipelines.get(tenant, name).pipeline
    try:
        spec = with_sagemaker_names(stored, partial(found.endpoints.sagemaker_name_of, tenant))
    except NotFound as exc:
        raise Conflict(f"knowledge.embedding: {exc.message}") from None
    runtime = found.client("sagemaker-runtime")
    pipeline = RagPipeline(
        spec,
        endpoint_name=name,
        tenant=tenant,
        model=record.model.model_id,
        version=record.model.version,
        guardrail=_guardrail(tenant, found.client) if spec.guardrail else None,
        # SageMaker knows the endpoint by the name derived for the tenant.
        generator=EndpointGenerator(record.sagemaker_endpoint_name, client=runtime),
        sagemaker=runtime,
        bedrock=found.client("bedrock-runtime"),
        s3=found.client("s3"),
    )
    return pipeline.run(body.question, parameters=body.parameters)


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
