"""Enforce the roles' IAM statements on the calls their sessions make to the emulated account.

Why this exists: moto answers every call, whoever signs it, so a handler that asked for
another tenant's item would get it locally where AWS would refuse. While a runtime is up,
every call signed with the credentials of a session of an enforced role (the tenant access
role, which the API function assumes per tenant: :mod:`maas.tenancy`; with
``LocalSettings.enforce_function_iam``, each function's execution role, whose session signs
the function's calls: :mod:`maas.local.function_credentials`; with
``enforce_workflow_iam``, each state machine's, whose session signs its service
integrations' calls: :mod:`maas.local.workflow_credentials`) is evaluated
before moto sees it, with the role's statements as the stacks synthesize them
(:mod:`maas.local.iam_roles`), AWS's evaluation logic (:mod:`maas.local.iam`) and the
action, resource and condition keys AWS would use (:mod:`maas.local.iam_requests`). A call
they do not allow fails as on AWS: a ``ClientError`` with the service's AccessDenied code
(``AccessDeniedException`` for JSON protocols, ``AccessDenied`` for S3 and query protocols)
and AWS's message. Calls signed otherwise (the runtime's own) are untouched.

How:

- Who signs: moto's STS issues the credentials but keeps no session tags, so its
  ``AssumeRole`` is wrapped to remember, per access key, the role, the session and its tags
  (``aws:PrincipalTag/...``). The record outlives the runtime, as the API keeps its tenant
  sessions for their hour, across runtimes of one process.
- Where: botocore's ``before-call`` event, which may answer a call instead of sending it (as
  botocore's own Stubber does), so the denial takes botocore's usual path to the caller. The
  handlers join ``botocore.handlers.BUILTIN_HANDLERS`` while a runtime is up, so every
  session created meanwhile (the API's tenant sessions are created on first use) has them;
  ``before-parameter-build`` keeps the call's parameters for ``before-call``.
- A process that reaches the runtime over HTTP (a Batch job, with its job role's session
  and then its tenant's) is checked by the emulation's server with this same enforcement
  (:mod:`maas.local.http_server`).
"""

from __future__ import annotations

import functools
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto.cloudwatch.models import cloudwatch_backends
from moto.dynamodb.models import dynamodb_backends
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sts.responses import TokenResponse

from maas.local import patching
from maas.local.iam import Decision, Policy, Request, evaluate
from maas.local.iam_requests import Lookups, action_prefix, authorizations
from maas.local.iam_roles import managed_policy_documents, read_export, role_policies
from maas.manifest import Ref, RefKind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import ExitStack

    from botocore.model import OperationModel

    from maas.local.provision import LocalResources

#: Where ``before-parameter-build`` leaves the call's parameters for ``before-call``.
_PARAMS = "maas_iam_params"
#: Protocols whose AccessDenied error code is ``AccessDenied`` (else ``AccessDeniedException``).
_XML_PROTOCOLS = frozenset({"query", "rest-xml", "ec2"})


@dataclass(frozen=True)
class Principal:
    """A role session: who signs with one access key."""

    role_arn: str
    session_arn: str
    user_id: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Denial:
    """A refused call: AWS's AccessDenied message, worded as IAM words it."""

    message: str

    @classmethod
    def of(cls, principal: Principal, request: Request, decision: Decision) -> Denial:
        """The refusal of ``request`` by ``principal``'s policies."""
        why = (
            "with an explicit deny in an identity-based policy"
            if decision is Decision.EXPLICIT_DENY
            else f"because no identity-based policy allows the {request.action} action"
        )
        return cls(
            f"User: {principal.session_arn} is not authorized to perform: {request.action} "
            f"on resource: {request.resource} {why}"
        )

    def error(self, protocol: str) -> tuple[int, str]:
        """The HTTP status and error code a service of ``protocol`` answers it with."""
        xml = protocol in _XML_PROTOCOLS
        status = 403 if xml or protocol == "rest-json" else 400
        return status, "AccessDenied" if xml else "AccessDeniedException"


#: Access key id -> the session it was issued to (kept for the process: see the module doc).
_principals: dict[str, Principal] = {}
_principals_lock = threading.Lock()


@dataclass(frozen=True)
class RunTimeRoles:
    """Roles made while the runtime runs (the tenants' workflow roles: maas.workflow_roles),
    enforced with the exported managed policies they hold.

    A role whose ARN starts with one of ``prefixes`` is enforced whatever it holds: with none
    of the known policies attached yet it may do nothing, as on AWS.

    Parameters
    ----------
    prefixes
        The ARN prefixes of such roles (``arn:aws:iam::<account>:role/<prefix>-``).
    managed
        The managed policies they may hold, by ARN, resolved in the local account.
    facts
        The emulated IAM's word on a role by ARN: the ARNs of its attached policies and its
        tags, or None where there is no such role.
    """

    prefixes: tuple[str, ...]
    managed: Mapping[str, list[Policy]]
    facts: Callable[[str], tuple[tuple[str, ...], Mapping[str, str]] | None]

    def of(self, role_arn: str) -> tuple[list[Policy], Mapping[str, str]] | None:
        """The role's policies and tags, or None for a role not made at run time."""
        if not role_arn.startswith(self.prefixes):
            return None
        facts = self.facts(role_arn)
        if facts is None:
            return None
        attached, tags = facts
        return [policy for arn in attached for policy in self.managed.get(arn, [])], tags


class Enforcement:
    """The statements of the enforced roles, applied to their sessions' calls.

    Parameters
    ----------
    policies
        Each enforced role's ARN and its policies.
    lookups
        What the emulated account knows about resources (tags, key schemas).
    """

    def __init__(
        self,
        policies: Mapping[str, list[Policy]],
        lookups: Lookups,
        run_time_roles: RunTimeRoles | None = None,
    ) -> None:
        self._policies = dict(policies)
        self._lookups = lookups
        self._run_time_roles = run_time_roles

    def enforces(self, principal: Principal) -> bool:
        """Whether ``principal``'s calls are evaluated (its role is one of the enforced)."""
        return self._role(principal.role_arn) is not None

    def _role(self, role_arn: str) -> tuple[list[Policy], Mapping[str, str]] | None:
        """The enforced role's policies and its own tags, or None for a role not enforced."""
        policies = self._policies.get(role_arn)
        if policies is not None:
            return policies, {}
        if self._run_time_roles is None:
            return None
        return self._run_time_roles.of(role_arn)

    def check(
        self, principal: Principal, model: OperationModel, params: Mapping[str, Any]
    ) -> Denial | None:
        """Why a call ``principal`` may not make is refused, or None to let it go."""
        role = self._role(principal.role_arn)
        if role is None:
            return None
        policies, role_tags = role
        prefix = action_prefix(model.service_model.signing_name)
        # A role's own tags are its sessions' principal tags; a session tag of the same key
        # wins (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html).
        context = self._principal_keys(principal, {**role_tags, **principal.tags})
        for needed in authorizations(prefix, model.name, params, self._lookups):
            request = Request(needed.action, needed.resource, {**context, **needed.keys})
            decision = evaluate(policies, request)
            if decision is not Decision.ALLOW:
                return Denial.of(principal, request, decision)
        return None

    def _principal_keys(
        self, principal: Principal, tags: Mapping[str, str]
    ) -> dict[str, tuple[str, ...]]:
        # The global condition keys of a role session (no aws:username: roles have none).
        keys: dict[str, tuple[str, ...]] = {
            f"aws:PrincipalTag/{key}": (value,) for key, value in tags.items()
        }
        keys.update(
            {
                "aws:PrincipalArn": (principal.role_arn,),
                "aws:PrincipalAccount": (self._lookups.account_id,),
                "aws:PrincipalType": ("AssumedRole",),
                "aws:userid": (principal.user_id,),
                "aws:RequestedRegion": (self._lookups.region,),
                "aws:SecureTransport": ("true",),
            }
        )
        return keys


_active: Enforcement | None = None


def active() -> Enforcement | None:
    """The enforcement installed now, if any."""
    return _active


def principal_of(access_key: str) -> Principal | None:
    """The role session ``access_key`` was issued to, if the emulated STS issued it."""
    with _principals_lock:
        return _principals.get(access_key)


def install(stack: ExitStack, enforcement: Enforcement) -> None:
    """Enforce ``enforcement`` until ``stack`` closes (then what was enforced before)."""
    global _active
    previous, _active = _active, enforcement

    def restore() -> None:
        global _active  # noqa: PLW0603
        _active = previous

    stack.callback(restore)
    stack.enter_context(patching.replace(TokenResponse, "assume_role", _remembering_assume_role()))
    stack.enter_context(
        patching.replace(
            botocore.handlers,
            "BUILTIN_HANDLERS",
            [
                *botocore.handlers.BUILTIN_HANDLERS,
                ("before-parameter-build", _keep_params),
                ("before-call", _authorize),
            ],
        )
    )


def enforce_roles(
    resources: LocalResources,
    guardrail_tags: Callable[[str], Mapping[str, str] | None],
    exported: dict[str, Any] | None = None,
) -> Enforcement:
    """The enforcement of every role the export holds, in the account ``resources`` describe.

    ``exported`` defaults to the committed export; a test passes an altered copy (a
    statement without its condition) to see what the condition holds back.
    """
    exported = exported if exported is not None else read_export()
    settings = resources.settings
    run_time_roles = RunTimeRoles(
        prefixes=tuple(
            resources.arn("iam", f"role/{resources.name(name_id)}-")
            for name_id in exported["NamePrefixes"]
        ),
        managed={
            resources.resolve(Ref(kind=RefKind.POLICY_ARN, target=policy_id)): [
                Policy.from_document(document)
                for document in managed_policy_documents(policy_id, resources, exported)
            ]
            for policy_id in exported["ManagedPolicies"]
        },
        facts=functools.partial(_role_facts, settings.account_id),
    )
    return Enforcement(
        {
            resources.roles[role_id]: role_policies(role_id, resources, exported)
            for role_id in exported["Roles"]
            if role_id in resources.roles  # a test's narrowed manifest may leave one out
        },
        moto_lookups(settings.account_id, settings.region, guardrail_tags),
        run_time_roles,
    )


def _role_facts(account_id: str, role_arn: str) -> tuple[tuple[str, ...], Mapping[str, str]] | None:
    """A role's attached policies' ARNs and its tags, from the emulated IAM."""
    try:
        # IAM is global: moto keeps it per partition, the local account's is "aws".
        role = iam_backends[account_id]["aws"].get_role_by_arn(role_arn)
    except NotFoundException:
        return None
    tags = {str(tag["Key"]): str(tag["Value"]) for tag in role.tags or []}
    return tuple(role.managed_policies), tags


def moto_lookups(
    account_id: str, region: str, guardrail_tags: Callable[[str], Mapping[str, str] | None]
) -> Lookups:
    """:class:`Lookups` answered from moto's backends (and the local guardrails' tags)."""

    def partition_key(table: str) -> str | None:
        tables = dynamodb_backends[account_id][region].tables
        found = tables.get(table.rsplit("/", 1)[-1])
        return None if found is None else str(found.hash_key_attr)

    def resource_tags(arn: str) -> Mapping[str, str] | None:
        service, resource = arn.split(":", 5)[2::3]
        if service == "cloudwatch":
            alarms = cloudwatch_backends[account_id][region]
            name = resource.removeprefix("alarm:")
            return alarms.list_tags_for_resource(arn) if name in alarms.alarms else None
        if service == "secretsmanager":
            # moto's store finds a secret by name, full ARN or ARN without its suffix.
            secret = secretsmanager_backends[account_id][region].secrets.get(arn)
            return None if secret is None else {t["Key"]: t["Value"] for t in secret.tags or []}
        if service == "sagemaker":
            found = _sagemaker_resource(sagemaker_backends[account_id][region], arn, resource)
            return None if found is None else {tag["Key"]: tag["Value"] for tag in found.tags}
        return None

    return Lookups(
        account_id=account_id,
        region=region,
        partition_key=partition_key,
        resource_tags=resource_tags,
        guardrail_tags=guardrail_tags,
    )


def _sagemaker_resource(backend: SageMakerModelBackend, arn: str, resource: str) -> Any:
    """The emulated SageMaker resource of ``arn`` (its name compared in any case, as SageMaker
    names are case-insensitive and its ARNs lower case), or None."""
    kind, _, name = resource.partition("/")
    if kind == "model-package":  # kept by ARN
        return backend.model_packages.get(arn)
    stores: dict[str, Mapping[str, Any]] = {
        "endpoint": backend.endpoints,
        "endpoint-config": backend.endpoint_configs,
        "model": backend._models,
        "model-package-group": backend.model_package_groups,
    }
    store = stores.get(kind, {})
    return next((item for key, item in store.items() if key.lower() == name.lower()), None)


def _remembering_assume_role() -> Callable[[TokenResponse], Any]:
    original = TokenResponse.assume_role

    def assume_role(response: TokenResponse) -> Any:
        result = original(response)
        role = result.result["Credentials"]  # type: ignore[index]  # moto's AssumedRole
        tags = {str(tag["Key"]): str(tag["Value"]) for tag in response._get_param("Tags") or []}
        with _principals_lock:
            _principals[role.access_key_id] = Principal(
                role_arn=role.role_arn, session_arn=role.arn, user_id=role.user_id, tags=tags
            )
        return result

    return assume_role


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    # The same dict travels on: later handlers (boto3's DynamoDB types) fill it in place.
    context[_PARAMS] = params


def _authorize(
    model: OperationModel, context: dict[str, Any], request_signer: Any, **_: Any
) -> tuple[AWSResponse, dict[str, Any]] | None:
    enforcement = _active
    if enforcement is None:
        return None
    # botocore keeps a client's credentials on its signer (Client._get_credentials reads it).
    credentials = getattr(request_signer, "_credentials", None)
    if credentials is None:
        return None
    principal = principal_of(credentials.get_frozen_credentials().access_key)
    if principal is None:
        return None
    denial = enforcement.check(principal, model, context.get(_PARAMS) or {})
    return None if denial is None else _denial(model, denial)


def _denial(model: OperationModel, denial: Denial) -> tuple[AWSResponse, dict[str, Any]]:
    """AWS's AccessDenied answer, as botocore would have parsed it."""
    status, code = denial.error(model.service_model.protocol)
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    parsed = {
        "Error": {"Code": code, "Message": denial.message},
        "ResponseMetadata": {
            "RequestId": request_id,
            "HTTPStatusCode": status,
            "HTTPHeaders": headers,
            "RetryAttempts": 0,
        },
    }
    # No URL and no body: botocore reads neither from an answer a before-call handler gives.
    return AWSResponse("", status, HTTPHeaders.from_dict(headers), None), parsed


__all__ = [
    "Denial",
    "Enforcement",
    "Principal",
    "RunTimeRoles",
    "active",
    "enforce_roles",
    "install",
    "moto_lookups",
    "principal_of",
]
