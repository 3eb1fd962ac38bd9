"""Fault injection: chosen calls, functions and jobs fail as AWS fails them, then recover."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime
    from maas.local.awslambda import LocalFunction


def test_an_injected_api_fault_fails_the_next_calls_then_lets_them_through(
    runtime: LocalRuntime,
) -> None:
    fault = runtime.faults.inject("sagemaker", "ListEndpoints", "ThrottlingException", times=2)
    sagemaker = runtime.client("sagemaker")

    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            sagemaker.list_endpoints()
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert (fault.fired, fault.spent) == (2, True)


def test_a_modeled_error_is_raised_as_the_clients_own_exception(runtime: LocalRuntime) -> None:
    runtime.faults.inject("sagemaker", "CreateModel", "ResourceLimitExceeded")
    sagemaker = runtime.client("sagemaker")

    with pytest.raises(sagemaker.exceptions.ResourceLimitExceeded):
        sagemaker.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::1:role/r")


def test_other_operations_are_untouched(runtime: LocalRuntime) -> None:
    fault = runtime.faults.inject("sagemaker", "DeleteModel", "InternalFailure")

    runtime.client("sagemaker").list_models()

    assert fault.fired == 0
    runtime.faults.clear()


@pytest.mark.parametrize(
    ("switch", "error_type"),
    [("crash_function", "Runtime.ExitError"), ("time_out_function", "Sandbox.Timedout")],
)
def test_a_function_crashes_or_times_out_once_then_runs(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    switch: str,
    error_type: str,
) -> None:
    function = deploy_function("echo")
    getattr(runtime.faults, switch)(function.name)

    failed = runtime.lambda_.invoke(function.name, {"a": 1})
    succeeded = runtime.lambda_.invoke(function.name, {"a": 1})

    assert failed.function_error == "Unhandled"
    assert error_type in failed.payload.decode()
    assert succeeded.function_error is None
