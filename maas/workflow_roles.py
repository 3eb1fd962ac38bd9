"""Each tenant's workflow role: the role a workflow's service calls are made as.

Why this exists: a Step Functions execution cannot carry a session tag, so a state machine's
own role acts for every tenant, and IAM could only say "resources the product made" of what
it touches. A Task state may instead name the role its call is made with (``Credentials``,
https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html#task-state-fields), and
a role's own tags are its sessions' principal tags
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html). So each tenant gets
a role of its own, tagged ``maas:tenant=<tenant>``, holding the one managed policy whose
statements compare ``${aws:PrincipalTag/maas:tenant}`` with the tags and names of what each
call touches. A workflow's first step after its plan (the ``ActForTenant`` function) makes
sure the tenant's role exists and hands its ARN to every later SageMaker, Application Auto
Scaling and CloudWatch call: a deletion or change of another tenant's endpoint is refused by
IAM even where a step was given the wrong name.

The role is created on a tenant's first workflow, not at sign-up, so a platform team adds
tenants in Cognito alone. What the creating function may do is held by its own statements:
create roles only under this stage's prefix and only with the ``maas:tenant`` tag, and attach
only the tenant workflow policy (``iam:PolicyARN``), so it cannot make a role with more
rights than a tenant's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maas.exceptions import ValidationError
from maas.tenancy import TENANT_TAG

if TYPE_CHECKING:
    from collections.abc import Callable

#: The tag that marks the roles allowed to assume tenant workflow roles (the stage's state
#: machines' roles); its value is the stage's role name prefix.
ACTS_FOR_TENANTS_TAG = "maas:acts-for-tenants"
#: IAM's limit on a role name.
ROLE_NAME_LENGTH = 64
_HASH_LENGTH = 8

logger = logging.getLogger(__name__)


def workflow_role_name(prefix: str, tenant_id: str) -> str:
    """The name of ``tenant_id``'s workflow role: ``<prefix>-<tenant>``, or, where that is
    longer than IAM allows, the tenant cut short and a hash of the whole.

    >>> workflow_role_name("maas-dev-tenant-workflows", "acme")
    'maas-dev-tenant-workflows-acme'
    >>> name = workflow_role_name("maas-production-eu-tenant-workflows", "a" * 32)
    >>> len(name), name.endswith(hashlib.sha256(b"a" * 32).hexdigest()[:8])
    (64, True)
    """
    name = f"{prefix}-{tenant_id}"
    if len(name) <= ROLE_NAME_LENGTH:
        return name
    digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:_HASH_LENGTH]
    kept = ROLE_NAME_LENGTH - len(prefix) - len(digest) - 2
    if kept < 1:
        raise ValueError(f"role name prefix {prefix!r} leaves no room for a tenant")
    return f"{prefix}-{tenant_id[:kept]}-{digest}"


def trust_policy(account_root: str, prefix: str) -> dict[str, Any]:
    """Who may assume a tenant workflow role: a role of the account tagged as the stage's
    workflows' (:data:`ACTS_FOR_TENANTS_TAG`), which its own statements must also allow.

    Naming the account as principal leaves the decision to the assuming role's identity
    policy and the tag: the state machines' roles, created after this function's stack,
    need not be listed in every tenant's role.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {f"aws:PrincipalTag/{ACTS_FOR_TENANTS_TAG}": prefix}},
            }
        ],
    }


@dataclass(frozen=True)
class TenantWorkflowRoles:
    """Finds or creates each tenant's workflow role.

    Parameters
    ----------
    iam
        A boto3 IAM client (the ``ActForTenant`` function's role).
    prefix
        The stage's role name prefix (``maas-<stage>-tenant-workflows``).
    policy_arn
        The tenant workflow policy, the only one the roles hold.
    propagation_seconds
        How long a new role is given before it is used: IAM is eventually consistent, and a
        role just created may not be assumable yet
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
    sleep
        Waits that long (a test's clock).
    """

    iam: Any
    prefix: str
    policy_arn: str
    propagation_seconds: float = 0.0
    sleep: Callable[[float], None] = time.sleep

    def ensure(self, tenant_id: str) -> str:
        """The ARN of ``tenant_id``'s workflow role, created with its policy if it is new.

        Raises
        ------
        maas.exceptions.ValidationError
            A role of that name exists and is not the tenant's (another tenant's, or one
            made by hand): nothing is changed, and no workflow acts through it.
        """
        name = workflow_role_name(self.prefix, tenant_id)
        role, created = self._find_or_create(name, tenant_id)
        tags = {tag["Key"]: tag["Value"] for tag in role.get("Tags") or []}
        if tags.get(TENANT_TAG) != tenant_id:
            raise ValidationError(
                f"the workflow role {name} exists and is not tenant {tenant_id}'s: "
                "an operator must rename or remove it"
            )
        # Always attached, as an earlier call may have stopped between creation and this.
        self.iam.attach_role_policy(RoleName=name, PolicyArn=self.policy_arn)
        if created and self.propagation_seconds:
            self.sleep(self.propagation_seconds)
        return str(role["Arn"])

    def _find_or_create(self, name: str, tenant_id: str) -> tuple[dict[str, Any], bool]:
        found = self._role(name)
        if found is not None:
            return found, False
        # The policy's ARN names the account: arn:<partition>:iam::<account>:policy/<name>.
        account = self.policy_arn.split(":policy/", 1)[0]
        try:
            created = self.iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust_policy(f"{account}:root", self.prefix)),
                Description=f"maas workflows acting for tenant {tenant_id}",
                Tags=[{"Key": TENANT_TAG, "Value": tenant_id}],
            )
        except self.iam.exceptions.EntityAlreadyExistsException:
            # Another workflow of the tenant created it meanwhile.
            return self.iam.get_role(RoleName=name)["Role"], False
        logger.info("created the workflow role of tenant %s: %s", tenant_id, name)
        role: dict[str, Any] = created["Role"]
        role.setdefault("Tags", [{"Key": TENANT_TAG, "Value": tenant_id}])
        return role, True

    def _role(self, name: str) -> dict[str, Any] | None:
        """The role called ``name`` as ``GetRole`` answers it (with its tags), or None."""
        try:
            role: dict[str, Any] = self.iam.get_role(RoleName=name)["Role"]
        except self.iam.exceptions.NoSuchEntityException:
            return None
        return role


__all__ = [
    "ACTS_FOR_TENANTS_TAG",
    "TenantWorkflowRoles",
    "trust_policy",
    "workflow_role_name",
]
