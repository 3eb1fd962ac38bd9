"""The instance catalog holds only types SageMaker hosting accepts, and rejects others by name."""

from __future__ import annotations

import botocore.session
import pytest

from maas.exceptions import ValidationError
from maas.instances import get_instance_type, instance_catalog


def test_every_catalog_type_is_a_sagemaker_production_variant_type() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    accepted = set(model.shape_for("ProductionVariantInstanceType").enum)
    assert set(instance_catalog()) <= accepted


def test_gpu_types_declare_their_accelerators() -> None:
    g5 = get_instance_type("ml.g5.12xlarge")
    assert (g5.accelerator, g5.accelerator_count, g5.accelerator_memory_gib) == (
        "NVIDIA A10G",
        4,
        24,
    )


def test_an_unknown_type_names_the_field_and_the_known_families() -> None:
    with pytest.raises(ValidationError) as raised:
        get_instance_type("ml.g99.xlarge")
    assert raised.value.message.startswith("instance_type: unknown instance type 'ml.g99.xlarge'")
    assert "g5" in raised.value.message
