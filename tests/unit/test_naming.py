"""Derived resource names are valid SageMaker names, unique per execution and per tenant."""

from __future__ import annotations

import re

import pytest

from maas.naming import run_suffix, sagemaker_name, ttl_schedule_name
from schemas.common import SAGEMAKER_NAME_PATTERN


@pytest.mark.parametrize("base", ["a", "chat", "x" * 63, "ends-with-hyphen-" + "y" * 40])
def test_derived_names_match_sagemakers_pattern_and_length(base: str) -> None:
    name = sagemaker_name(base, run_suffix("execution-1"))
    assert re.fullmatch(SAGEMAKER_NAME_PATTERN, name)
    assert len(name) <= 63


def test_two_executions_derive_different_names() -> None:
    assert sagemaker_name("chat", run_suffix("one")) != sagemaker_name("chat", run_suffix("two"))


def test_ttl_schedule_names_keep_tenants_apart_and_fit_scheduler_limits() -> None:
    long_name = "e" * 63
    first, second = ttl_schedule_name("acme", long_name), ttl_schedule_name("globex", long_name)
    assert first != second
    assert all(
        len(name) <= 64 and re.fullmatch(r"[0-9a-zA-Z-_.]+", name) for name in (first, second)
    )
