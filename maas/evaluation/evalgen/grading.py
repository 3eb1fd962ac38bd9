"""Grading sessions: the outputs a person grades and their thumbs up or down, on disk.

A session is a directory named after it, holding ``outputs.jsonl`` (the outputs to grade)
and ``grades.jsonl`` (every grade given, in order; the latest grade of an output counts, so
a person can change their mind). Files rather than the DynamoDB table: grading is done by a
person at a terminal, often before any deployment exists, and the grades travel with the
evaluation's other files; the chosen assertion set, which later evaluations need, is what
goes to the registry.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> session = GradingSession(Path(tempfile.mkdtemp()), "support-v1")
>>> session.add_outputs([EvalOutput(id="o1", input="q", output="a")])
1
>>> session.grade("o1", Thumb.DOWN, note="too short").grade
<Thumb.DOWN: 'down'>
>>> session.latest_grades()
{'o1': False}
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from maas.evaluation.evalgen.exceptions import UnknownOutput
from maas.evaluation.evalgen.records import EvalOutput, Grade, Thumb
from maas.evaluation.evalgen.selection import latest_grades
from maas.evaluation.jsonl_log import JsonlLog
from maas.exceptions import Conflict, ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

# A session name becomes a directory name: no separators, no dots to climb out with.
_SESSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class GradingSession:
    """One grading session's outputs and grades under ``root / name``."""

    def __init__(self, root: Path, name: str) -> None:
        if not _SESSION_NAME.match(name):
            raise ValidationError(
                f"session: {name!r} is not a session name (letters, digits, '-' and '_', "
                "at most 64, starting with a letter or digit)"
            )
        self.name = name
        self.directory = root / name
        self._outputs = JsonlLog(self.directory / "outputs.jsonl", EvalOutput)
        self._grades = JsonlLog(self.directory / "grades.jsonl", Grade)

    def add_outputs(self, outputs: Iterable[EvalOutput]) -> int:
        """Add outputs to grade; an id already held must hold the same output. Returns how many
        were new."""
        held = {output.id: output for output in self._outputs.read()}
        new: list[EvalOutput] = []
        for output in outputs:
            known = held.get(output.id)
            if known is not None and known != output:
                raise Conflict(
                    f"session {self.name!r}: output {output.id!r} is already held with other text"
                )
            if known is None:
                held[output.id] = output
                new.append(output)
        self._outputs.append(new)
        return len(new)

    def outputs(self) -> list[EvalOutput]:
        """The outputs, in the order added."""
        return self._outputs.read()

    def grade(self, output_id: str, grade: Thumb, *, note: str | None = None) -> Grade:
        """Record a person's grade of ``output_id``."""
        if output_id not in {output.id for output in self.outputs()}:
            raise UnknownOutput(f"session {self.name!r}: no output {output_id!r}")
        record = Grade(output_id=output_id, grade=grade, note=note or None)
        self._grades.append([record])
        return record

    def grades(self) -> list[Grade]:
        """Every grade given, oldest first."""
        return self._grades.read()

    def latest_grades(self) -> dict[str, bool]:
        """Output id -> thumbs up, by each output's latest grade."""
        return latest_grades(self.grades())

    def ungraded(self) -> list[EvalOutput]:
        """The outputs no one has graded yet, in the order added."""
        graded = self.latest_grades()
        return [output for output in self.outputs() if output.id not in graded]


__all__ = ["GradingSession"]
