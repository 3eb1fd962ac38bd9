"""The customer managed key that encrypts the control plane's data at rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks import iam_policies

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy


class EncryptionKey(Construct):
    """A KMS key with yearly rotation that the table, buckets and log groups use.

    Its key policy trusts the account (IAM policies then grant each principal what it uses)
    and lets CloudWatch Logs encrypt this account's log groups in this region.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    alias
        The key's alias, without ``alias/``.
    removal_policy
        What happens to the key when the stack is deleted.
    """

    def __init__(
        self, scope: Construct, id: str, *, alias: str, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description="Encrypts the maas control plane's table, artifacts and logs.",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.key.add_to_resource_policy(iam_policies.logs_use_key())


__all__ = ["EncryptionKey"]
