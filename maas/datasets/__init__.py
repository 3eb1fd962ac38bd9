"""Datasets as resources: a tenant's question sets, corpora, fine-tuning conversations and
preference pairs, validated row by row and kept as immutable, content-addressed versions.

- :mod:`maas.datasets.rows`: the schema of a row per kind, and what makes two rows the same;
- :mod:`maas.datasets.validation`: rows in, canonical JSONL and its sha256 out, or every bad
  row by its number;
- :mod:`maas.datasets.sources`: rows from an S3 prefix of the tenant's own;
- :mod:`maas.datasets.store`: records in the tenant's partition, objects in its folder, a
  delete that leaves nothing behind.

The API's routes are ``functions/api/routes/datasets.py``; the contract is
:mod:`schemas.datasets`; the guide is ``docs/datasets.md``.
"""

from __future__ import annotations

from maas.datasets.questions import question_set_version, read_question_set
from maas.datasets.rows import ROW_MODELS, ChatMessage, ChatRow, PreferenceRow, identities
from maas.datasets.sources import PrefixSource, owns_prefix, read_prefix
from maas.datasets.store import DATASETS_FOLDER, DatasetStore, dataset_folder, object_key
from maas.datasets.validation import (
    DEFAULT_LIMITS,
    DatasetLimits,
    RawRow,
    VersionContent,
    jsonl_rows,
    numbered_rows,
    validate_rows,
)

__all__ = [
    "DATASETS_FOLDER",
    "DEFAULT_LIMITS",
    "ROW_MODELS",
    "ChatMessage",
    "ChatRow",
    "DatasetLimits",
    "DatasetStore",
    "PreferenceRow",
    "PrefixSource",
    "RawRow",
    "VersionContent",
    "dataset_folder",
    "identities",
    "jsonl_rows",
    "numbered_rows",
    "object_key",
    "owns_prefix",
    "question_set_version",
    "read_prefix",
    "read_question_set",
    "validate_rows",
]
