"""Rows from an S3 prefix: only the tenant's own folder, within the limits, each line located."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from maas.datasets import DatasetLimits, read_prefix, validate_rows
from maas.exceptions import Conflict, InvalidRows, SourceNotFound
from schemas.datasets import DatasetKind

if TYPE_CHECKING:
    from typing import Any

BUCKET = "artifacts"


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_every_object_under_the_prefix_is_read_in_key_order(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="acme/qa/b.jsonl", Body=b'{"id": "b", "text": "B"}\n')
    s3.put_object(Bucket=BUCKET, Key="acme/qa/a.jsonl", Body=b'{"id": "a", "text": "A"}\n')
    s3.put_object(Bucket=BUCKET, Key="acme/qa/", Body=b"")  # a console "folder"
    s3.put_object(Bucket=BUCKET, Key="acme/qa-2/c.jsonl", Body=b'{"id": "c", "text": "C"}\n')

    source = read_prefix(s3, f"s3://{BUCKET}/acme/qa/", bucket=BUCKET, tenant_id="acme")
    content = validate_rows(DatasetKind.CORPUS, source.rows())

    assert [item.key for item in source.source.objects] == ["acme/qa/a.jsonl", "acme/qa/b.jsonl"]
    assert content.body.splitlines() == [
        b'{"id":"a","text":"A","title":null}',
        b'{"id":"b","text":"B","title":null}',
    ]
    assert all(item.etag and item.size for item in source.source.objects)


@pytest.mark.parametrize(
    "prefix", ["globex/qa/", "acme", "acme-x/qa/", "acme/../globex/qa/", "acme/./qa/"]
)
def test_anything_but_the_tenants_folder_of_the_bucket_is_not_found(s3: Any, prefix: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}q.jsonl", Body=b"{}")

    with pytest.raises(SourceNotFound) as raised:
        read_prefix(s3, f"s3://{BUCKET}/{prefix}", bucket=BUCKET, tenant_id="acme")

    assert raised.value.message == f"source_uri: no objects under s3://{BUCKET}/{prefix}"


def test_an_empty_prefix_or_a_missing_bucket_is_not_found(s3: Any) -> None:
    with pytest.raises(SourceNotFound):
        read_prefix(s3, f"s3://{BUCKET}/acme/none/", bucket=BUCKET, tenant_id="acme")
    with pytest.raises(SourceNotFound):
        read_prefix(s3, "s3://no-such-bucket/acme/", bucket=BUCKET, tenant_id="acme")


def test_too_many_objects_or_bytes_are_refused_before_they_are_read(s3: Any) -> None:
    for number in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"acme/many/{number}.jsonl", Body=b"x" * 60)
    uri = f"s3://{BUCKET}/acme/many/"

    with pytest.raises(InvalidRows, match="more than 2 objects under"):
        read_prefix(s3, uri, bucket=BUCKET, tenant_id="acme", limits=DatasetLimits(max_objects=2))
    with pytest.raises(InvalidRows, match=r"180 bytes under .* at most 100"):
        read_prefix(s3, uri, bucket=BUCKET, tenant_id="acme", limits=DatasetLimits(max_bytes=100))


def test_an_object_that_is_not_utf8_is_named_by_its_line(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="acme/bin/x.jsonl", Body=b'{"id": "a"}\n{"id": "\xff"}\n')

    with pytest.raises(InvalidRows) as raised:
        read_prefix(s3, f"s3://{BUCKET}/acme/bin/", bucket=BUCKET, tenant_id="acme")

    assert raised.value.message == f"s3://{BUCKET}/acme/bin/x.jsonl line 2: not UTF-8 text"


def test_an_object_rewritten_between_listing_and_reading_is_a_conflict(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="acme/moving/x.jsonl", Body=b'{"id": "a", "text": "A"}\n')
    real_get = s3.get_object

    def rewritten_first(**arguments: Any) -> Any:
        s3.put_object(Bucket=BUCKET, Key=arguments["Key"], Body=b'{"id": "b", "text": "B"}\n')
        return real_get(**arguments)

    s3.get_object = rewritten_first

    with pytest.raises(Conflict, match="changed while it was read"):
        read_prefix(s3, f"s3://{BUCKET}/acme/moving/", bucket=BUCKET, tenant_id="acme")
