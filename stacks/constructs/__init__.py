"""One construct per concern: the pieces the stacks are built from."""

from stacks.constructs.batch_compute import BatchCompute
from stacks.constructs.encryption_key import EncryptionKey
from stacks.constructs.guardrail import Guardrail
from stacks.constructs.log_group_target import LogGroupTarget
from stacks.constructs.manifest_function import ManifestFunction
from stacks.constructs.manifest_job import ManifestJob
from stacks.constructs.packaging_network import PackagingNetwork
from stacks.constructs.secure_bucket import SecureBucket
from stacks.constructs.state_machine_from_file import StateMachineFromFile

__all__ = [
    "BatchCompute",
    "EncryptionKey",
    "Guardrail",
    "LogGroupTarget",
    "ManifestFunction",
    "ManifestJob",
    "PackagingNetwork",
    "SecureBucket",
    "StateMachineFromFile",
]
