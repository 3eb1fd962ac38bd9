"""Typed errors of the control plane, one root, one module.

Every error a workflow must tell apart is a subclass of :class:`MaasError`. Its *error name*
(``Maas.ValidationError``, ``Maas.NotFound``, ...) is what a state machine's ``Retry`` and
``Catch`` match on, and what the REST API maps to a status code.

Why the class ``__name__`` is rewritten: the AWS Lambda Python runtime reports a raised
exception to Step Functions as ``errorType = type(exc).__name__``. Giving each class the
dotted name makes a handler that raises ``ValidationError`` fail its task with
``Maas.ValidationError`` on AWS and on the local runtime alike, with no wrapper in between.

Examples
--------
>>> from maas.exceptions import ValidationError
>>> ValidationError("endpoint_name: too long").error_name
'Maas.ValidationError'
>>> type(ValidationError("x")).__name__
'Maas.ValidationError'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

ERROR_PREFIX = "Maas."

__all__ = [
    "ERROR_PREFIX",
    "Conflict",
    "DeletionTimedOut",
    "DeploymentTimedOut",
    "EndpointFailed",
    "EventNotPublished",
    "InsufficientStorage",
    "IntegrityError",
    "InvalidRows",
    "MaasError",
    "NoInstanceFits",
    "NotFound",
    "PackagingFailed",
    "QuotaExceeded",
    "RowProblem",
    "SourceAccessDenied",
    "SourceNotFound",
    "SourceUnavailable",
    "UnsupportedArchitecture",
    "ValidationError",
]


class MaasError(Exception):
    """Root of every error the control plane raises on purpose."""

    error_name: ClassVar[str] = "Maas.Error"
    http_status: ClassVar[int] = 500

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.error_name = f"{ERROR_PREFIX}{cls.__name__}"
        cls.__name__ = cls.error_name

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(MaasError):
    """A request is malformed or asks for something impossible; the message names the field."""

    http_status = 400


class UnsupportedArchitecture(ValidationError):
    """The model's ``config.json`` declares an architecture the serving-size advisor cannot size.

    The message names the architecture and lists the supported families.
    """


class NoInstanceFits(ValidationError):
    """No instance in the catalog can serve the model as asked.

    The message says what would fit: the smallest instance with a quantization, the
    quantization that would make it fit, or that nothing in the catalog can hold it.
    """


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row of a dataset, and where the row is (``row 3``, or
    ``s3://bucket/key line 3``)."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class InvalidRows(ValidationError):
    """A dataset version's rows do not validate: ``problems`` names each bad row by its
    number (or its object and line), and the message lists the first :attr:`LISTED`; or the
    rows are past a limit (``limit``: the message says which), with the bad rows met before."""

    #: How many problems the message lists before it only counts the rest.
    LISTED: ClassVar[int] = 10

    def __init__(self, message: str, problems: list[RowProblem], *, limit: bool = False) -> None:
        super().__init__(message)
        self.problems = list(problems)
        self.limit = limit


class NotFound(MaasError):
    """The resource does not exist for this tenant (another tenant's resource is not found)."""

    http_status = 404


class Conflict(MaasError):
    """The resource is in a state that does not allow the operation (for example it exists)."""

    http_status = 409


class QuotaExceeded(MaasError):
    """A tenant or account limit would be exceeded."""

    http_status = 429


class EndpointFailed(MaasError):
    """SageMaker reported the endpoint ``Failed``; the message carries its ``FailureReason``."""

    http_status = 502


class DeploymentTimedOut(MaasError):
    """The endpoint did not reach ``InService`` within the allowed number of status checks."""

    http_status = 504


class DeletionTimedOut(MaasError):
    """The endpoint was still being deleted after the allowed number of status checks."""

    http_status = 504


class EventNotPublished(MaasError):
    """EventBridge did not accept an event (``FailedEntryCount`` above zero)."""

    http_status = 502


class SourceNotFound(NotFound):
    """A model source does not exist: an unknown model id, revision, S3 prefix or path."""


class SourceAccessDenied(MaasError):
    """A model source refused access, for example a gated model asked for without a token."""

    http_status = 403


class SourceUnavailable(MaasError):
    """A model source could not be reached, or stopped answering mid-download, after retries."""

    http_status = 503


class IntegrityError(MaasError):
    """A file's size or checksum differs from what its source declares."""

    http_status = 502


class InsufficientStorage(MaasError):
    """The packaging job ran out of disk; the message says how much it needed and had."""

    http_status = 507


class PackagingFailed(MaasError):
    """The packaging job failed for a reason no more specific error names.

    The message is the underlying exception's type and message.
    """

    http_status = 502
