"""The advisor's instance catalog: SageMaker's hosting types, with GPU specs and prices."""

from __future__ import annotations

import pytest

from maas.advisor.recommend import gpu_instances
from maas.instances import get_instance_type, instance_catalog, price_date, price_region
from maas.local.sagemaker import hosting_instance_types

#: Memory bandwidth per GPU, GB/s, as NVIDIA states it.
BANDWIDTH = {
    "NVIDIA A10G": 600,
    "NVIDIA L4": 300,
    "NVIDIA L40S": 864,
    "NVIDIA H100": 3350,
    "NVIDIA H200": 4800,
}


def test_every_type_the_advisor_sizes_is_a_sagemaker_hosting_type() -> None:
    sized = {row.instance_type for row in gpu_instances()}
    assert sized <= hosting_instance_types()


def test_the_llm_hosting_families_are_all_there() -> None:
    families = {row.instance_type.split(".")[1] for row in gpu_instances()}
    assert families >= {"g5", "g6", "g6e", "p4d", "p4de", "p5", "p5e", "p5en"}
    assert {"ml.p4d.24xlarge", "ml.p5.48xlarge", "ml.p5en.48xlarge"} <= {
        row.instance_type for row in gpu_instances()
    }


@pytest.mark.parametrize("row", gpu_instances(), ids=lambda row: row.instance_type)
def test_each_gpu_type_has_bandwidth_memory_and_a_price(row: object) -> None:
    from maas.instances import InstanceType

    assert isinstance(row, InstanceType)
    assert row.price_per_hour_usd is not None and row.price_per_hour_usd > 0
    assert row.accelerator_memory_mib is not None
    assert row.accelerator_memory_mib / 1024 == pytest.approx(row.accelerator_memory_gib, rel=0.07)
    if row.accelerator in BANDWIDTH:
        assert row.accelerator_memory_bandwidth_gbps == BANDWIDTH[row.accelerator]


def test_the_a100s_differ_in_memory_and_bandwidth() -> None:
    p4d, p4de = get_instance_type("ml.p4d.24xlarge"), get_instance_type("ml.p4de.24xlarge")
    assert (p4d.accelerator_memory_gib, p4d.accelerator_memory_bandwidth_gbps) == (40, 1555)
    assert (p4de.accelerator_memory_gib, p4de.accelerator_memory_bandwidth_gbps) == (80, 2039)


def test_fp8_is_declared_on_ada_and_hopper_only() -> None:
    fp8 = {row.accelerator for row in gpu_instances() if row.accelerator_supports_fp8}
    assert fp8 == {"NVIDIA L4", "NVIDIA L40S", "NVIDIA H100", "NVIDIA H200"}


def test_prices_say_their_region_and_date() -> None:
    assert price_region() == "us-east-1"
    assert len(price_date()) == 10


def test_rows_without_the_new_fields_still_load() -> None:
    cpu = instance_catalog()["ml.m5.large"]
    assert cpu.price_per_hour_usd is None
    assert cpu.accelerator_memory_bandwidth_gbps is None
