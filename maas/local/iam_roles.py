"""The roles' policies as the stacks synthesize them, resolved against the local account.

``stacks/policy_export.py`` writes the policy documents of the enforced roles to
``maas/data/role_policies.json``, verbatim from the synthesized templates (a stack test keeps
the file and the templates equal). Here those documents become :class:`maas.local.iam.Policy`
objects of the local account: each CloudFormation intrinsic is resolved the way
CloudFormation would, but against what :mod:`maas.local.provision` created:

- pseudo parameters (``AWS::Partition``, ``AWS::Region``, ``AWS::AccountId``,
  ``AWS::URLSuffix``) to the local runtime's settings;
- ``Ref`` and ``Fn::GetAtt`` of a table, state machine, log group (a function's own is named
  by the function's id), Lambda function, event bus or role (through the export's
  ``Resources``, which names the manifest id behind each logical id) to the local
  resource's name or ARN, as :class:`maas.local.provision.LocalResources` derives them;
  the KMS key, which the local account does not have, to an ARN built from its id (only
  KMS calls would be compared with it, and none is emulated);
- ``Fn::GetStackOutput`` to the other stack's output value, resolved in that stack;
- ``Fn::Join``.

S3 ARNs are built from bucket names rather than references, and so are the Batch job
definitions' and queues' ARNs, so the stage's names (resolved as above) are replaced by the
local ones. An intrinsic or a resource type not listed raises, so a statement the runtime
cannot resolve is never silently dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources as package_files
from typing import TYPE_CHECKING, Any

from maas.local.iam import Policy
from maas.manifest import MANIFEST, Ref, RefKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local.provision import LocalResources

#: The export ``python -m stacks.policy_export`` writes, as package data of ``maas``.
ROLE_POLICIES_FILE = "data/role_policies.json"


def read_export() -> dict[str, Any]:
    """The committed export of the roles' policy documents."""
    text = package_files.files("maas").joinpath(ROLE_POLICIES_FILE).read_text()
    exported: dict[str, Any] = json.loads(text)
    return exported


@dataclass(frozen=True)
class _Resolver:
    """Resolves the export's intrinsics in the local account."""

    exported: dict[str, Any]
    resources: LocalResources

    def resolve(self, node: Any, stack: str) -> Any:
        """``node`` with every intrinsic replaced by its local value."""
        if isinstance(node, list):
            return [self.resolve(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        intrinsics = [key for key in node if key == "Ref" or key.startswith("Fn::")]
        if intrinsics:
            return self._intrinsic(intrinsics[0], node[intrinsics[0]], stack)
        return {key: self.resolve(value, stack) for key, value in node.items()}

    def _intrinsic(self, name: str, argument: Any, stack: str) -> str:
        if name == "Ref":
            return self._ref(argument, stack)
        if name == "Fn::GetAtt":
            logical_id, attribute = argument
            return self._attribute(logical_id, attribute, stack)
        if name == "Fn::Join":
            separator, parts = argument
            return str(separator).join(str(self.resolve(part, stack)) for part in parts)
        if name == "Fn::GetStackOutput":
            value = self.exported["StackOutputs"][argument["StackName"]][argument["OutputName"]]
            return str(self.resolve(value, argument["StackName"]))
        raise ValueError(f"intrinsic {name} is not resolved locally")

    def _ref(self, name: str, stack: str) -> str:
        settings = self.resources.settings
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": settings.region,
            "AWS::AccountId": settings.account_id,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        return self._attribute(name, "Ref", stack)

    def _attribute(self, logical_id: str, attribute: str, stack: str) -> str:
        described = self.exported["Resources"][stack][logical_id]
        kind, identifier = described["Type"], described["Id"]

        def local(kind: RefKind) -> str:
            # Names derive from manifest ids, whether or not a test's narrowed manifest
            # provisioned the resource.
            return self.resources.resolve(Ref(kind=kind, target=identifier))

        values: dict[tuple[str, str], Callable[[], str]] = {
            ("AWS::DynamoDB::Table", "Ref"): lambda: local(RefKind.TABLE_NAME),
            ("AWS::DynamoDB::Table", "Arn"): lambda: self.resources.arn(
                "dynamodb", f"table/{local(RefKind.TABLE_NAME)}"
            ),
            ("AWS::StepFunctions::StateMachine", "Ref"): lambda: local(RefKind.STATE_MACHINE_ARN),
            ("AWS::StepFunctions::StateMachine", "Name"): lambda: local(
                RefKind.STATE_MACHINE_ARN
            ).rsplit(":", 1)[1],
            # CloudFormation's Arn of a log group ends in ":*".
            ("AWS::Logs::LogGroup", "Arn"): lambda: f"{self._log_group_arn(identifier)}:*",
            ("AWS::Events::EventBus", "Arn"): lambda: self.resources.arn(
                "events", f"event-bus/{local(RefKind.EVENT_BUS_NAME)}"
            ),
            ("AWS::IAM::Role", "Arn"): lambda: local(RefKind.ROLE_ARN),
            ("AWS::IAM::ManagedPolicy", "Ref"): lambda: local(RefKind.POLICY_ARN),
            # A state machine's role invokes functions by ARN (and their versions: ``:*``).
            ("AWS::Lambda::Function", "Arn"): lambda: local(RefKind.FUNCTION_ARN),
            ("AWS::KMS::Key", "Arn"): lambda: self.resources.arn("kms", f"key/{identifier}"),
        }
        value = values.get((kind, attribute))
        if value is None:
            raise ValueError(f"{kind} {attribute} ({logical_id}) is not resolved locally")
        return str(value())

    def _log_group_arn(self, identifier: str) -> str:
        """A manifest log group's ARN, or a function's own (Lambda's ``/aws/lambda/<name>``)."""
        if any(spec.id == identifier for spec in MANIFEST.functions):
            group = f"/aws/lambda/{self.resources.name(identifier)}"
            return self.resources.arn("logs", f"log-group:{group}")
        return self.resources.resolve(Ref(kind=RefKind.LOG_GROUP_ARN, target=identifier))

    def local_names(self) -> dict[str, str]:
        """ARNs (or their beginnings) built from the stage's names -> the local ones: the
        buckets', and the Batch job definitions' and queues' (by manifest id, as the local
        account names them: :class:`maas.local.provision.LocalResources`)."""
        # A bucket's name refers to pseudo parameters only, in whichever stack.
        renames = {
            f"arn:aws:s3:::{self.resolve(name, stack='')}": "arn:aws:s3:::"
            + self.resources.resolve(Ref(kind=RefKind.BUCKET_NAME, target=bucket_id))
            for bucket_id, name in self.exported["BucketNames"].items()
        }
        # A prefix that run-time names extend: ``<prefix>-<tenant>``.
        for name_id, name in self.exported["NamePrefixes"].items():
            renames[self.resources.arn("iam", f"role/{name}-")] = self.resources.arn(
                "iam", f"role/{self.resources.name(name_id)}-"
            )
        for name_id, name in self.exported["JobNames"].items():
            kind = "job-queue" if name_id.endswith("Queue") else "job-definition"
            renames[self.resources.arn("batch", f"{kind}/{name}")] = self.resources.arn(
                "batch", f"{kind}/{self.resources.name(name_id)}"
            )
        return renames


def role_policies(
    role_id: str, resources: LocalResources, exported: dict[str, Any] | None = None
) -> list[Policy]:
    """The policies of role ``role_id`` (a manifest role id), resolved in the local account.

    ``exported`` defaults to the committed export; a test passes an altered copy (a
    statement without its condition) to see what the condition holds back.
    """
    exported = exported if exported is not None else read_export()
    return [
        Policy.from_document(document)
        for document in _documents(exported["Roles"][role_id], resources, exported)
    ]


def managed_policy_documents(
    policy_id: str, resources: LocalResources, exported: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The documents of the exported managed policy ``policy_id``, resolved in the local
    account (to create the policy there, as the stacks do)."""
    exported = exported if exported is not None else read_export()
    return _documents(exported["ManagedPolicies"][policy_id], resources, exported)


def _documents(
    exported_policy: dict[str, Any], resources: LocalResources, exported: dict[str, Any]
) -> list[dict[str, Any]]:
    resolver = _Resolver(exported, resources)
    renames = resolver.local_names()
    documents = []
    for document in exported_policy["PolicyDocuments"]:
        resolved = resolver.resolve(document, exported_policy["Stack"])
        for statement in resolved["Statement"]:
            for element in ("Resource", "NotResource"):
                if element in statement:
                    statement[element] = _rename(statement[element], renames)
        documents.append(resolved)
    return documents


def _rename(resources: str | list[str], renames: dict[str, str]) -> str | list[str]:
    """ARNs built from the stage's names, made ARNs of the local resources of the same id
    (the name ends the ARN, or is followed by ``/`` (an object) or ``:`` (a revision))."""
    if isinstance(resources, list):
        return [str(_rename(resource, renames)) for resource in resources]
    for stage_arn, local_arn in renames.items():
        rest = resources.removeprefix(stage_arn)
        # A prefix (ending in "-") is renamed whatever follows it.
        if rest != resources and (rest[:1] in ("", "/", ":") or stage_arn.endswith("-")):
            return f"{local_arn}{rest}"
    return resources


__all__ = ["ROLE_POLICIES_FILE", "managed_policy_documents", "read_export", "role_policies"]
