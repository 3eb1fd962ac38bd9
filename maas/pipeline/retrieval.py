"""The retrieval stage: cosine top-k over a knowledge corpus embedded once per process.

The search is a scan in plain Python: the API function that runs it on AWS ships without
numpy (its code asset holds only what the Lambda runtime and the Powertools layer provide).
A few thousand 384-dimension documents take tens of milliseconds; a corpus much larger wants
a vector store rather than a per-request scan.

A corpus is a JSONL object in S3, one :class:`~maas.evaluation.records.CorpusDocument` per
line. It is read and embedded the first time a request needs it, then kept in the process,
keyed by ``(corpus_uri, embedder name)``, so later requests embed only their question. The
cache holds a few corpora (:data:`CACHED_CORPORA`), least recently used out first. A corpus
changed in place is read again only by a new process: give a new version a new key.

Examples
--------
>>> from maas.evaluation.records import CorpusDocument
>>> index = CorpusIndex.build(
...     [CorpusDocument(id="a", text="x"), CorpusDocument(id="b", text="y")],
...     [[1.0, 0.0], [0.6, 0.8]],
... )
>>> [(hit.id, round(hit.score, 2)) for hit in index.search([0.0, 2.0], k=5)]
[('b', 0.8), ('a', 0.0)]
"""

from __future__ import annotations

import heapq
import math
import operator
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic

from maas.aws import client as aws_client
from maas.aws import error_code, split_s3_uri
from maas.pipeline.exceptions import CorpusInvalid, CorpusNotFound
from maas.pipeline.results import RetrievedContext

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.evaluation.records import CorpusDocument
    from maas.pipeline.embedding import Embedder

#: Corpora kept embedded in the process at once.
CACHED_CORPORA = 8


@dataclass(frozen=True)
class CorpusIndex:
    """A corpus and its unit-length embeddings, one per document."""

    documents: tuple[CorpusDocument, ...]
    vectors: tuple[tuple[float, ...], ...]

    @classmethod
    def build(
        cls, documents: Sequence[CorpusDocument], vectors: Sequence[Sequence[float]]
    ) -> CorpusIndex:
        """The index of ``documents`` with their ``vectors`` (normalised here)."""
        if len(vectors) != len(documents):
            raise ValueError(f"{len(vectors)} vectors for {len(documents)} documents")
        return cls(tuple(documents), tuple(_unit(vector) for vector in vectors))

    def search(self, query: Sequence[float], k: int) -> list[RetrievedContext]:
        """The ``k`` documents closest to ``query`` by cosine similarity, best first.

        Ties keep corpus order, so a search is repeatable.
        """
        unit = _unit(query)
        if self.vectors and len(unit) != len(self.vectors[0]):
            raise ValueError(
                f"a {len(unit)}-dimension query for a corpus of {len(self.vectors[0])} dimensions"
            )
        scores = [sum(map(operator.mul, unit, vector)) for vector in self.vectors]
        best = heapq.nsmallest(k, range(len(scores)), key=lambda row: (-scores[row], row))
        return [
            RetrievedContext(
                id=self.documents[row].id,
                text=self.documents[row].text,
                title=self.documents[row].title,
                score=scores[row],
            )
            for row in best
        ]


def parse_corpus(text: str, uri: str) -> list[CorpusDocument]:
    """The documents of a JSONL corpus; :class:`CorpusInvalid` names the first bad line.

    Blank lines are skipped; ids must be unique.
    """
    # Imported here: maas.evaluation.records re-exports this package's result types.
    from maas.evaluation.records import CorpusDocument  # noqa: PLC0415

    documents: list[CorpusDocument] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = CorpusDocument.model_validate_json(line)
        except pydantic.ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'line'}: {item['msg']}"
                for item in error.errors(include_url=False)
            )
            raise CorpusInvalid(f"corpus {uri}: line {number}: {problems}") from None
        if document.id in seen:
            raise CorpusInvalid(
                f"corpus {uri}: line {number}: id {document.id!r} repeats line {seen[document.id]}"
            )
        seen[document.id] = number
        documents.append(document)
    if not documents:
        raise CorpusInvalid(f"corpus {uri}: no documents")
    return documents


def read_corpus(uri: str, *, s3: Any | None = None) -> list[CorpusDocument]:
    """The documents of the corpus at ``uri`` (an ``s3://`` JSONL object)."""
    bucket, key = split_s3_uri(uri)
    try:
        body = (s3 or aws_client("s3")).get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as error:
        _raise_not_found(error, uri)
        raise
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CorpusInvalid(f"corpus {uri}: not UTF-8 text") from None
    return parse_corpus(text, uri)


def corpus_etag(uri: str, *, s3: Any | None = None) -> str:
    """The corpus object's ETag: it changes whenever the object is written again."""
    bucket, key = split_s3_uri(uri)
    try:
        etag: str = (s3 or aws_client("s3")).head_object(Bucket=bucket, Key=key)["ETag"]
    except Exception as error:
        _raise_not_found(error, uri)
        raise
    return etag


def _raise_not_found(error: Exception, uri: str) -> None:
    if error_code(error) in {"NoSuchKey", "NoSuchBucket", "404"}:
        raise CorpusNotFound(f"corpus {uri} does not exist") from None


class CorpusCache:
    """Embedded corpora of this process, by ``(corpus_uri, embedder name)``.

    Each use asks S3 for the object's ETag (a ``HeadObject``, milliseconds against the
    seconds of embedding a corpus): a corpus written again in place is read and embedded
    anew, never answered from its old text.
    """

    def __init__(self, capacity: int = CACHED_CORPORA) -> None:
        self._capacity = capacity
        self._indexes: OrderedDict[tuple[str, str], tuple[str, CorpusIndex]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}

    def index(self, uri: str, embedder: Embedder, *, s3: Any | None = None) -> CorpusIndex:
        """The corpus at ``uri`` embedded by ``embedder``: kept, or read and embedded now."""
        key = (uri, embedder.name)
        etag = corpus_etag(uri, s3=s3)
        with self._lock:
            kept = self._kept(key, etag)
            if kept is not None:
                return kept
            building = self._building.setdefault(key, threading.Lock())
        # One build per corpus at a time: concurrent first requests wait for it.
        with building:
            with self._lock:
                kept = self._kept(key, etag)
                if kept is not None:
                    return kept
            # Written between the HEAD and the GET, the text is newer than the ETag kept
            # with it: the next use sees another ETag and builds again.
            documents = read_corpus(uri, s3=s3)
            vectors = embedder.embed([document.text for document in documents], purpose="document")
            index = CorpusIndex.build(documents, vectors)
            with self._lock:
                self._indexes[key] = (etag, index)
                self._indexes.move_to_end(key)
                self._building.pop(key, None)
                while len(self._indexes) > self._capacity:
                    self._indexes.popitem(last=False)
        return index

    def _kept(self, key: tuple[str, str], etag: str) -> CorpusIndex | None:
        """The kept index of ``key`` if it was built from the object ``etag`` names."""
        kept = self._indexes.get(key)
        if kept is None or kept[0] != etag:
            return None
        self._indexes.move_to_end(key)
        return kept[1]

    def clear(self) -> None:
        """Forget every corpus."""
        with self._lock:
            self._indexes.clear()


#: The process's corpora.
CORPORA = CorpusCache()


def _unit(vector: Sequence[float]) -> tuple[float, ...]:
    norm = math.sqrt(sum(value * value for value in vector))
    return tuple(value / norm for value in vector) if norm else tuple(vector)


__all__ = [
    "CACHED_CORPORA",
    "CORPORA",
    "CorpusCache",
    "CorpusIndex",
    "corpus_etag",
    "parse_corpus",
    "read_corpus",
]
