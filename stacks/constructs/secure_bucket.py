"""An S3 bucket for data the control plane keeps, with its own access-log bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_kms as kms

#: S3 server access logs can only be delivered to a bucket encrypted with SSE-S3.
_ACCESS_LOGS_ENCRYPTION = s3.BucketEncryption.S3_MANAGED


class SecureBucket(Construct):
    """A private, versioned, KMS-encrypted, TLS-only bucket whose access is logged.

    The access-log bucket is private and TLS-only too; it logs nothing itself (cdk-nag's
    AwsSolutions-S1 recognizes it as a log destination).

    Parameters
    ----------
    scope, id
        Where the construct lives.
    bucket_name
        The bucket's name (the stacks derive it from stage, account and region).
    encryption_key
        The customer managed key objects are encrypted with (with an S3 bucket key, so a
        request does not cost a KMS call).
    removal_policy
        What happens to both buckets when the stack is deleted.

    Incomplete multipart uploads are aborted after a week, and object versions replaced by
    a re-upload expire after a month.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        encryption_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=_ACCESS_LOGS_ENCRYPTION,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{id}/",
            lifecycle_rules=[
                # Model artifacts are uploaded in parts; a failed upload's parts cost until
                # aborted. Versions replaced by a re-upload are kept a month for recovery.
                s3.LifecycleRule(
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
            removal_policy=removal_policy,
        )


__all__ = ["SecureBucket"]
