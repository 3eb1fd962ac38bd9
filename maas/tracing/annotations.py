"""What a trace may carry: X-Ray's rules for annotations, and the shapes this product uses.

X-Ray indexes annotations for filter expressions and trace summaries, and it is strict
about them: a key is 1 to 500 characters, letters, digits and underscores only; a value is
a string (up to 1,000 characters), a number or a boolean; a trace keeps at most 50
annotations. The X-Ray SDK drops a bad key with a log line; here a bad key is a
:class:`ValueError` at the call, so that a typo shows up in a test and not as a missing
column in the console.

Metadata is not indexed and may be any JSON value; the rendered prompt goes there, cut to
:data:`PROMPT_METADATA_LIMIT` characters, because a segment document (and the UDP datagram
that carries it to the daemon) is limited to 64 KB.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Sequence

#: X-Ray annotation keys: letters, digits and underscores, 1 to 500 characters.
ANNOTATION_KEY = re.compile(r"^[A-Za-z0-9_]{1,500}$")

#: The longest string annotation value X-Ray keeps.
ANNOTATION_VALUE_LIMIT = 1000

#: Characters of the rendered prompt kept in a ``prompt`` stage's metadata.
PROMPT_METADATA_LIMIT = 2048

#: Metadata namespace of everything this package records.
METADATA_NAMESPACE = "maas"

#: What X-Ray accepts as an annotation value.
AnnotationValue: TypeAlias = str | int | float | bool


def check_key(key: str) -> str:
    """Return ``key`` if X-Ray accepts it as an annotation key, else raise ValueError.

    Examples
    --------
    >>> check_key("tokens_in")
    'tokens_in'
    >>> check_key("tokens-in")
    Traceback (most recent call last):
    ...
    ValueError: annotation key 'tokens-in' is not 1-500 letters, digits or underscores
    """
    if not ANNOTATION_KEY.fullmatch(key):
        raise ValueError(f"annotation key {key!r} is not 1-500 letters, digits or underscores")
    return key


def annotation_value(value: AnnotationValue) -> AnnotationValue:
    """``value`` as X-Ray keeps it: strings cut to 1,000 characters, numbers finite.

    Examples
    --------
    >>> annotation_value(3)
    3
    >>> len(annotation_value("x" * 1200))
    1000
    """
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"annotation value {value!r} is not a finite number")
        return value
    if isinstance(value, str):
        return value[:ANNOTATION_VALUE_LIMIT]
    raise TypeError(f"annotation value {value!r} is not a string, number or boolean")


def compact_documents(documents: Sequence[tuple[str, float]]) -> tuple[str, str]:
    """Retrieved documents as two scalar annotations: ids, and scores to 3 decimals.

    Annotations are scalars, so the ranked list becomes two comma-separated strings in the
    same order (``document_ids`` and ``document_scores``), each cut to 1,000 characters at
    a comma so that no id is half-kept.

    Examples
    --------
    >>> compact_documents([("doc-7", 0.91234), ("doc-2", 0.5)])
    ('doc-7,doc-2', '0.912,0.500')
    """
    ids = _join_within_limit([document_id for document_id, _ in documents])
    scores = _join_within_limit([f"{score:.3f}" for _, score in documents])
    return ids, scores


def truncate_prompt(prompt: str, limit: int = PROMPT_METADATA_LIMIT) -> str:
    """The prompt as kept in metadata: whole, or its first ``limit`` characters and a marker.

    Examples
    --------
    >>> truncate_prompt("Hello", limit=10)
    'Hello'
    >>> truncate_prompt("abcdefghijkl", limit=4)
    'abcd...[8 more characters]'
    """
    if len(prompt) <= limit:
        return prompt
    return f"{prompt[:limit]}...[{len(prompt) - limit} more characters]"


def _join_within_limit(parts: list[str]) -> str:
    joined = ",".join(parts)
    if len(joined) <= ANNOTATION_VALUE_LIMIT:
        return joined
    return joined[: ANNOTATION_VALUE_LIMIT + 1].rsplit(",", 1)[0]


__all__ = [
    "ANNOTATION_KEY",
    "ANNOTATION_VALUE_LIMIT",
    "METADATA_NAMESPACE",
    "PROMPT_METADATA_LIMIT",
    "AnnotationValue",
    "annotation_value",
    "check_key",
    "compact_documents",
    "truncate_prompt",
]
