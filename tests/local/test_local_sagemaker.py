"""SageMaker hosting on the local runtime: endpoints take time, can fail, and names are unique."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.local.support import unique, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime, LocalSettings

ACCOUNT = "123456789012"
REGION = "us-east-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"


@pytest.fixture(scope="module")
def sagemaker(runtime: LocalRuntime) -> Any:
    """A SageMaker client on the emulated account."""
    return runtime.client("sagemaker")


@pytest.fixture(scope="module")
def bucket(runtime: LocalRuntime) -> str:
    """The artifacts bucket the runtime provisioned."""
    return runtime.resources.buckets["ArtifactsBucket"]


@pytest.fixture(scope="module")
def upload(runtime: LocalRuntime, bucket: str) -> Callable[[str], str]:
    """Put an object at ``key`` in the artifacts bucket; return its S3 URI."""

    def put(key: str) -> str:
        runtime.client("s3").put_object(Bucket=bucket, Key=key, Body=b"weights")
        return f"s3://{bucket}/{key}"

    return put


@pytest.fixture(scope="module")
def model(runtime: LocalRuntime, sagemaker: Any) -> Callable[..., str]:
    """Create a model whose container reads ``ModelDataUrl`` or ``ModelDataSource``."""

    def create(*, data_url: str | None = None, data_prefix: str | None = None) -> str:
        container: dict[str, Any] = {"Image": IMAGE}
        if data_url:
            container["ModelDataUrl"] = data_url
        if data_prefix:
            container["ModelDataSource"] = {
                "S3DataSource": {
                    "S3Uri": data_prefix,
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            }
        name = unique("model")
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer=container,
            ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        )
        return name

    return create


@pytest.fixture(scope="module")
def endpoint_config(sagemaker: Any) -> Callable[..., str]:
    """Create an endpoint configuration serving ``model_name``; return its name."""

    def create(model_name: str, instance_type: str = "ml.g5.xlarge") -> str:
        name = unique("config")
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model_name,
                    "InstanceType": instance_type,
                    "InitialInstanceCount": 1,
                }
            ],
        )
        return name

    return create


@pytest.fixture(scope="module")
def config_for(
    model: Callable[..., str], endpoint_config: Callable[..., str]
) -> Callable[..., str]:
    """An endpoint configuration for a new model reading this model data."""

    def create(*, data_url: str | None = None, data_prefix: str | None = None) -> str:
        return endpoint_config(model(data_url=data_url, data_prefix=data_prefix))

    return create


@pytest.fixture(scope="module")
def servable_config(
    upload: Callable[[str], str], config_for: Callable[..., str]
) -> Callable[[], str]:
    """A fresh endpoint configuration whose model data is in S3."""

    def create() -> str:
        return config_for(data_url=upload(f"{unique('chat')}/model.tar.gz"))

    return create


@pytest.fixture(scope="module")
def status_of(sagemaker: Any) -> Callable[[str], str | None]:
    """The endpoint's status, None once it is gone."""

    def status(name: str) -> str | None:
        try:
            return str(sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"])
        except ClientError as error:
            if "Could not find endpoint" in error.response["Error"]["Message"]:
                return None
            raise

    return status


def wait_for_status(
    status_of: Callable[[str], str | None], name: str, *expected: str | None
) -> str | None:
    """Wait until the endpoint leaves ``Creating``/``Deleting``; return where it ended."""
    return wait_until(  # type: ignore[no-any-return]
        lambda: (status_of(name),) if status_of(name) in expected else None, timeout=10
    )[0]


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """The error code and message of a failed call."""
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def arn(kind: str, name: str) -> str:
    """The ARN SageMaker gives a resource of this kind."""
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"


# Lifecycle


def test_create_endpoint_answers_creating_then_is_in_service_after_the_delay(
    settings: LocalSettings,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    config = servable_config()
    started = time.monotonic()

    created = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)

    assert created["EndpointArn"] == arn("endpoint", name)
    assert status_of(name) == "Creating"
    assert wait_for_status(status_of, name, "InService", "Failed") == "InService"
    assert time.monotonic() - started >= settings.endpoint_create_seconds


def test_an_injected_failure_makes_the_endpoint_failed_with_its_reason(
    runtime: LocalRuntime,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    runtime.sagemaker.fail_endpoint(name, "CUDA out of memory on ml.g5.xlarge")

    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())

    assert wait_for_status(status_of, name, "InService", "Failed") == "Failed"
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["FailureReason"] == "CUDA out of memory on ml.g5.xlarge"


def test_an_injected_failure_applies_to_the_next_creation_only(
    runtime: LocalRuntime,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    config = servable_config()
    runtime.sagemaker.fail_endpoint(name, "capacity")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    assert wait_for_status(status_of, name, "InService", "Failed") == "Failed"
    sagemaker.delete_endpoint(EndpointName=name)
    wait_for_status(status_of, name, None)

    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)

    assert wait_for_status(status_of, name, "InService", "Failed") == "InService"


def test_a_missing_model_data_url_object_fails_the_endpoint_naming_bucket_and_key(
    bucket: str,
    sagemaker: Any,
    config_for: Callable[..., str],
    status_of: Callable[[str], str | None],
) -> None:
    key = f"{unique('chat')}/model.tar.gz"
    name = unique("chat")

    sagemaker.create_endpoint(
        EndpointName=name,
        EndpointConfigName=config_for(data_url=f"s3://{bucket}/{key}"),
    )

    assert wait_for_status(status_of, name, "InService", "Failed") == "Failed"
    reason = sagemaker.describe_endpoint(EndpointName=name)["FailureReason"]
    assert f"bucket: {bucket}, key: {key}" in reason
    assert reason.startswith("Failed to download model data")


def test_a_model_data_source_prefix_without_objects_fails_the_endpoint(
    bucket: str,
    sagemaker: Any,
    upload: Callable[[str], str],
    config_for: Callable[..., str],
    status_of: Callable[[str], str | None],
) -> None:
    prefix = f"{unique('chat')}/"
    # An object whose key starts like the prefix, but is not under it.
    upload(prefix.rstrip("/") + "-other/model.safetensors")
    name = unique("chat")

    sagemaker.create_endpoint(
        EndpointName=name,
        EndpointConfigName=config_for(data_prefix=f"s3://{bucket}/{prefix}"),
    )

    assert wait_for_status(status_of, name, "InService", "Failed") == "Failed"
    reason = sagemaker.describe_endpoint(EndpointName=name)["FailureReason"]
    assert f"bucket: {bucket}, key: {prefix}" in reason


def test_a_model_data_source_prefix_with_objects_comes_into_service(
    bucket: str,
    sagemaker: Any,
    upload: Callable[[str], str],
    config_for: Callable[..., str],
    status_of: Callable[[str], str | None],
) -> None:
    prefix = f"{unique('chat')}/"
    upload(f"{prefix}model.safetensors")
    name = unique("chat")

    sagemaker.create_endpoint(
        EndpointName=name,
        EndpointConfigName=config_for(data_prefix=f"s3://{bucket}/{prefix}"),
    )

    assert wait_for_status(status_of, name, "InService", "Failed") == "InService"


def test_delete_endpoint_leaves_it_deleting_then_it_is_gone(
    sagemaker: Any, servable_config: Callable[[], str], status_of: Callable[[str], str | None]
) -> None:
    name = unique("chat")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())
    wait_for_status(status_of, name, "InService")

    sagemaker.delete_endpoint(EndpointName=name)

    assert status_of(name) == "Deleting"
    wait_for_status(status_of, name, None)
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_endpoint(EndpointName=name)
    code, message = error_of(raised)
    assert code == "ValidationException"
    assert message.startswith("Could not find endpoint")
    assert name in message


def _capacity(sagemaker: Any, name: str) -> tuple[int, int]:
    """The one variant's (current, desired) instance count."""
    [variant] = sagemaker.describe_endpoint(EndpointName=name)["ProductionVariants"]
    return variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]


def _scale_to(sagemaker: Any, name: str, count: int) -> None:
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": count}],
    )


def test_a_capacity_change_goes_through_updating_then_applies_the_new_count(
    sagemaker: Any, servable_config: Callable[[], str], status_of: Callable[[str], str | None]
) -> None:
    name = unique("chat")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())
    wait_for_status(status_of, name, "InService")

    _scale_to(sagemaker, name, 3)

    assert status_of(name) == "Updating"
    assert _capacity(sagemaker, name) == (1, 1)
    assert wait_for_status(status_of, name, "InService") == "InService"
    assert _capacity(sagemaker, name) == (3, 3)


def test_an_endpoint_that_is_updating_refuses_another_capacity_change(
    sagemaker: Any, servable_config: Callable[[], str], status_of: Callable[[str], str | None]
) -> None:
    name = unique("chat")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())
    wait_for_status(status_of, name, "InService")
    _scale_to(sagemaker, name, 2)

    with pytest.raises(ClientError) as raised:
        _scale_to(sagemaker, name, 4)

    assert error_of(raised) == (
        "ValidationException",
        f'Cannot update in-progress endpoint "{arn("endpoint", name)}".',
    )


def test_an_injected_failure_rolls_a_capacity_change_back_with_its_reason(
    runtime: LocalRuntime,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())
    wait_for_status(status_of, name, "InService")
    runtime.sagemaker.fail_endpoint(name, "InsufficientInstanceCapacity")

    _scale_to(sagemaker, name, 5)

    assert wait_for_status(status_of, name, "InService") == "InService"
    assert _capacity(sagemaker, name) == (1, 1)
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["FailureReason"] == "InsufficientInstanceCapacity"


def test_update_endpoint_goes_through_updating_onto_the_new_configuration(
    sagemaker: Any, servable_config: Callable[[], str], status_of: Callable[[str], str | None]
) -> None:
    name = unique("chat")
    old = servable_config()
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=old)
    wait_for_status(status_of, name, "InService")
    new = servable_config()

    updated = sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=new)

    assert updated["EndpointArn"] == arn("endpoint", name)
    assert status_of(name) == "Updating"
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"] == old
    assert wait_for_status(status_of, name, "InService") == "InService"
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"] == new


def test_an_update_onto_missing_model_data_is_rolled_back_with_the_reason(
    sagemaker: Any,
    servable_config: Callable[[], str],
    config_for: Callable[..., str],
    bucket: str,
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    old = servable_config()
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=old)
    wait_for_status(status_of, name, "InService")

    missing = config_for(data_url=f"s3://{bucket}/{unique('gone')}/model.tar.gz")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=missing)

    assert wait_for_status(status_of, name, "InService") == "InService"
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == old
    assert described["FailureReason"].startswith("Failed to download model data")


def test_updating_onto_an_unknown_configuration_is_a_validation_exception(
    sagemaker: Any, servable_config: Callable[[], str], status_of: Callable[[str], str | None]
) -> None:
    name = unique("chat")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())
    wait_for_status(status_of, name, "InService")

    with pytest.raises(ClientError) as raised:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName="nowhere")

    assert error_of(raised) == (
        "ValidationException",
        f'Could not find endpoint configuration "{arn("endpoint-config", "nowhere")}".',
    )
    assert status_of(name) == "InService"


def test_deleting_a_missing_endpoint_is_a_validation_exception(sagemaker: Any) -> None:
    name = unique("missing")

    with pytest.raises(ClientError) as raised:
        sagemaker.delete_endpoint(EndpointName=name)

    code, message = error_of(raised)
    assert code == "ValidationException"
    assert message.startswith("Could not find endpoint")
    assert name in message


def test_an_endpoint_name_is_free_again_once_the_endpoint_is_gone(
    sagemaker: Any, servable_config: Callable[[], str], status_of: Callable[[str], str | None]
) -> None:
    name = unique("chat")
    config = servable_config()
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    wait_for_status(status_of, name, "InService")
    sagemaker.delete_endpoint(EndpointName=name)
    wait_for_status(status_of, name, None)

    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)

    assert status_of(name) == "Creating"


# Names are unique


def test_creating_a_model_with_an_existing_name_is_a_validation_exception(
    runtime: LocalRuntime, sagemaker: Any, model: Callable[..., str]
) -> None:
    name = model()

    with pytest.raises(ClientError) as raised:
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer={"Image": IMAGE},
            ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        )

    assert error_of(raised) == (
        "ValidationException",
        f'Cannot create already existing model "{arn("model", name)}".',
    )


def test_creating_an_endpoint_config_with_an_existing_name_is_a_validation_exception(
    sagemaker: Any, model: Callable[..., str], endpoint_config: Callable[..., str]
) -> None:
    model_name = model()
    name = endpoint_config(model_name)

    with pytest.raises(ClientError) as raised:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model_name,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )

    assert error_of(raised) == (
        "ValidationException",
        f'Cannot create already existing endpoint configuration "{arn("endpoint-config", name)}".',
    )


@pytest.mark.parametrize("status", ["Creating", "InService", "Deleting"])
def test_creating_an_endpoint_with_an_existing_name_is_a_validation_exception(
    status: str,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    config = servable_config()
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    if status != "Creating":
        wait_for_status(status_of, name, "InService")
    if status == "Deleting":
        sagemaker.delete_endpoint(EndpointName=name)
    assert status_of(name) == status

    with pytest.raises(ClientError) as raised:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)

    assert error_of(raised) == (
        "ValidationException",
        f'Cannot create already existing endpoint "{arn("endpoint", name)}".',
    )


# Instance types


def test_an_endpoint_config_on_a_current_instance_type_is_accepted(
    sagemaker: Any, model: Callable[..., str], endpoint_config: Callable[..., str]
) -> None:
    name = endpoint_config(model(), instance_type="ml.g5.xlarge")

    described = sagemaker.describe_endpoint_config(EndpointConfigName=name)

    assert described["ProductionVariants"][0]["InstanceType"] == "ml.g5.xlarge"


def test_an_endpoint_config_on_an_unknown_instance_type_is_rejected(
    sagemaker: Any, model: Callable[..., str], endpoint_config: Callable[..., str]
) -> None:
    with pytest.raises(ClientError) as raised:
        endpoint_config(model(), instance_type="ml.bogus.xlarge")

    assert error_of(raised) == (
        "ValidationException",
        "Value 'ml.bogus.xlarge' at 'instanceType' failed to satisfy constraint: "
        "Member must satisfy enum value set",
    )


# Listeners


def test_in_service_listeners_hear_the_endpoint_come_into_service(
    runtime: LocalRuntime,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    heard: list[tuple[str, str, str]] = []
    runtime.sagemaker.on_in_service(
        lambda account, endpoint: heard.append(
            (account, endpoint.endpoint_name, endpoint.endpoint_status)
        )
    )

    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())

    wait_until(lambda: (ACCOUNT, name, "InService") in heard)
    assert status_of(name) == "InService"


def test_in_service_listeners_do_not_hear_a_failed_endpoint(
    runtime: LocalRuntime,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    heard: list[str] = []
    runtime.sagemaker.on_in_service(lambda account, endpoint: heard.append(endpoint.endpoint_name))
    runtime.sagemaker.fail_endpoint(name, "capacity")

    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())

    assert wait_for_status(status_of, name, "InService", "Failed") == "Failed"
    assert name not in heard


def test_deleted_listeners_hear_the_endpoint_go(
    runtime: LocalRuntime,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    heard: list[str] = []
    runtime.sagemaker.on_deleted(lambda account, endpoint: heard.append(endpoint.endpoint_name))
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())
    wait_for_status(status_of, name, "InService")

    sagemaker.delete_endpoint(EndpointName=name)

    wait_until(lambda: name in heard)
    assert status_of(name) is None


# InvokeEndpoint without model serving (this module's runtime does not serve models)


def test_invoking_an_endpoint_says_no_local_inference_server_runs(
    runtime: LocalRuntime,
    sagemaker: Any,
    servable_config: Callable[[], str],
    status_of: Callable[[str], str | None],
) -> None:
    name = unique("chat")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=servable_config())
    wait_for_status(status_of, name, "InService")

    with pytest.raises(ClientError) as raised:
        runtime.client("sagemaker-runtime").invoke_endpoint(EndpointName=name, Body=b"{}")

    assert error_of(raised) == (
        "ValidationError",
        f"Endpoint {name} is InService but no local inference server runs behind it: "
        "the local runtime was started with serve_models=False.",
    )
