"""The judge's contract: a language model asked for an answer in a given JSON shape.

Every judge (a local model with constrained decoding, a SageMaker endpoint, a Bedrock model)
implements :class:`Judge`. Callers ask for a pydantic model; a judge that cannot produce one
after its retries raises :class:`JudgeAnswerError`, which callers record as a failed sample.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import BaseModel

from maas.exceptions import MaasError

if TYPE_CHECKING:
    from maas.evaluation.records import JudgeUsage

AnswerT = TypeVar("AnswerT", bound=BaseModel)


class JudgeAnswerError(MaasError):
    """The judge's answer did not parse into the requested shape, retries included."""

    http_status = 502


class Judge(Protocol):
    """A model that answers a prompt with JSON matching a pydantic model."""

    @property
    def name(self) -> str:
        """What judges, for reports (``local:SmolLM2-135M-Instruct``, ``sagemaker:chat``)."""
        ...

    @property
    def usage(self) -> JudgeUsage:
        """Calls, retries and parse failures so far."""
        ...

    def ask(self, prompt: str, answer: type[AnswerT], *, max_new_tokens: int = 256) -> AnswerT:
        """Answer ``prompt`` as an ``answer``; :class:`JudgeAnswerError` if it never parses."""
        ...


__all__ = ["AnswerT", "Judge", "JudgeAnswerError"]
