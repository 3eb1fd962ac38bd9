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
    Field(description="An s3://bucket/key URI.", examples=["s3://models/acme/glm4/1/"]),
]

#: Requests reject unknown fields so that a typo is an error, not a silent default.
REQUEST_CONFIG = ConfigDict(extra="forbid")
#: Records and events tolerate fields added by newer writers.
DOCUMENT_CONFIG = ConfigDict(extra="ignore")


def _lambda_error_message(value: Any) -> Any:
    # Step Functions reports a Lambda error's Cause as the runtime's JSON error document;
    # records and events carry its message, which is what a person needs to read.
    if isinstance(value, str) and value.startswith("{"):
        try:
            document = json.loads(value)
        except ValueError:
            return value
        if isinstance(document, dict) and "errorMessage" in document:
            return str(document["errorMessage"])
        # A child execution's failure (startExecution.sync:2): the cause is the child's
        # DescribeExecution answer; what a person needs is the child's own error and cause.
        if isinstance(document, dict) and {"Error", "Cause"} <= document.keys():
            return f"{document['Error']}: {document['Cause']}"
    return value


FailureCause = Annotated[
    str,
    BeforeValidator(_lambda_error_message),
    Field(description="What went wrong, as the failing step reported it."),
]


def _in_the_future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise ValueError(f"must be in the future, got {value.isoformat()}")
    return value


FutureDatetime = Annotated[AwareDatetime, AfterValidator(_in_the_future)]
