"""Typed errors carry the names the state machines catch and the statuses the API returns."""

from __future__ import annotations

import pytest

from maas import exceptions
from maas.exceptions import MaasError, NotFound, ValidationError

ERRORS = [
    name
    for name in exceptions.__all__
    if isinstance(getattr(exceptions, name), type)
    and issubclass(getattr(exceptions, name), MaasError)
]


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_is_named_after_its_class_with_the_maas_prefix(name: str) -> None:
    error_class = getattr(exceptions, name)
    if error_class is MaasError:
        assert error_class.error_name == "Maas.Error"
    else:
        assert error_class.error_name == f"Maas.{name}"


def test_the_runtime_reports_the_dotted_name_as_the_error_type() -> None:
    # The Lambda Python runtime sends type(exc).__name__ as errorType to Step Functions.
    with pytest.raises(ValidationError) as raised:
        raise ValidationError("endpoint_name: too long")
    assert type(raised.value).__name__ == "Maas.ValidationError"
    assert raised.value.message == "endpoint_name: too long"


def test_bad_requests_are_client_errors_and_missing_resources_are_404() -> None:
    assert ValidationError.http_status == 400
    assert NotFound.http_status == 404
    assert all(
        getattr(exceptions, name).http_status != 500 for name in ERRORS if name != "MaasError"
    )
