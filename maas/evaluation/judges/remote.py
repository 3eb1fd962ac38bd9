"""What the judges behind an API share: a prompt that asks for JSON, parsing it, retrying.

A remote model's decoding cannot be constrained from here, so the prompt carries the answer's
JSON Schema and the completion is searched for the first JSON object that validates. An
answer that does not parse is asked again with what was wrong with it (a model corrects a
named mistake more often than it avoids it on a plain retry); after the retries the call is a
:class:`~maas.evaluation.judging.JudgeAnswerError`.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from maas.evaluation.judging import JudgeAnswerError
from maas.evaluation.records import JudgeUsage

if TYPE_CHECKING:
    from maas.evaluation.judging import AnswerT

DEFAULT_RETRIES = 2


def schema_instruction(answer: type[BaseModel]) -> str:
    """The line that tells a model the JSON shape of its answer."""
    schema = json.dumps(answer.model_json_schema(), separators=(",", ":"))
    return (
        f"Answer with one JSON object, and nothing else, valid against this JSON Schema: {schema}"
    )


def parse_answer(text: str, answer: type[AnswerT]) -> AnswerT:
    """The first JSON object in ``text`` that is a valid ``answer``.

    Models wrap JSON in prose or in a Markdown fence; every ``{`` is tried as the start of
    an object, so what comes before or after it does not matter.

    Raises
    ------
    ValueError
        No JSON object in ``text`` validates; the message says why the last one did not.

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class Verdict(BaseModel):
    ...     verdict: int
    >>> parse_answer('Sure! ```json\\n{"verdict": 1}\\n```', Verdict)
    Verdict(verdict=1)
    >>> parse_answer('{"verdict": "yes"}', Verdict)
    Traceback (most recent call last):
    ...
    ValueError: verdict: Input should be a valid integer, unable to parse string as an integer
    """
    decoder = json.JSONDecoder()
    problem = "no JSON object in the answer"
    start = text.find("{")
    while start >= 0:
        try:
            document, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pass
        else:
            try:
                return answer.model_validate(document)
            except ValidationError as error:
                first = error.errors(include_url=False)[0]
                where = ".".join(str(part) for part in first["loc"]) or "answer"
                problem = f"{where}: {first['msg']}"
        start = text.find("{", start + 1)
    raise ValueError(problem)


class RemoteJudge(ABC):
    """A judge that sends a prompt to a model behind an API and parses JSON from its answer.

    Subclasses implement :meth:`complete`: one prompt in, the model's text out.
    """

    def __init__(self, *, retries: int = DEFAULT_RETRIES) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.retries = retries
        self._usage = JudgeUsage()
        self._lock = threading.Lock()

    @property
    @abstractmethod
    def name(self) -> str:
        """``sagemaker:<endpoint>``, ``bedrock:<model id>``."""

    @property
    def usage(self) -> JudgeUsage:
        """Calls, retries and parse failures so far."""
        return self._usage

    @abstractmethod
    def complete(self, prompt: str, *, max_new_tokens: int) -> str:
        """The model's answer to ``prompt`` (greedy where the API allows it)."""

    def ask(self, prompt: str, answer: type[AnswerT], *, max_new_tokens: int = 256) -> AnswerT:
        """Answer ``prompt`` as an ``answer``; :class:`JudgeAnswerError` if it never parses.

        Errors of the API itself (throttling past boto3's retries, a missing endpoint) are not
        parse failures: they propagate as they are.
        """
        self._count(JudgeUsage(calls=1))
        asked = f"{prompt}\n\n{schema_instruction(answer)}"
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._count(JudgeUsage(retries=1))
                asked = (
                    f"{prompt}\n\nYour previous answer was not valid ({problem}). "
                    f"{schema_instruction(answer)}"
                )
            text = self.complete(asked, max_new_tokens=max_new_tokens)
            try:
                return parse_answer(text, answer)
            except ValueError as error:
                problem = str(error)
        self._count(JudgeUsage(parse_failures=1))
        raise JudgeAnswerError(
            f"{self.name}: no {answer.__name__} after {self.retries + 1} attempt(s): {problem}"
        )

    def _count(self, usage: JudgeUsage) -> None:
        # Metrics may ask from several threads; the counts must add up.
        with self._lock:
            self._usage = self._usage + usage


__all__ = ["DEFAULT_RETRIES", "RemoteJudge", "parse_answer", "schema_instruction"]
