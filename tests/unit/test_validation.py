"""Parsing at a boundary names every bad field in one Maas.ValidationError."""

from __future__ import annotations

import pytest

from maas.exceptions import ValidationError
from maas.validation import parse
from schemas import DeploymentRequest
from tests.factories import deployment_request


def test_a_valid_request_parses_into_its_model() -> None:
    request = parse(DeploymentRequest, deployment_request())
    assert request.endpoint_name == "chat"
    assert request.variant_name == "AllTraffic"


def test_each_bad_field_is_named_with_its_dotted_path() -> None:
    document = deployment_request(instance_count=0, endpoint_name="-chat")
    del document["model"]["version"]
    with pytest.raises(ValidationError) as raised:
        parse(DeploymentRequest, document)
    message = raised.value.message
    assert "endpoint_name: String should match pattern" in message
    assert "instance_count: Input should be greater than or equal to 1" in message
    assert "model.explicit.version: Field required" in message


def test_an_unknown_field_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(ValidationError, match="instance_cuont: Extra inputs are not permitted"):
        parse(DeploymentRequest, deployment_request(instance_cuont=2))


def test_an_expiry_in_the_past_is_rejected_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="expires_at: must be in the future"):
        parse(DeploymentRequest, deployment_request(expires_at="2020-01-01T00:00:00Z"))


def test_autoscaling_bounds_must_be_ordered_and_hold_the_initial_count() -> None:
    with pytest.raises(ValidationError, match=r"min_capacity \(3\) is above max_capacity \(2\)"):
        parse(
            DeploymentRequest,
            deployment_request(autoscaling={"min_capacity": 3, "max_capacity": 2}),
        )
    with pytest.raises(ValidationError, match=r"instance_count \(5\) is outside"):
        parse(
            DeploymentRequest,
            deployment_request(
                instance_count=5, autoscaling={"min_capacity": 1, "max_capacity": 2}
            ),
        )
