"""Which judge an evaluation uses: a small pydantic union the request carries, and a factory.

The evaluation request's ``judge`` field is one of these (told apart by ``kind``); when it is
omitted the judge is the endpoint under test. Importing this module imports no model: the
Lambda that validates a request can check its judge.

Examples
--------
>>> JUDGE_SPEC.validate_python({"kind": "bedrock", "model_id": "amazon.nova-lite-v1:0"})
BedrockJudgeSpec(retries=2, kind='bedrock', model_id='amazon.nova-lite-v1:0')
>>> JUDGE_SPEC.validate_python({"kind": "sagemaker"}).endpoint_name is None
True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from maas.evaluation.judges.remote import DEFAULT_RETRIES
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from maas.evaluation.judging import Judge

#: At most this many retries: each is a full generation.
MAX_RETRIES = 3


class _JudgeSpecBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retries: int = Field(
        default=DEFAULT_RETRIES,
        ge=0,
        le=MAX_RETRIES,
        description="Attempts after the first when an answer does not parse.",
    )


class LocalJudgeSpec(_JudgeSpecBase):
    """A model in the evaluator's process, its decoding constrained to the answer's schema."""

    kind: Literal["local"] = "local"
    model_dir: Path | None = Field(
        default=None,
        description="A Hugging Face folder on the evaluator's disk; the demo model "
        "(SmolLM2-135M-Instruct) when omitted.",
    )


class SageMakerJudgeSpec(_JudgeSpecBase):
    """A chat model on a SageMaker endpoint."""

    kind: Literal["sagemaker"] = "sagemaker"
    endpoint_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=63,
        description="The endpoint; the endpoint under test when omitted.",
    )


class BedrockJudgeSpec(_JudgeSpecBase):
    """A Bedrock model, asked with the Converse API."""

    kind: Literal["bedrock"] = "bedrock"
    model_id: str = Field(min_length=1, max_length=2048, examples=["amazon.nova-lite-v1:0"])


JudgeSpec = Annotated[
    LocalJudgeSpec | SageMakerJudgeSpec | BedrockJudgeSpec, Field(discriminator="kind")
]
#: Validates a ``judge`` field: ``JUDGE_SPEC.validate_python(request.judge)``.
JUDGE_SPEC: TypeAdapter[LocalJudgeSpec | SageMakerJudgeSpec | BedrockJudgeSpec] = TypeAdapter(
    JudgeSpec
)


def make_judge(
    spec: JudgeSpec | dict[str, Any] | None,
    *,
    endpoint_under_test: str | None = None,
    sagemaker_client: Any | None = None,
    bedrock_client: Any | None = None,
) -> Judge:
    """The judge ``spec`` describes; the endpoint under test when ``spec`` is None.

    Raises
    ------
    maas.exceptions.ValidationError
        ``spec`` is not a judge, or names no endpoint and there is no endpoint under test.
    """
    if spec is None:
        spec = SageMakerJudgeSpec()
    if isinstance(spec, dict):
        try:
            spec = JUDGE_SPEC.validate_python(spec)
        except ValueError as error:
            raise ValidationError(f"judge: {error}") from None
    if isinstance(spec, LocalJudgeSpec):
        from maas.evaluation.judges.local import LocalJudge  # noqa: PLC0415 - torch

        return LocalJudge(spec.model_dir, retries=spec.retries)
    if isinstance(spec, SageMakerJudgeSpec):
        from maas.evaluation.judges.sagemaker import SageMakerJudge  # noqa: PLC0415

        endpoint = spec.endpoint_name or endpoint_under_test
        if not endpoint:
            raise ValidationError("judge: a SageMaker judge needs an endpoint_name")
        return SageMakerJudge(endpoint, client=sagemaker_client, retries=spec.retries)
    from maas.evaluation.judges.bedrock import BedrockJudge  # noqa: PLC0415

    return BedrockJudge(spec.model_id, client=bedrock_client, retries=spec.retries)


__all__ = [
    "JUDGE_SPEC",
    "MAX_RETRIES",
    "BedrockJudgeSpec",
    "JudgeSpec",
    "LocalJudgeSpec",
    "SageMakerJudgeSpec",
    "make_judge",
]
