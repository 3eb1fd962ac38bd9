"""Datasets as resources: the ``/v1/datasets`` bodies and records.

A dataset is a tenant's named, typed collection of rows (one of :class:`DatasetKind`) with
immutable versions. A version is addressed by the sha256 of its canonical JSONL (one row per
line, as validated), stored once in the tenant's folder of the artifacts bucket
(``<tenant>/_datasets/<name>/<sha256>.jsonl``) and recorded in the tenant's partition of the
models table (:mod:`maas.datasets.store`). Rows are sent in the body (``rows``) or read from an
S3 prefix of the tenant's own (``source_uri``), and validated before anything is written
(:mod:`maas.datasets.validation`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from schemas.common import REQUEST_CONFIG, S3Uri

#: A dataset's name, in the tenant's own namespace: as a model's (lower case, digits,
#: hyphens), so that it is safe in an S3 key and a DynamoDB sort key as it is.
DATASET_NAME_PATTERN = r"^[a-z0-9](-*[a-z0-9]){0,47}$"
_NAME = StringConstraints(max_length=48, pattern=DATASET_NAME_PATTERN)
DatasetName = Annotated[
    str,
    _NAME,
    Field(description="The dataset's name, unique within the tenant.", examples=["support-qa"]),
]
#: A version's content address: the hex sha256 of its canonical JSONL.
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class DatasetKind(StrEnum):
    """What a dataset's rows are, and so the schema every row is validated against."""

    #: ``{"id", "question", "reference", "reference_contexts"?}``: an evaluation's questions
    #: with their reference answers (:class:`maas.evaluation.records.QuestionRecord`).
    QUESTION_SET = "question_set"
    #: ``{"id", "text", "title"?}``: passages for retrieval
    #: (:class:`maas.evaluation.records.CorpusDocument`).
    CORPUS = "corpus"
    #: ``{"messages": [{"role", "content"}, ...]}``: a fine-tuning conversation, in the chat
    #: JSONL that OpenAI's and TRL's supervised fine-tuning read.
    CHAT = "chat"
    #: ``{"prompt", "chosen", "rejected"}``: a preference pair, in TRL's standard form for DPO
    #: and reward modelling.
    PREFERENCE = "preference"


class DatasetStatus(StrEnum):
    """Where a dataset is in its life."""

    #: Made, its first version not written yet (or its creation was cut short).
    CREATING = "CREATING"
    #: Has versions; takes new ones.
    ACTIVE = "ACTIVE"
    #: Its objects and records are being removed; a ``DELETE`` again finishes the job.
    DELETING = "DELETING"


class _RowsOrSource(BaseModel):
    """Exactly one of ``rows`` (sent) and ``source_uri`` (read from S3)."""

    model_config = REQUEST_CONFIG

    rows: list[Any] | None = Field(
        default=None,
        description="The rows, each a JSON object of the dataset's kind; validated one by one, "
        "each problem named by its row number (from 1).",
    )
    source_uri: S3Uri | None = Field(
        default=None,
        description="An S3 prefix (or one object) in the tenant's own folder of the artifacts "
        "bucket: every object under it, in key order, read as JSONL.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> _RowsOrSource:
        if (self.rows is None) == (self.source_uri is None):
            raise ValueError("send either rows or source_uri, not both or neither")
        return self


class DatasetSpec(_RowsOrSource):
    """``POST /v1/datasets``: a new dataset and its first version."""

    name: DatasetName
    kind: DatasetKind
    description: str | None = Field(default=None, max_length=1024)


class DatasetVersionSpec(_RowsOrSource):
    """``POST /v1/datasets/{name}/versions``: a new version of a dataset."""

    description: str | None = Field(
        default=None, max_length=1024, description="What changed in this version."
    )


class DatasetVersionRef(BaseModel):
    """One version of one of the tenant's datasets, as a request names it."""

    model_config = REQUEST_CONFIG

    # No example here: a request that names its questions by a file as well as by a dataset
    # is refused, and clients build example requests from every field's examples.
    name: Annotated[str, _NAME] = Field(description="The dataset's name.")
    version: StrictInt = Field(ge=1, description="The version number.")


class SourceObject(BaseModel):
    """One object a version was read from."""

    key: str
    etag: str
    size: int


class DatasetSource(BaseModel):
    """Where a version's rows came from."""

    model_config = ConfigDict(frozen=True)

    type: Literal["upload", "s3"]
    uri: str | None = Field(default=None, description="The S3 prefix, for an ``s3`` source.")
    objects: list[SourceObject] = Field(
        default_factory=list, description="The objects read, in order, with their ETags."
    )


class DatasetVersionRecord(BaseModel):
    """One immutable version of a dataset."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    dataset_name: str
    kind: DatasetKind
    version: int = Field(ge=1, description="1, 2, ...: the order versions were added in.")
    sha256: Sha256 = Field(description="The sha256 of the version's canonical JSONL.")
    uri: str = Field(description="Where the canonical JSONL is: s3://<artifacts>/<tenant>/...")
    rows: int
    bytes: int
    description: str | None = None
    source: DatasetSource
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class DatasetRecord(BaseModel):
    """A dataset: its kind, status and latest version."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    name: str
    kind: DatasetKind
    description: str | None = None
    status: DatasetStatus
    latest_version: int | None = Field(
        default=None, description="The newest version written; none before the first."
    )
    version_count: int = Field(
        default=0, description="Version numbers handed out (a number is never reused)."
    )
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class DatasetDeleted(BaseModel):
    """What ``DELETE /v1/datasets/{name}`` removed."""

    name: str
    versions: int = Field(description="Version records deleted.")
    objects: int = Field(description="S3 objects deleted under the dataset's folder.")


__all__ = [
    "DATASET_NAME_PATTERN",
    "DatasetDeleted",
    "DatasetKind",
    "DatasetName",
    "DatasetRecord",
    "DatasetSource",
    "DatasetSpec",
    "DatasetStatus",
    "DatasetVersionRecord",
    "DatasetVersionRef",
    "DatasetVersionSpec",
    "Sha256",
    "SourceObject",
]
