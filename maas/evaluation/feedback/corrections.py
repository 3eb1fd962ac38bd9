"""People's verdicts on the judge's verdicts, kept per task; the corrections become examples.

Every verdict a person gives on an output the judge judged is kept (input, output, what the
judge said and, for a judge that can say, its probability of a pass, what the person said,
why). Those where the person overruled the judge are corrections: later verdicts on the same
task show the judge the corrections most like the output at hand (shared key terms), the
most recent first among equals, so that it follows people's judgement where it went wrong
before. Those where the person agreed are kept too: with the corrections they say where the
judge's probability should be cut
(:func:`~maas.evaluation.feedback.calibration.decision_threshold`), which the corrections
alone, all on the wrong side of the line, cannot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.evalgen.assertions import key_terms
from maas.evaluation.jsonl_log import JsonlLog

if TYPE_CHECKING:
    from pathlib import Path


class Correction(BaseModel):
    """A person's verdict on an output the judge had judged, and why; a correction when the
    person overruled the judge (:attr:`corrects`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: str = Field(min_length=1, max_length=128)
    input: str
    output: str
    judge_verdict: bool | None = Field(description="What the judge said; None: no verdict.")
    judge_probability: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="The judge's probability of a pass; None: a judge that gives verdicts only.",
    )
    human_verdict: bool
    note: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def corrects(self) -> bool:
        """The person's verdict differs from the judge's (or the judge gave none)."""
        return self.judge_verdict is not self.human_verdict


def _similarity(first: set[str], second: set[str]) -> float:
    union = first | second
    return len(first & second) / len(union) if union else 0.0


class CorrectionStore:
    """Corrections in a JSONL file, or in memory only when ``path`` is None."""

    def __init__(self, path: Path | None = None) -> None:
        self._log = JsonlLog(path, Correction) if path is not None else None
        self._memory: list[Correction] = []

    def add(self, correction: Correction) -> None:
        """Keep ``correction``."""
        if self._log is not None:
            self._log.append([correction])
        else:
            self._memory.append(correction)

    def for_task(self, task_id: str) -> list[Correction]:
        """The task's reviewed verdicts (corrections and agreements), oldest first."""
        every = self._log.read() if self._log is not None else self._memory
        return [correction for correction in every if correction.task_id == task_id]

    def examples(
        self, task_id: str, input_text: str, output: str, *, limit: int
    ) -> list[Correction]:
        """Up to ``limit`` of the task's corrections most like ``input_text`` and ``output``,
        the most relevant last (nearest the question the judge answers); verdicts the person
        agreed with are not shown."""
        if limit <= 0:
            return []
        wanted = key_terms(f"{input_text} {output}")
        corrections = [review for review in self.for_task(task_id) if review.corrects]
        # Enumerate so that among equally similar corrections the later (newer) one ranks higher.
        ranked = sorted(
            enumerate(corrections),
            key=lambda pair: (
                _similarity(wanted, key_terms(f"{pair[1].input} {pair[1].output}")),
                pair[0],
            ),
        )
        return [correction for _, correction in ranked[-limit:]]


__all__ = ["Correction", "CorrectionStore"]
