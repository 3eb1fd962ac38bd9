"""What SageMaker holds: the endpoints, endpoint configurations and models of the account."""

from __future__ import annotations

from typing import Any

#: (list operation, result key, name key, label) for each kind the control plane creates.
_KINDS = (
    ("list_endpoints", "Endpoints", "EndpointName", "endpoint"),
    ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "endpoint-config"),
    ("list_models", "Models", "ModelName", "model"),
)


def sagemaker_resources(sagemaker: Any, name_contains: str = "") -> list[str]:
    """``kind/name`` of every endpoint, configuration and model whose name has ``name_contains``.

    The filter is applied here as well as in the request: moto ignores ``NameContains`` on
    some of these calls.
    """
    found: list[str] = []
    for operation, key, name_key, label in _KINDS:
        arguments = {"NameContains": name_contains} if name_contains else {}
        for page in sagemaker.get_paginator(operation).paginate(**arguments):
            found += [
                f"{label}/{item[name_key]}" for item in page[key] if name_contains in item[name_key]
            ]
    return found


__all__ = ["sagemaker_resources"]
