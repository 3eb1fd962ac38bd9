"""Grading sessions: the outputs a person grades, their thumbs up or down, the criteria with
their candidate assertions, and the latest selection.

What a session does (the latest grade of an output counts, an output id always names the
same output, selection needs criteria and both kinds of grade) is :class:`GradingSession`'s;
where its records are kept is a :class:`SessionStorage`'s. Two are used: files
(:class:`FileSessionStorage`, for ``maas evalgen`` at a terminal, often before any
deployment exists, the grades travelling with the evaluation's other files) and the models
table (:class:`maas.evaluation.evalgen.session_table.TableSessionStorage`, for the API,
under the tenant's partition).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> session = GradingSession.on_disk(Path(tempfile.mkdtemp()), "support-v1")
>>> session.add_outputs([EvalOutput(id="o1", input="q", output="a")])
1
>>> session.grade("o1", Thumb.DOWN, note="too short").grade
<Thumb.DOWN: 'down'>
>>> session.latest_grades()
{'o1': False}
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from maas.evaluation.evalgen.criteria import Candidates
from maas.evaluation.evalgen.exceptions import UnknownOutput
from maas.evaluation.evalgen.records import SESSION_NAME_PATTERN, EvalOutput, Grade, Thumb
from maas.evaluation.evalgen.selection import SelectionReport, latest_grades, select_assertions
from maas.evaluation.jsonl_log import JsonlLog
from maas.exceptions import Conflict, ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from maas.evaluation.evalgen.selection import AssertionSet
    from maas.evaluation.judging import Judge

_SESSION_NAME = re.compile(SESSION_NAME_PATTERN)
#: Longest task description kept; it is shown to a judge, which a long text crowds.
MAX_TASK_LENGTH = 2000


def check_session_name(name: str) -> str:
    """``name`` if it can name a session, else :class:`ValidationError` saying what can."""
    if not _SESSION_NAME.match(name):
        raise ValidationError(
            f"session: {name!r} is not a session name (letters, digits, '-' and '_', "
            "at most 64, starting with a letter or digit)"
        )
    return name


class SessionInfo(BaseModel):
    """What a session grades for: the task its outputs were written for, and since when."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=SESSION_NAME_PATTERN)
    task: str = Field(min_length=1, max_length=MAX_TASK_LENGTH)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class SessionStatus(BaseModel):
    """A session at a glance: its counts, its criteria and its latest selection."""

    model_config = ConfigDict(frozen=True)

    name: str
    task: str | None = Field(description="None for a file session no criteria were set for.")
    created_at: datetime | None = None
    outputs: int
    graded: int
    up: int
    down: int
    ungraded: int
    criteria: list[Candidates] = Field(description="Each criterion with its candidates.")
    selection: SelectionReport | None = Field(description="The latest selection, if any.")


class SessionStorage(Protocol):
    """Where one session's records are kept; :class:`GradingSession` holds the rules."""

    @property
    def name(self) -> str:
        """The session's name."""
        ...

    def keep_info(self, info: SessionInfo) -> SessionInfo:
        """Keep ``info`` unless the session has some already; the info held afterwards."""
        ...

    def read_info(self) -> SessionInfo | None:
        """The session's info, None when it has none."""
        ...

    def read_outputs(self) -> list[EvalOutput]:
        """The outputs, in the order added."""
        ...

    def append_outputs(self, outputs: Sequence[EvalOutput]) -> None:
        """Keep outputs the session did not hold (:class:`Conflict` if one raced in)."""
        ...

    def read_grades(self) -> list[Grade]:
        """Every grade given, oldest first."""
        ...

    def append_grade(self, grade: Grade) -> None:
        """Keep one more grade."""
        ...

    def read_criteria(self) -> list[Candidates]:
        """The criteria with their candidates (none until set)."""
        ...

    def write_criteria(self, criteria: Sequence[Candidates]) -> None:
        """Replace the criteria."""
        ...

    def read_selection(self) -> SelectionReport | None:
        """The latest selection, if any."""
        ...

    def write_selection(self, report: SelectionReport) -> None:
        """Replace the latest selection."""
        ...


class GradingSession:
    """One grading session, kept by ``storage``."""

    def __init__(self, storage: SessionStorage) -> None:
        self.storage = storage
        self.name = storage.name

    @classmethod
    def on_disk(cls, root: Path, name: str) -> GradingSession:
        """The session kept in the directory ``root / name``."""
        return cls(FileSessionStorage(root, name))

    # -- what it is for ----------------------------------------------------------------

    def begin(self, task: str) -> bool:
        """Say what the session grades for; True when that is new.

        :class:`Conflict` when the session was begun for another task: its grades were
        given with that task in mind.
        """
        info = SessionInfo(name=self.name, task=task)
        held = self.storage.keep_info(info)
        if held.task != task:
            raise Conflict(f"session {self.name!r} grades for another task: {held.task!r}")
        return held == info

    def info(self) -> SessionInfo | None:
        """What the session grades for, if it was said."""
        return self.storage.read_info()

    # -- outputs and grades --------------------------------------------------------------

    def add_outputs(self, outputs: Iterable[EvalOutput]) -> int:
        """Add outputs to grade; an id already held must hold the same output. Returns how many
        were new."""
        held = {output.id: output for output in self.storage.read_outputs()}
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
        if new:
            self.storage.append_outputs(new)
        return len(new)

    def outputs(self) -> list[EvalOutput]:
        """The outputs, in the order added."""
        return self.storage.read_outputs()

    def grade(self, output_id: str, grade: Thumb, *, note: str | None = None) -> Grade:
        """Record a person's grade of ``output_id``."""
        if output_id not in {output.id for output in self.outputs()}:
            raise UnknownOutput(f"session {self.name!r}: no output {output_id!r}")
        record = Grade(output_id=output_id, grade=grade, note=note or None)
        self.storage.append_grade(record)
        return record

    def add_grades(self, grades: Iterable[Grade]) -> int:
        """Keep grades given elsewhere (an evaluation's review), each of an output held."""
        held = {output.id for output in self.outputs()}
        kept = 0
        for grade in grades:
            if grade.output_id not in held:
                raise UnknownOutput(f"session {self.name!r}: no output {grade.output_id!r}")
            self.storage.append_grade(grade)
            kept += 1
        return kept

    def grades(self) -> list[Grade]:
        """Every grade given, oldest first."""
        return self.storage.read_grades()

    def latest_grades(self) -> dict[str, bool]:
        """Output id -> thumbs up, by each output's latest grade."""
        return latest_grades(self.grades())

    def ungraded(self) -> list[EvalOutput]:
        """The outputs no one has graded yet, in the order added."""
        graded = self.latest_grades()
        return [output for output in self.outputs() if output.id not in graded]

    # -- criteria and selection ----------------------------------------------------------

    def set_criteria(self, criteria: Sequence[Candidates]) -> list[Candidates]:
        """Replace the criteria and their candidates; names must differ."""
        names = [entry.criterion.name for entry in criteria]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValidationError(f"criteria: {', '.join(twice)} named more than once")
        self.storage.write_criteria(criteria)
        return list(criteria)

    def criteria(self) -> list[Candidates]:
        """The criteria with their candidates."""
        return self.storage.read_criteria()

    def select(
        self, *, judge: Judge | None = None, max_false_failure_rate: float | None = None
    ) -> SelectionReport:
        """Choose per criterion the candidate that agrees best with the grades, and keep the
        report as the session's latest selection.

        :class:`Conflict` while the session cannot be aligned yet: no task, no criteria, or
        not at least one grade of each kind.
        """
        info = self.info()
        if info is None:
            raise Conflict(f"session {self.name!r}: no task given yet (set criteria with one)")
        candidates = self.criteria()
        if not candidates:
            raise Conflict(f"session {self.name!r}: no criteria to select for")
        grades = self.grades()
        good = latest_grades(grades)
        up = sum(good.values())
        if up == 0 or up == len(good):
            raise Conflict(
                f"session {self.name!r}: selection needs at least one thumbs-up and one "
                f"thumbs-down grade (have {up} up, {len(good) - up} down)"
            )
        report = select_assertions(
            info.task,
            candidates,
            self.outputs(),
            grades,
            judge=judge,
            max_false_failure_rate=max_false_failure_rate,
        )
        self.storage.write_selection(report)
        return report

    def selection(self) -> SelectionReport | None:
        """The latest selection, if any."""
        return self.storage.read_selection()

    def chosen_set(self) -> AssertionSet:
        """The latest selection's assertion set (:class:`Conflict` before any selection)."""
        report = self.selection()
        if report is None:
            raise Conflict(f"session {self.name!r}: no selection yet")
        return report.assertion_set

    def status(self) -> SessionStatus:
        """The counts, the criteria and the latest selection."""
        info = self.info()
        outputs = self.outputs()
        good = self.latest_grades()
        up = sum(good.values())
        return SessionStatus(
            name=self.name,
            task=info.task if info else None,
            created_at=info.created_at if info else None,
            outputs=len(outputs),
            graded=len(good),
            up=up,
            down=len(good) - up,
            ungraded=sum(1 for output in outputs if output.id not in good),
            criteria=self.criteria(),
            selection=self.selection(),
        )


_CRITERIA: TypeAdapter[list[Candidates]] = TypeAdapter(list[Candidates])


class FileSessionStorage:
    """A session as files in the directory ``root / name``.

    ``outputs.jsonl`` and ``grades.jsonl`` are append-only (see
    :class:`~maas.evaluation.jsonl_log.JsonlLog`); ``session.json``, ``criteria.json`` and
    ``selection.json`` are replaced whole.
    """

    def __init__(self, root: Path, name: str) -> None:
        self._name = check_session_name(name)
        self.directory = root / name
        self._outputs = JsonlLog(self.directory / "outputs.jsonl", EvalOutput)
        self._grades = JsonlLog(self.directory / "grades.jsonl", Grade)

    @property
    def name(self) -> str:
        """The session's name."""
        return self._name

    def keep_info(self, info: SessionInfo) -> SessionInfo:
        held = self.read_info()
        if held is not None:
            return held
        self._write("session.json", info.model_dump_json(indent=2))
        return info

    def read_info(self) -> SessionInfo | None:
        text = self._read("session.json")
        return None if text is None else SessionInfo.model_validate_json(text)

    def read_outputs(self) -> list[EvalOutput]:
        return self._outputs.read()

    def append_outputs(self, outputs: Sequence[EvalOutput]) -> None:
        self._outputs.append(outputs)

    def read_grades(self) -> list[Grade]:
        return self._grades.read()

    def append_grade(self, grade: Grade) -> None:
        self._grades.append([grade])

    def read_criteria(self) -> list[Candidates]:
        text = self._read("criteria.json")
        return [] if text is None else _CRITERIA.validate_json(text)

    def write_criteria(self, criteria: Sequence[Candidates]) -> None:
        self._write("criteria.json", _CRITERIA.dump_json(list(criteria), indent=2).decode())

    def read_selection(self) -> SelectionReport | None:
        text = self._read("selection.json")
        return None if text is None else SelectionReport.model_validate_json(text)

    def write_selection(self, report: SelectionReport) -> None:
        self._write("selection.json", report.model_dump_json(indent=2))

    def _read(self, file: str) -> str | None:
        path = self.directory / file
        return path.read_text(encoding="utf-8") if path.exists() else None

    def _write(self, file: str, text: str) -> None:
        # Through a temporary file, so a reader never meets half a document.
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{file}.tmp"
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(self.directory / file)


__all__ = [
    "MAX_TASK_LENGTH",
    "FileSessionStorage",
    "GradingSession",
    "SessionInfo",
    "SessionStatus",
    "SessionStorage",
    "check_session_name",
]
