"""Question sets and corpora: JSONL read line by line, each bad line reported by its number.

A line that is not JSON, not an object, or not a valid record is a :class:`LineProblem`.
The request's policy decides what follows: ``reject`` fails the whole file with every
problem listed (before any work starts), ``skip`` leaves those lines out and keeps the list
for the report.

Examples
--------
>>> text = '{"id": "q1", "question": "2+2?", "reference": "4"}\\n{"id": "q2"}\\nnot json\\n'
>>> parsed = parse_jsonl(text, QuestionRecord, policy="skip")
>>> [record.id for record in parsed.records]
['q1']
>>> [problem.line for problem in parsed.problems]
[2, 3]
>>> try:
...     parse_jsonl(text, QuestionRecord, policy="reject")
... except ValidationError as exc:
...     print(str(exc).replace("; ", "\\n"))
2 invalid lines: line 2: question: Field required
reference: Field required
line 3: not JSON (Expecting value at column 1)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import pydantic

from maas.evaluation.records import CorpusDocument, QuestionRecord
from maas.exceptions import ValidationError
from maas.validation import describe_errors

if TYPE_CHECKING:
    from collections.abc import Sequence

RecordT = TypeVar("RecordT", QuestionRecord, CorpusDocument)

#: How many problems an error message lists before it only counts the rest.
_LISTED_PROBLEMS = 10


@dataclass(frozen=True)
class LineProblem:
    """A line that could not be read as a record."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ParsedLines(Generic[RecordT]):
    """The records read, and the lines left out."""

    records: list[RecordT]
    problems: list[LineProblem] = field(default_factory=list)


def parse_jsonl(
    text: str,
    record: type[RecordT],
    *,
    policy: Literal["reject", "skip"] = "reject",
    limit: int | None = None,
) -> ParsedLines[RecordT]:
    """Read ``text`` as JSONL ``record`` lines; blank lines are ignored.

    Raises :class:`ValidationError` when ``policy`` is ``reject`` and a line is bad, when no
    line is good, when two records share an id, or when there are more than ``limit``.
    """
    records: list[RecordT] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        problem = None
        try:
            parsed = record.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problem = f"not JSON ({exc.msg} at column {exc.colno})"
        except pydantic.ValidationError as exc:
            problem = describe_errors(exc.errors())
        else:
            if parsed.id in seen:
                problem = f"id {parsed.id!r} already used on line {seen[parsed.id]}"
            else:
                seen[parsed.id] = number
                records.append(parsed)
        if problem is not None:
            problems.append(LineProblem(number, problem))
    if problems and policy == "reject":
        raise ValidationError(_describe(problems))
    if not records:
        raise ValidationError(
            "no valid record in the file" + (f" ({_describe(problems)})" if problems else "")
        )
    if limit is not None and len(records) > limit:
        raise ValidationError(f"{len(records)} records, more than the limit of {limit}")
    return ParsedLines(records, problems)


def shards(records: Sequence[RecordT], size: int) -> list[list[RecordT]]:
    """``records`` cut into consecutive shards of at most ``size``.

    >>> [len(shard) for shard in shards(list(range(7)), 3)]  # type: ignore[arg-type]
    [3, 3, 1]
    """
    if size < 1:
        raise ValueError("a shard holds at least one record")
    return [list(records[start : start + size]) for start in range(0, len(records), size)]


def _describe(problems: list[LineProblem]) -> str:
    listed = "; ".join(str(problem) for problem in problems[:_LISTED_PROBLEMS])
    more = len(problems) - _LISTED_PROBLEMS
    noun = "line" if len(problems) == 1 else "lines"
    return f"{len(problems)} invalid {noun}: {listed}" + (f"; and {more} more" if more > 0 else "")


__all__ = ["LineProblem", "ParsedLines", "parse_jsonl", "shards"]
