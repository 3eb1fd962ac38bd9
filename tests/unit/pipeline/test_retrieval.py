"""Retrieval: the corpus read from S3, embedded once by the local model, searched by cosine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from maas.pipeline import CorpusCache, CorpusInvalid, CorpusNotFound, parse_corpus, read_corpus
from maas.pipeline.local_embedder import LocalEmbedder

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.pipeline import Purpose


class CountingEmbedder(LocalEmbedder):
    """The local model, counting the texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def embed(self, texts: Sequence[str], *, purpose: Purpose) -> list[list[float]]:
        self.texts += len(texts)
        return super().embed(texts, purpose=purpose)


def test_the_closest_passage_comes_first(corpus_uri: str) -> None:
    embedder = LocalEmbedder()
    index = CorpusCache().index(corpus_uri, embedder)
    (query,) = embedder.embed(["What is the capital of France?"], purpose="query")

    hits = index.search(query, k=3)

    assert hits[0].id == "paris"
    assert len(hits) == 3
    assert hits[0].score > hits[1].score >= hits[2].score
    assert hits[0].title == "Paris"
    assert len(query) == 384


def test_a_corpus_is_embedded_once_per_cache(corpus_uri: str) -> None:
    embedder, cache = CountingEmbedder(), CorpusCache()

    first = cache.index(corpus_uri, embedder)
    again = cache.index(corpus_uri, embedder)

    assert again is first
    assert embedder.texts == 5


def test_a_corpus_written_again_is_read_and_embedded_anew(corpus_uri: str) -> None:
    embedder, cache = CountingEmbedder(), CorpusCache()
    first = cache.index(corpus_uri, embedder)
    bucket, _, key = corpus_uri.removeprefix("s3://").partition("/")
    boto3.client("s3").put_object(
        Bucket=bucket, Key=key, Body=b'{"id": "tea", "text": "Tea is brewed from leaves."}\n'
    )

    again = cache.index(corpus_uri, embedder)

    assert again is not first
    assert [document.id for document in again.documents] == ["tea"]
    assert embedder.texts == 6
    assert cache.index(corpus_uri, embedder) is again


def test_k_larger_than_the_corpus_returns_every_document(corpus_uri: str) -> None:
    embedder = LocalEmbedder()
    index = CorpusCache().index(corpus_uri, embedder)

    assert len(index.search(embedder.embed(["tea"], purpose="query")[0], k=50)) == 5


def test_a_bad_line_is_named_by_its_number() -> None:
    text = '{"id": "a", "text": "fine"}\n\n{"id": "b"}\n'

    with pytest.raises(CorpusInvalid, match=r"corpus s3://c/x.jsonl: line 3: text: Field required"):
        parse_corpus(text, "s3://c/x.jsonl")


def test_a_line_that_is_not_json_is_named_by_its_number() -> None:
    with pytest.raises(CorpusInvalid, match=r"line 1: .*Invalid JSON"):
        parse_corpus("not json\n", "s3://c/x.jsonl")


def test_a_repeated_id_is_refused() -> None:
    text = '{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n'

    with pytest.raises(CorpusInvalid, match="line 2: id 'a' repeats line 1"):
        parse_corpus(text, "s3://c/x.jsonl")


def test_an_empty_corpus_is_refused() -> None:
    with pytest.raises(CorpusInvalid, match="no documents"):
        parse_corpus("\n", "s3://c/x.jsonl")


def test_a_missing_corpus_is_not_found(corpus_uri: str) -> None:
    with pytest.raises(
        CorpusNotFound, match=r"corpus s3://corpora/acme/none\.jsonl does not exist"
    ):
        read_corpus("s3://corpora/acme/none.jsonl")
