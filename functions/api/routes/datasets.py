"""``/v1/datasets``: the tenant's datasets and their immutable, content-addressed versions.

Rows come in the body (``rows``) or from an S3 prefix of the tenant's own (``source_uri``),
and are validated before anything is written: a bad row is a 422 naming it by its number
(or its object and line), never a 5xx (:mod:`maas.datasets.validation`). Records are items
of the models table in the tenant's partition and objects live in the tenant's folder of the
artifacts bucket, both reached with the tenant's session (:mod:`maas.datasets.store`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import paginate, services, tenant_of
from functions.api.params import Limit, NextToken
from functions.api.problems import InvalidFields
from maas.datasets import (
    DatasetStore,
    numbered_rows,
    read_prefix,
    validate_rows,
)
from maas.exceptions import InvalidRows
from schemas.api import DEFAULT_PAGE_SIZE, FieldProblem, Page
from schemas.datasets import (
    DatasetDeleted,
    DatasetKind,
    DatasetName,
    DatasetRecord,
    DatasetSource,
    DatasetSpec,
    DatasetVersionRecord,
    DatasetVersionSpec,
)

if TYPE_CHECKING:
    from maas.datasets import VersionContent

router = APIGatewayRouter()

Name = Annotated[DatasetName, Path(description="The dataset's name.")]
Version = Annotated[int, Path(ge=1, description="The version number.")]

_TAGS = ["Datasets"]
#: How many bad rows a 422 names one by one in ``errors`` (``detail`` counts them all).
_LISTED_ROWS = 100
_WRITTEN: dict[int, Any] = {
    201: {"description": "The version was written."},
    200: {"description": "A version with these very rows exists (the same sha256): that one."},
}


def dataset_store(tenant: str) -> DatasetStore:
    """The tenant's datasets, through the tenant's session."""
    found = services(tenant)
    return DatasetStore(
        os.environ["MODELS_TABLE_NAME"],
        found.client("dynamodb"),
        found.s3,
        os.environ["ARTIFACTS_BUCKET_NAME"],
    )


def _content(
    tenant: str, kind: DatasetKind, body: DatasetSpec | DatasetVersionSpec, store: DatasetStore
) -> tuple[VersionContent, DatasetSource]:
    """The body's rows (or its source's), validated as ``kind``; a 422 per bad row."""
    field = "rows" if body.rows is not None else "source_uri"
    try:
        if body.rows is not None:
            return validate_rows(kind, numbered_rows(body.rows)), DatasetSource(type="upload")
        assert body.source_uri is not None
        source = read_prefix(
            services(tenant).s3, body.source_uri, bucket=store.bucket, tenant_id=tenant
        )
        return validate_rows(kind, source.rows()), source.source
    except InvalidRows as exc:
        raise InvalidFields(_row_problems(field, exc)) from None


def _row_problems(field: str, error: InvalidRows) -> list[FieldProblem]:
    """One problem per bad row (the first :data:`_LISTED_ROWS`), then how many more, then
    the limit the rows went past, if that is what stopped them."""
    problems = [
        FieldProblem(field=field, message=str(problem)) for problem in error.problems[:_LISTED_ROWS]
    ]
    if (more := len(error.problems) - _LISTED_ROWS) > 0:
        problems.append(FieldProblem(field=field, message=f"and {more} more invalid rows"))
    if error.limit:
        problems.append(FieldProblem(field=field, message=error.message))
    return problems


def _written(record: DatasetVersionRecord, created: bool, location: str) -> Response[Any]:
    return Response(
        status_code=201 if created else 200,
        content_type="application/json",
        body=record,
        headers={"Location": location},
    )


@router.post("/datasets", summary="Create a dataset", tags=_TAGS, responses=_WRITTEN)
def create_dataset(body: DatasetSpec) -> Response[DatasetVersionRecord]:
    """A new dataset of one kind, with the rows sent (or read from an S3 prefix of the
    tenant's) as its version 1. The same request again answers that version (200); a name
    the tenant has otherwise is a 409."""
    tenant = tenant_of(router)
    store = dataset_store(tenant)
    content, source = _content(tenant, body.kind, body, store)
    record, created = store.create(
        tenant, body.name, body.kind, content, source, description=body.description
    )
    return _written(record, created, f"/v1/datasets/{body.name}")


@router.get("/datasets", summary="List the datasets", tags=_TAGS)
def list_datasets(
    limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> Page[DatasetRecord]:
    """The tenant's datasets by name, each with its kind, status and latest version."""
    tenant = tenant_of(router)
    return paginate(
        dataset_store(tenant).list_datasets(tenant), lambda item: item.name, limit, next_token
    )


@router.get("/datasets/<name>", summary="Describe a dataset", tags=_TAGS)
def describe_dataset(name: Name) -> DatasetRecord:
    """One dataset: kind, status (``ACTIVE``, or ``DELETING`` until a delete finishes) and
    latest version."""
    tenant = tenant_of(router)
    return dataset_store(tenant).get(tenant, name)


@router.delete("/datasets/<name>", summary="Delete a dataset", tags=_TAGS)
def delete_dataset(name: Name) -> DatasetDeleted:
    """The dataset, every version's record and every object of its folder. One that fails on
    the way stays ``DELETING``; a delete again finishes it."""
    tenant = tenant_of(router)
    return dataset_store(tenant).delete(tenant, name)


@router.post(
    "/datasets/<name>/versions", summary="Add a dataset version", tags=_TAGS, responses=_WRITTEN
)
def create_dataset_version(name: Name, body: DatasetVersionSpec) -> Response[DatasetVersionRecord]:
    """The rows sent (or read from an S3 prefix of the tenant's), validated as the dataset's
    kind, as its next version; rows that a version holds already answer that version (200)."""
    tenant = tenant_of(router)
    store = dataset_store(tenant)
    dataset = store.get(tenant, name)
    content, source = _content(tenant, dataset.kind, body, store)
    record, created = store.add_version(dataset, content, source, description=body.description)
    return _written(record, created, f"/v1/datasets/{name}/versions/{record.version}")


@router.get("/datasets/<name>/versions", summary="List a dataset's versions", tags=_TAGS)
def list_dataset_versions(
    name: Name, limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> Page[DatasetVersionRecord]:
    """The dataset's versions, oldest first."""
    tenant = tenant_of(router)
    versions = dataset_store(tenant).list_versions(tenant, name)
    return paginate(versions, lambda item: f"{item.version:010d}", limit, next_token)


@router.get("/datasets/<name>/versions/<version>", summary="Describe a version", tags=_TAGS)
def describe_dataset_version(name: Name, version: Version) -> DatasetVersionRecord:
    """One version: its sha256, rows, bytes, where its JSONL is and where it came from."""
    tenant = tenant_of(router)
    return dataset_store(tenant).get_version(tenant, name, version)
