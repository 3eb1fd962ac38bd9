"""An append-only JSONL file of pydantic records: grades and judge corrections live in one.

Appends are one ``write`` of one line under ``O_APPEND``, so two processes grading at once
interleave whole lines rather than corrupting them. A line that does not read back as a
record is reported by its number; nothing is silently skipped.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Generic, TypeVar

import pydantic

from maas.exceptions import ValidationError
from maas.validation import describe_errors

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

RecordT = TypeVar("RecordT", bound=pydantic.BaseModel)


class JsonlLog(Generic[RecordT]):
    """Records of one type, one JSON object per line of ``path`` (created on first append)."""

    def __init__(self, path: Path, record: type[RecordT]) -> None:
        self.path = path
        self._record = record

    def append(self, records: Iterable[RecordT]) -> None:
        """Add ``records`` at the end of the file."""
        text = "".join(record.model_dump_json() + "\n" for record in records)
        if not text:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def read(self) -> list[RecordT]:
        """Every record, in the order appended; :class:`ValidationError` names a bad line."""
        if not self.path.exists():
            return []
        records = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(self._record.model_validate(json.loads(line)))
            except json.JSONDecodeError as exc:
                raise ValidationError(f"{self.path}: line {number}: not JSON ({exc.msg})") from None
            except pydantic.ValidationError as exc:
                raise ValidationError(
                    f"{self.path}: line {number}: {describe_errors(exc.errors())}"
                ) from None
        return records


__all__ = ["JsonlLog"]
