"""Valid documents to start tests from; each test changes only what it is about."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from maas.local.awslambda import LambdaContext
from schemas import PackageManifest

if TYPE_CHECKING:
    from schemas import ModelVersionRecord

ARTIFACTS_BUCKET = "maas-artifacts-bucket-123456789012"
IMAGE_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"


def deployment_request(**overrides: Any) -> dict[str, Any]:
    """A deployment request that validates, with ``overrides`` applied at the top level."""
    request: dict[str, Any] = {
        "tenant_id": "acme",
        "endpoint_name": "chat",
        "instance_type": "ml.g5.xlarge",
        "instance_count": 1,
        "model": {
            "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "version": "1",
            "image_uri": IMAGE_URI,
            "model_data_url": f"s3://{ARTIFACTS_BUCKET}/acme/smollm2/1/",
        },
    }
    request.update(copy.deepcopy(overrides))
    return request


def in_one_hour() -> str:
    """An ``expires_at`` an hour from now, ISO 8601 with a zone."""
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def packaging_request(**overrides: Any) -> dict[str, Any]:
    """A packaging request of a local GGUF file, with ``overrides`` applied at the top level."""
    request: dict[str, Any] = {
        "tenant_id": "acme",
        "model_name": "smollm2",
        "source": {"kind": "local", "path": "/models/SmolLM2-135M-Instruct.Q4_1.gguf"},
        "approval_status": "Approved",
    }
    request.update(copy.deepcopy(overrides))
    return request


def package_manifest(record: ModelVersionRecord, **overrides: Any) -> PackageManifest:
    """What a packaging job would write for the opened version ``record``, with ``overrides``."""
    document = {
        "tenant_id": record.tenant_id,
        "model_name": record.model_name,
        "version": record.version,
        "correlation_id": record.correlation_id,
        "source": record.source.model_dump(),
        "architecture": "llama",
        "artifact_uri": record.artifact_uri,
        "files": [],
        "total_bytes": 0,
        "image_uri": IMAGE_URI,
        "instance_type": "ml.g6.xlarge",
        "serving_properties": "engine=Python\n",
        "advisor_report": {"weight_bytes": 1},
        "created_at": datetime.now(UTC).isoformat(),
    }
    return PackageManifest.model_validate(document | overrides)


def lambda_context() -> LambdaContext:
    """The context Lambda hands a handler, for calling one directly; an hour left to run."""
    return LambdaContext(
        function_name="test",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:test",
        memory_limit_in_mb=256,
        aws_request_id="request-1",
        log_group_name="/aws/lambda/test",
        log_stream_name="stream",
        deadline=time.monotonic() + 3600,
    )
