"""A dataset version as an evaluation's question set.

An evaluation may name ``{"dataset": {"name", "version"}}`` instead of a ``question_set_uri``.
The version must be the tenant's and a ``question_set``; its object is read as stored and its
sha256 checked against the version's record, so that the evaluation asks exactly the
questions the version holds (a version is immutable: an object changed under it is an
integrity failure, not new questions).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from maas.exceptions import IntegrityError, NotFound, ValidationError
from schemas.datasets import DatasetKind

if TYPE_CHECKING:
    from maas.datasets.store import DatasetStore
    from schemas.datasets import DatasetVersionRecord, DatasetVersionRef


def question_set_version(
    store: DatasetStore, tenant_id: str, ref: DatasetVersionRef
) -> DatasetVersionRecord:
    """The version ``ref`` names, if it is the tenant's question set.

    Raises
    ------
    NotFound
        No such dataset or version for this tenant (``dataset: ...``).
    ValidationError
        The dataset is of another kind (``dataset: ...``).
    """
    try:
        record = store.get_version(tenant_id, ref.name, ref.version)
    except NotFound as exc:
        raise NotFound(f"dataset: {exc.message.partition(': ')[2]}") from None
    if record.kind is not DatasetKind.QUESTION_SET:
        raise ValidationError(
            f"dataset: {ref.name!r} holds {record.kind.value} rows, not a question_set"
        )
    return record


def read_question_set(store: DatasetStore, record: DatasetVersionRecord) -> str:
    """The version's JSONL, checked against its sha256.

    Raises
    ------
    IntegrityError
        The object is not the bytes the version was written with.
    """
    body = store.read_rows(record)
    digest = hashlib.sha256(body).hexdigest()
    if digest != record.sha256:
        raise IntegrityError(
            f"dataset: version {record.version} of {record.dataset_name!r} reads as sha256 "
            f"{digest}, not the {record.sha256} it was written with"
        )
    return body.decode("utf-8")


__all__ = ["question_set_version", "read_question_set"]
