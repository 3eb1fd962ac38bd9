"""A scripted judge: answers chosen by what the prompt contains, every prompt kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from maas.evaluation.judging import AnswerT, JudgeAnswerError
from maas.evaluation.records import JudgeUsage

Reply = dict[str, Any] | Callable[[str], dict[str, Any]]


class ScriptedJudge:
    """A test double for :class:`maas.evaluation.judging.Judge`.

    ``script`` maps a substring of the prompt to the reply (a dict, or a function of the
    prompt); the first substring found wins. A prompt nothing matches gets no parsable answer.
    """

    def __init__(self, script: list[tuple[str, Reply]]) -> None:
        self.script = script
        self.prompts: list[str] = []
        self._usage = JudgeUsage()

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def usage(self) -> JudgeUsage:
        return self._usage

    def ask(self, prompt: str, answer: type[AnswerT], *, max_new_tokens: int = 256) -> AnswerT:
        self.prompts.append(prompt)
        self._usage = self._usage + JudgeUsage(calls=1)
        for needle, reply in self.script:
            if needle in prompt:
                return answer.model_validate(reply(prompt) if callable(reply) else reply)
        self._usage = self._usage + JudgeUsage(parse_failures=1)
        raise JudgeAnswerError("scripted: no reply for this prompt")


@pytest.fixture
def scripted() -> type[ScriptedJudge]:
    return ScriptedJudge
