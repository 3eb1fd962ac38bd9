"""Constrained types shared by every model: names as AWS validates them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

#: SageMaker's pattern and length for endpoint, endpoint-config and model names.
SAGEMAKER_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
SAGEMAKER_NAME_MAX_LENGTH = 63

EndpointName = Annotated[
    str,
    StringConstraints(max_length=SAGEMAKER_NAME_MAX_LENGTH, pattern=SAGEMAKER_NAME_PATTERN),
    Field(
        description="SageMaker endpoint name: letters, digits and hyphens, 1 to 63 characters, "
        "starting and ending with a letter or digit.",
        examples=["glm4-chat-prod"],
    ),
]

TenantId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$"),
    Field(
        description="Tenant that owns the resource: lower-case letters, digits and hyphens, "
        "1 to 32 characters. It prefixes keys and tags every resource (maas:tenant).",
        examples=["acme"],
    ),
]

ModelName = Annotated[
    str,
    StringConstraints(max_length=48, pattern=r"^[a-z0-9](-*[a-z0-9]){0,47}$"),
    Field(
        description="The registry's name of a model: lower-case letters, digits and hyphens, "
        "1 to 48 characters. Derived from the source when omitted.",
        examples=["glm-4-9b-chat"],
    ),
]

CorrelationId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(
        description="The name of the Step Functions execution that did the work; "
        "follow it across records, events and logs.",
        examples=["deploy-7f3c2a9e"],
    ),
]

S3Uri = Annotated[
    str,
    StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", max_length=1024),
    # The example is a folder of tenant acme in the local runtime's artifacts bucket: the one
    # place every S3 field of a request accepts (a tenant names only its own folder there).
    Field(
        description="An s3://bucket/key URI.",
        examples=["s3://maas-artifacts-bucket-123456789012/acme/glm-4-9b-chat/1/"],
    ),
]

#: Requests reject unknown fields so that a typo is an error, not a silent default. Their
#: integer and boolean fields are ``StrictInt`` and ``StrictBool``: pydantic's lax mode would
#: read ``"3"``, ``3.0`` or ``true`` as 3, and ``"no"`` as False; a request gets no guess.
#: (Not ``strict=True`` here: strict Python mode refuses enum values and dates as strings.)
REQUEST_CONFIG = ConfigDict(extra="forbid")
#: Records and events tolerate fields added by newer writers.
DOCUMENT_CONFIG = ConfigDict(extra="ignore")


#: Where Python starts a stack trace in text.
_TRACEBACK = "Traceback (most recent call last):"


def failure_message(cause: str) -> str:
    r"""What a caller reads of a failure's cause: the message, never a stack trace.

    Step Functions records a failed step's cause as the service wrote it: a Lambda function's
    error document (message, type and stack trace with the server's paths), a child
    execution's description, a Batch job's whole description (its command and environment).
    The stack trace stays in the function's log, under the execution's name (the correlation
    id of its log lines); what a person needs is the message.

    Examples
    --------
    >>> lambda_error = {"errorMessage": "no such model", "errorType": "Maas.NotFound",
    ...                 "stackTrace": ['  File "/var/task/functions/plan.py", line 9']}
    >>> failure_message(json.dumps(lambda_error))
    'no such model'
    >>> job = {"JobId": "1", "Status": "FAILED", "StatusReason": "exited",
    ...        "Container": {"ExitCode": 1, "Command": ["python", "-m", "packager"]}}
    >>> failure_message(json.dumps(job))
    'Batch job 1 FAILED: exited (exit code 1)'
    >>> failure_message("failed. Traceback (most recent call last):\n  File ...\nKeyError: 'x'")
    "failed. KeyError: 'x'"
    """
    try:
        document = json.loads(cause) if cause.startswith("{") else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return _without_traceback(cause)
    if "errorMessage" in document:
        return _without_traceback(str(document["errorMessage"]))
    # A child execution's failure (startExecution.sync:2): its description, whose own
    # error and cause are what a person needs.
    if {"Error", "Cause"} <= document.keys():
        return f"{document['Error']}: {failure_message(str(document['Cause']))}"
    # A failed batch:submitJob.sync: the job's description; its status reason and exit code.
    if "JobId" in document:
        reason = document.get("StatusReason") or "no reason given"
        container = document.get("Container")
        exit_code = container.get("ExitCode") if isinstance(container, dict) else None
        suffix = f" (exit code {exit_code})" if exit_code is not None else ""
        return f"Batch job {document['JobId']} {document.get('Status', 'FAILED')}: {reason}{suffix}"
    return cause


def _without_traceback(text: str) -> str:
    if _TRACEBACK not in text:
        return text
    before, _, trace = text.partition(_TRACEBACK)
    # The trace's last line names the exception and its message.
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    return " ".join(part for part in (before.strip(), lines[-1] if lines else "") if part)


def _failure_message(value: Any) -> Any:
    return failure_message(value) if isinstance(value, str) else value


FailureCause = Annotated[
    str,
    BeforeValidator(_failure_message),
    Field(description="What went wrong, as the failing step reported it."),
]


def _in_the_future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise ValueError(f"must be in the future, got {value.isoformat()}")
    return value


FutureDatetime = Annotated[AwareDatetime, AfterValidator(_in_the_future)]
