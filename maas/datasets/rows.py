"""The schema of a row, per dataset kind, and what makes two rows the same.

Question sets and corpora take the very records an evaluation reads
(:class:`~maas.evaluation.records.QuestionRecord`,
:class:`~maas.evaluation.records.CorpusDocument`), so a version of either can be handed to
an evaluation as it is. Fine-tuning sets are chat
JSONL as OpenAI's fine-tuning and TRL's ``SFTTrainer`` read it
(https://platform.openai.com/docs/guides/supervised-fine-tuning,
https://huggingface.co/docs/trl/dataset_formats#conversational); preference pairs are TRL's
standard ``prompt``/``chosen``/``rejected`` form
(https://huggingface.co/docs/trl/dataset_formats#preference).

Examples
--------
>>> row = ChatRow.model_validate(
...     {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
... )
>>> [name for name, _ in identities(DatasetKind.CHAT, row)]
['conversation']
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maas.evaluation.records import CorpusDocument, QuestionRecord
from schemas.datasets import DatasetKind

if TYPE_CHECKING:
    from collections.abc import Callable


class ChatMessage(BaseModel):
    """One turn of a fine-tuning conversation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class ChatRow(BaseModel):
    """A fine-tuning conversation: an optional system message, then user and assistant turns
    in alternation, ending with the assistant's (the turn the model learns to write)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: tuple[ChatMessage, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _alternates(self) -> ChatRow:
        turns = list(self.messages)
        if turns[0].role == "system":
            turns = turns[1:]
        for position, message in enumerate(turns):
            expected = "user" if position % 2 == 0 else "assistant"
            if message.role != expected:
                index = position + len(self.messages) - len(turns)
                raise ValueError(
                    f"messages.{index}: a {message.role} message where a {expected} one belongs "
                    "(an optional system message first, then user and assistant in turn)"
                )
        if not turns or turns[-1].role != "assistant":
            raise ValueError("messages: the conversation must end with an assistant message")
        return self


class PreferenceRow(BaseModel):
    """A preference pair: two answers to one prompt, the better one first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    chosen: str = Field(min_length=1)
    rejected: str = Field(min_length=1)

    @model_validator(mode="after")
    def _differ(self) -> PreferenceRow:
        if _normal(self.chosen) == _normal(self.rejected):
            raise ValueError("rejected: the same answer as chosen; a pair prefers one of two")
        return self


Row = QuestionRecord | CorpusDocument | ChatRow | PreferenceRow

#: The schema every row of a kind is validated against.
ROW_MODELS: dict[DatasetKind, type[Row]] = {
    DatasetKind.QUESTION_SET: QuestionRecord,
    DatasetKind.CORPUS: CorpusDocument,
    DatasetKind.CHAT: ChatRow,
    DatasetKind.PREFERENCE: PreferenceRow,
}

_SPACE = re.compile(r"\s+")


def _normal(text: str) -> str:
    """Text as duplicates are compared: case and runs of white space do not count."""
    return _SPACE.sub(" ", text).strip().casefold()


def _question(row: Row) -> list[tuple[str, str]]:
    assert isinstance(row, QuestionRecord)
    return [("id", row.id), ("question", _normal(row.question))]


def _document(row: Row) -> list[tuple[str, str]]:
    assert isinstance(row, CorpusDocument)
    return [("id", row.id), ("text", _normal(row.text))]


def _conversation(row: Row) -> list[tuple[str, str]]:
    assert isinstance(row, ChatRow)
    turns = [[message.role, _normal(message.content)] for message in row.messages]
    return [("conversation", json.dumps(turns))]


def _pair(row: Row) -> list[tuple[str, str]]:
    assert isinstance(row, PreferenceRow)
    parts = [_normal(row.prompt), _normal(row.chosen), _normal(row.rejected)]
    return [("prompt, chosen and rejected", json.dumps(parts))]


_IDENTITIES: dict[DatasetKind, Callable[[Row], list[tuple[str, str]]]] = {
    DatasetKind.QUESTION_SET: _question,
    DatasetKind.CORPUS: _document,
    DatasetKind.CHAT: _conversation,
    DatasetKind.PREFERENCE: _pair,
}


def identities(kind: DatasetKind, row: Row) -> list[tuple[str, str]]:
    """What no two rows of a version may share, as (what it is, its value) pairs: an id (the
    rows an evaluation scores are told apart by it), and the content itself (a question, a
    passage, a conversation or a pair twice weighs it twice in a score or in training)."""
    return _IDENTITIES[kind](row)


__all__ = ["ROW_MODELS", "ChatMessage", "ChatRow", "PreferenceRow", "Row", "identities"]
