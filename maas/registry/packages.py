"""SageMaker's model registry: a Model Package Group per model, a Model Package per version.

The package points at the uncompressed artifact and the serving image; its approval status
is what deployment checks. Registration is idempotent per execution: SageMaker numbers a
group's packages itself, so a retried registration must find the package it made (by the
``maas:correlation-id`` metadata) rather than add another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.naming import tenant_sagemaker_name

if TYPE_CHECKING:
    from schemas.packaging import ApprovalStatus, PackageManifest

CORRELATION_KEY = "maas:correlation-id"
VERSION_KEY = "maas:version"


def model_package_group_name(tenant_id: str, model_name: str) -> str:
    """``<tenant>-<model>-<hash of tenant and model>``, shortened to SageMaker's 63 characters.

    Group names are per account and region, and ``-`` may be in both a tenant and a model
    name: without the hash ``acme`` + ``x-y`` and ``acme-x`` + ``y`` would share one group,
    and one tenant would register its versions in the other's. The hash is of the pair,
    separated by ``/`` (in neither), so two tenants never meet on a group however the
    readable part is shortened.

    Groups named before the hash (``<tenant>-<model>``) are not written again: a new version
    registers in its hashed group, and the versions already registered keep their packages
    (records and deployments name packages by ARN, not by group).

    Examples
    --------
    >>> model_package_group_name("acme", "glm-4-9b-chat")
    'acme-glm-4-9b-chat-f8971047'
    >>> model_package_group_name("acme", "x-y") != model_package_group_name("acme-x", "y")
    True
    >>> len(model_package_group_name("t" * 32, "m" * 48))
    63
    """
    return tenant_sagemaker_name(tenant_id, model_name)


def _tags(manifest: PackageManifest) -> list[dict[str, str]]:
    return [
        {"Key": "maas:tenant", "Value": manifest.tenant_id},
        {"Key": "maas:model", "Value": manifest.model_name},
    ]


class ModelPackages:
    """Registers packaged versions in SageMaker's model registry.

    Parameters
    ----------
    sagemaker
        A boto3 SageMaker client.
    """

    def __init__(self, sagemaker: Any) -> None:
        self._sagemaker = sagemaker

    def register(
        self, manifest: PackageManifest, *, approval_status: ApprovalStatus, description: str
    ) -> str:
        """Create (or find, on a retry) the version's model package; return its ARN."""
        group = self._ensure_group(manifest)
        existing = self._find(group, manifest.correlation_id)
        if existing:
            return existing
        response = self._sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=description[:1000],
            ModelApprovalStatus=approval_status.value,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": manifest.image_uri,
                        "ModelDataSource": {
                            "S3DataSource": {
                                "S3Uri": manifest.artifact_uri,
                                "S3DataType": "S3Prefix",
                                "CompressionType": "None",
                            }
                        },
                        "Environment": manifest.environment,
                    }
                ],
                "SupportedRealtimeInferenceInstanceTypes": [manifest.instance_type],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            CustomerMetadataProperties={
                CORRELATION_KEY: manifest.correlation_id,
                VERSION_KEY: str(manifest.version),
            },
            Tags=_tags(manifest),
        )
        return str(response["ModelPackageArn"])

    def _ensure_group(self, manifest: PackageManifest) -> str:
        group = model_package_group_name(manifest.tenant_id, manifest.model_name)
        try:
            self._sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        except Exception as exc:
            if error_code(exc) != "ValidationException":
                raise
            self._sagemaker.create_model_package_group(
                ModelPackageGroupName=group,
                ModelPackageGroupDescription=f"Versions of {manifest.model_name}",
                Tags=_tags(manifest),
            )
        return group

    def _find(self, group: str, correlation_id: str) -> str | None:
        arguments: dict[str, Any] = {"ModelPackageGroupName": group}
        while True:
            response = self._sagemaker.list_model_packages(**arguments)
            for summary in response.get("ModelPackageSummaryList", []):
                arn = summary["ModelPackageArn"]
                described = self._sagemaker.describe_model_package(ModelPackageName=arn)
                metadata = described.get("CustomerMetadataProperties") or {}
                if metadata.get(CORRELATION_KEY) == correlation_id:
                    return str(arn)
            if not response.get("NextToken"):
                return None
            arguments["NextToken"] = response["NextToken"]


__all__ = ["CORRELATION_KEY", "VERSION_KEY", "ModelPackages", "model_package_group_name"]
