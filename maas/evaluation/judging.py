"""The judge's contract: a language model asked for an answer in a given JSON shape.

Every judge (a local model with constrained decoding, a SageMaker endpoint, a Bedrock model)
implements :class:`Judge`. Callers ask for a pydantic model; a judge that cannot produce one
after its retries raises :class:`JudgeAnswerError`, which callers record as a failed sample.

A judge that can also read its own odds of a yes/no answer implements
:class:`ProbabilityJudge` (the local judge does: it sees its logits). A judge behind an API
(SageMaker, Bedrock) returns text only, so it gives verdicts, never probabilities; callers
check with ``isinstance(judge, ProbabilityJudge)`` and fall back to :meth:`Judge.ask`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

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


@runtime_checkable
class ProbabilityJudge(Judge, Protocol):
    """A judge that can say how likely its yes/no answer is, not only what it is.

    A verdict read as a probability can be thresholded where people's verdicts put the line
    (:mod:`maas.evaluation.feedback`), which a bare true/false cannot.
    """

    def probability(self, prompt: str, answer: type[BaseModel]) -> float:
        """The probability that the judge answers ``prompt`` with ``answer``'s first field true.

        ``answer``'s first field must be a boolean (the decision, as in
        :class:`~maas.evaluation.evalgen.records.GraderVerdict`): it is read where the answer
        begins, before any reason is written.

        Raises
        ------
        JudgeAnswerError
            The prompt does not fit the judge, or the answer's shape cannot be read so.
        """
        ...


__all__ = ["AnswerT", "Judge", "JudgeAnswerError", "ProbabilityJudge"]
