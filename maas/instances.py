"""The SageMaker hosting instance types the control plane accepts, from a data file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from maas.exceptions import ValidationError


@dataclass(frozen=True, slots=True)
class InstanceType:
    """One SageMaker real-time inference instance type."""

    instance_type: str
    vcpus: int
    memory_gib: int
    accelerator: str | None
    accelerator_count: int
    accelerator_memory_gib: int


@cache
def instance_catalog() -> dict[str, InstanceType]:
    """Every known instance type by name, loaded once from ``maas/data/instance_types.json``."""
    text = resources.files("maas").joinpath("data/instance_types.json").read_text()
    rows = json.loads(text)["instance_types"]
    return {row["instance_type"]: InstanceType(**row) for row in rows}


def get_instance_type(name: str, *, field: str = "instance_type") -> InstanceType:
    """Look ``name`` up in the catalog, or raise a validation error that names ``field``."""
    catalog = instance_catalog()
    if name not in catalog:
        families = sorted({key.split(".")[1] for key in catalog})
        raise ValidationError(
            f"{field}: unknown instance type {name!r}; known families: {', '.join(families)}"
        )
    return catalog[name]


__all__ = ["InstanceType", "get_instance_type", "instance_catalog"]
