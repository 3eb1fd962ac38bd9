"""The model registry: versions in DynamoDB, model packages in SageMaker.

A version is opened (PACKAGING) by the ``package_model`` workflow, reported on by the
packaging job, and closed REGISTERED (with its SageMaker model package) or FAILED.
"""

from maas.registry.packages import ModelPackages, model_package_group_name
from maas.registry.reporter import RegistryReporter
from maas.registry.versions import ModelRegistry

__all__ = ["ModelPackages", "ModelRegistry", "RegistryReporter", "model_package_group_name"]
