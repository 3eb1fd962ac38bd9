"""The model registry: versions in DynamoDB, model packages in SageMaker.

A version is opened (PACKAGING) by the ``package_model`` workflow, reported on by the
packaging job, and closed REGISTERED (with its SageMaker model package) or FAILED. The
EvalGen assertion set chosen for a version is stored beside it.
"""

from maas.registry.assertion_sets import AssertionSetRegistry, StoredAssertionSet
from maas.registry.packages import ModelPackages, model_package_group_name
from maas.registry.reporter import RegistryReporter
from maas.registry.versions import ModelRegistry

__all__ = [
    "AssertionSetRegistry",
    "ModelPackages",
    "ModelRegistry",
    "RegistryReporter",
    "StoredAssertionSet",
    "model_package_group_name",
]
