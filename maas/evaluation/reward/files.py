"""Rankings and pairwise rows on disk: JSONL (one record per line) and Parquet.

The format follows the file's suffix: ``.jsonl`` (or ``.json``) or ``.parquet``. Reading
validates every record and rejects the file with one :class:`~maas.exceptions.ValidationError`
naming each bad line (JSONL, counted from 1, blank lines skipped but counted) or row
(Parquet, counted from 1), so a person can fix them all at once. pyarrow is imported only
when a Parquet file is read or written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from maas.evaluation.reward.records import OrderedPair, PreferencePair, Ranking
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

RecordT = TypeVar("RecordT", bound=BaseModel)

JSONL_SUFFIXES = (".jsonl", ".json")
PARQUET_SUFFIXES = (".parquet",)
#: How many bad lines one error names; the rest are counted.
MAX_REPORTED = 10


def read_rankings(path: Path) -> list[Ranking]:
    """The rankings in ``path``: ``{"prompt": ..., "completions": [best, ..., worst]}``.

    Raises
    ------
    ValidationError
        The file is missing, of an unknown format, or has bad lines (each named).
    """
    return _read(path, Ranking.model_validate)


def read_pairs(path: Path) -> list[PreferencePair | OrderedPair]:
    """The pairwise rows in ``path``, each as the shape it has (table row or graph edge).

    A record with ``completion_j`` is an :class:`OrderedPair`, any other a
    :class:`PreferencePair`. :func:`~maas.evaluation.reward.pairs.preferences` turns the rows
    into what training reads.
    """
    return _read(path, _parse_pair)


def write_pairs(path: Path, pairs: Sequence[PreferencePair] | Sequence[OrderedPair]) -> None:
    """Write ``pairs`` (all of one shape) to ``path`` as JSONL or Parquet, by its suffix."""
    kinds = {type(pair) for pair in pairs}
    if len(kinds) > 1:
        raise ValidationError("pairs: table rows and graph edges cannot share one file")
    write_records(path, pairs)


def write_records(path: Path, records: Sequence[BaseModel]) -> None:
    """Write pydantic records to ``path`` as JSONL or Parquet, by its suffix."""
    suffix = _suffix(path)
    rows = [record.model_dump(mode="json") for record in records]
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in JSONL_SUFFIXES:
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    import pyarrow as pa  # noqa: PLC0415 - only Parquet needs it
    import pyarrow.parquet as pq  # noqa: PLC0415

    pq.write_table(pa.Table.from_pylist(rows), path)


def _parse_pair(record: dict[str, Any]) -> PreferencePair | OrderedPair:
    if "completion_j" in record:
        return OrderedPair.model_validate(record)
    return PreferencePair.model_validate(record)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in JSONL_SUFFIXES + PARQUET_SUFFIXES:
        raise ValidationError(f"{path}: unknown format {suffix!r}; use .jsonl or .parquet")
    return suffix


def _read(path: Path, parse: Callable[[dict[str, Any]], RecordT]) -> list[RecordT]:
    suffix = _suffix(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    if suffix in JSONL_SUFFIXES:
        return _validated(path, "line", _jsonl_records(path), parse)
    import pyarrow.parquet as pq  # noqa: PLC0415 - only Parquet needs it

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as error:  # pyarrow raises several types for a file that is not Parquet
        raise ValidationError(f"{path}: not a Parquet file: {error}") from None
    return _validated(path, "row", enumerate(rows, start=1), parse)


def _jsonl_records(path: Path) -> Iterable[tuple[int, object]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                yield number, error


def _validated(
    path: Path,
    unit: str,
    records: Iterable[tuple[int, object]],
    parse: Callable[[dict[str, Any]], RecordT],
) -> list[RecordT]:
    parsed: list[RecordT] = []
    problems: list[str] = []
    for number, record in records:
        try:
            if isinstance(record, json.JSONDecodeError):
                raise ValueError(f"not JSON: {record.msg} at column {record.colno}")
            if not isinstance(record, dict):
                raise ValueError(f"expected a JSON object, got {type(record).__name__}")
            parsed.append(parse(record))
        except PydanticValidationError as error:
            problems.append(f"{unit} {number}: {_describe(error)}")
        except ValueError as error:
            problems.append(f"{unit} {number}: {error}")
    if problems:
        shown = "; ".join(problems[:MAX_REPORTED])
        more = len(problems) - MAX_REPORTED
        tail = f"; and {more} more" if more > 0 else ""
        raise ValidationError(f"{path}: {len(problems)} bad {unit}(s): {shown}{tail}")
    return parsed


def _describe(error: PydanticValidationError) -> str:
    return ", ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'record'}: {item['msg']}"
        for item in error.errors()
    )


__all__ = ["read_pairs", "read_rankings", "write_pairs", "write_records"]
