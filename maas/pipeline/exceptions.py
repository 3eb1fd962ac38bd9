"""Errors of a served request's pipeline, named as the API reports them.

A corpus that cannot be read is the configuration's fault (the caller fixes the pipeline);
a model the pipeline calls that fails (the endpoint, an embedding model) is an upstream
failure, a 502 for the API.
"""

from __future__ import annotations

from maas.exceptions import MaasError, ValidationError


class CorpusInvalid(ValidationError):
    """The knowledge corpus is not JSONL of documents; the message names the line."""


class CorpusNotFound(ValidationError):
    """The knowledge corpus's S3 object does not exist: the pipeline points at nothing.

    A 422 rather than a 404, which for a request to an endpoint would read as "no such
    endpoint".
    """


class ModelCallFailed(MaasError):
    """A model the pipeline calls (the endpoint, an embedding model) answered an error."""

    http_status = 502


__all__ = ["CorpusInvalid", "CorpusNotFound", "ModelCallFailed"]
