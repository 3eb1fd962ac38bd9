"""Validate a dataset version's rows and make its canonical, content-addressed JSONL.

Every row is checked against its kind's schema (:data:`maas.datasets.rows.ROW_MODELS`), for
size, and against the rows before it for duplicates; every problem is kept with where it
is (``row 3`` of a body, ``s3://.../part-0.jsonl line 3`` of a source), and if there is any,
nothing is written and :class:`~maas.exceptions.InvalidRows` lists them (a 422). What passes
is written one row per line as its schema dumps it, so the same rows sent with other spacing
or key order make the same bytes, and the same sha256: the version's address.

Examples
--------
>>> from schemas.datasets import DatasetKind
>>> rows = [{"id": "q1", "question": "2+2?", "reference": "4"},
...         {"id": "q1", "question": "3+3?", "reference": "6"},
...         {"id": "q3", "question": "4+4?"}]
>>> try:
...     validate_rows(DatasetKind.QUESTION_SET, numbered_rows(rows))
... except InvalidRows as exc:
...     for problem in exc.problems:
...         print(problem)
row 2: duplicate of row 1 (the same id)
row 3: reference: Field required
>>> content = validate_rows(DatasetKind.QUESTION_SET, numbered_rows(rows[:1]))
>>> content.rows, content.body
(1, b'{"id":"q1","question":"2+2?","reference":"4","reference_contexts":[]}\\n')
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic

from maas.datasets.rows import ROW_MODELS, identities
from maas.exceptions import InvalidRows, RowProblem

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from pydantic_core import ErrorDetails

    from schemas.datasets import DatasetKind


@dataclass(frozen=True)
class DatasetLimits:
    """How large a version may be.

    The API function validates a version in memory within API Gateway's 29 seconds, and a
    version is read whole by what uses it (an evaluation's plan, a fine-tuning job).
    """

    #: Rows in a version.
    max_rows: int = 100_000
    #: Bytes of the canonical JSONL of a version (and of the source objects read for it).
    max_bytes: int = 16 * 1024 * 1024
    #: Bytes of one row as sent (a line of a source, or the row's JSON in a body).
    max_row_bytes: int = 128 * 1024
    #: Objects under a source prefix.
    max_objects: int = 100


DEFAULT_LIMITS = DatasetLimits()


@dataclass(frozen=True)
class RawRow:
    """A row as it came: where it is (``row 3``, ``<uri> line 3``) and its JSON text, or the
    value already parsed from a body."""

    where: str
    text: str | None = None
    value: Any = None


@dataclass(frozen=True)
class VersionContent:
    """A version's validated rows as canonical JSONL, and its address."""

    kind: DatasetKind
    body: bytes
    rows: int

    @property
    def sha256(self) -> str:
        """The hex sha256 of :attr:`body`: the version's content address."""
        return hashlib.sha256(self.body).hexdigest()


def numbered_rows(rows: Sequence[Any]) -> Iterator[RawRow]:
    """The rows of a body, numbered from 1."""
    for number, value in enumerate(rows, start=1):
        yield RawRow(where=f"row {number}", value=value)


def jsonl_rows(text: str, where: str) -> Iterator[RawRow]:
    """The lines of a JSONL text, numbered from 1 (blank lines are skipped, and counted)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield RawRow(where=f"{where} line {number}", text=line)


def validate_rows(
    kind: DatasetKind, rows: Iterable[RawRow], limits: DatasetLimits = DEFAULT_LIMITS
) -> VersionContent:
    """Every row valid, none twice, within ``limits``: the version's content.

    Raises
    ------
    InvalidRows
        Listing every bad row, or saying that there is no row, too many rows, or too many
        bytes (with the bad rows met until then).
    """
    model = ROW_MODELS[kind]
    problems: list[RowProblem] = []
    lines: list[bytes] = []
    size = 0
    seen: dict[tuple[str, str], str] = {}
    for raw in rows:
        if len(lines) + len(problems) >= limits.max_rows:
            raise InvalidRows(
                f"more than {limits.max_rows} rows: a version holds at most {limits.max_rows}",
                problems,
                limit=True,
            )
        problem, row = _parse(raw, model, limits)
        if row is None:
            problems.append(RowProblem(raw.where, problem or "invalid"))
            continue
        duplicate = next(
            (
                (name, seen[(name, value)])
                for name, value in identities(kind, row)
                if (name, value) in seen
            ),
            None,
        )
        if duplicate is not None:
            name, first = duplicate
            problems.append(RowProblem(raw.where, f"duplicate of {first} (the same {name})"))
            continue
        for identity in identities(kind, row):
            seen[identity] = raw.where
        line = row.model_dump_json().encode() + b"\n"
        size += len(line)
        if size > limits.max_bytes:
            raise InvalidRows(
                f"more than {limits.max_bytes} bytes by {raw.where}: a version holds at most "
                f"{limits.max_bytes} bytes of JSONL",
                problems,
                limit=True,
            )
        lines.append(line)
    if problems:
        raise InvalidRows(_summary(problems), problems)
    if not lines:
        raise InvalidRows("no rows: a version holds at least one", [], limit=True)
    return VersionContent(kind=kind, body=b"".join(lines), rows=len(lines))


def _parse(
    raw: RawRow, model: type[pydantic.BaseModel], limits: DatasetLimits
) -> tuple[str | None, Any]:
    """(None, the row) or (why not, None)."""
    text = raw.text if raw.text is not None else json.dumps(raw.value, ensure_ascii=False)
    # A lone surrogate (JSON allows "\\ud800") is counted here and refused by the schema.
    if len(text.encode(errors="surrogatepass")) > limits.max_row_bytes:
        return f"longer than {limits.max_row_bytes} bytes", None
    value = raw.value
    if raw.text is not None:
        try:
            value = json.loads(raw.text)
        except json.JSONDecodeError as exc:
            return f"not JSON ({exc.msg} at column {exc.colno})", None
    if not isinstance(value, dict):
        return f"not a JSON object but {_json_type(value)}", None
    try:
        return None, model.model_validate(value)
    except pydantic.ValidationError as exc:
        return _describe(exc.errors()), None


def _describe(errors: list[ErrorDetails]) -> str:
    parts = []
    for error in errors:
        field = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        # A row-level check names its own field in its message.
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _summary(problems: list[RowProblem]) -> str:
    listed = "; ".join(str(problem) for problem in problems[: InvalidRows.LISTED])
    more = len(problems) - InvalidRows.LISTED
    noun = "row" if len(problems) == 1 else "rows"
    return f"{len(problems)} invalid {noun}: {listed}" + (f"; and {more} more" if more > 0 else "")


__all__ = [
    "DEFAULT_LIMITS",
    "DatasetLimits",
    "RawRow",
    "VersionContent",
    "jsonl_rows",
    "numbered_rows",
    "validate_rows",
]
