"""The SageMaker hosting instance types the control plane accepts, from a data file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from maas.exceptions import ValidationError


@dataclass(frozen=True, slots=True)
class InstanceType:
    """One SageMaker real-time inference instance type.

    The fields after ``accelerator_memory_gib`` are given for the GPU types the serving-size
    advisor considers and are ``None`` (or ``False``) elsewhere. Bandwidth is in GB/s (10^9
    bytes per second, as GPU vendors state it), per device; the price is per instance-hour in
    the catalog's :func:`price_region` as of its :func:`price_date`.
    """

    instance_type: str
    vcpus: int
    memory_gib: int
    accelerator: str | None
    accelerator_count: int
    accelerator_memory_gib: int
    accelerator_memory_mib: int | None = None
    accelerator_memory_bandwidth_gbps: float | None = None
    accelerator_supports_fp8: bool = False
    accelerator_interconnect: str | None = None
    price_per_hour_usd: float | None = None
    price_is_estimate: bool = False


@cache
def _catalog_document() -> dict[str, Any]:
    text = resources.files("maas").joinpath("data/instance_types.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def instance_catalog() -> dict[str, InstanceType]:
    """Every known instance type by name, loaded once from ``maas/data/instance_types.json``."""
    rows = _catalog_document()["instance_types"]
    return {row["instance_type"]: InstanceType(**row) for row in rows}


def price_region() -> str:
    """The region whose on-demand prices the catalog records.

    Examples
    --------
    >>> price_region()
    'us-east-1'
    """
    return str(_catalog_document()["price_region"])


def price_date() -> str:
    """The date (ISO 8601) the catalog's prices were recorded."""
    return str(_catalog_document()["price_date"])


def get_instance_type(name: str, *, field: str = "instance_type") -> InstanceType:
    """Look ``name`` up in the catalog, or raise a validation error that names ``field``."""
    catalog = instance_catalog()
    if name not in catalog:
        families = sorted({key.split(".")[1] for key in catalog})
        raise ValidationError(
            f"{field}: unknown instance type {name!r}; known families: {', '.join(families)}"
        )
    return catalog[name]


__all__ = ["InstanceType", "get_instance_type", "instance_catalog", "price_date", "price_region"]
