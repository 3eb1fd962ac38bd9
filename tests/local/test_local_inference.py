"""InvokeEndpoint on the local runtime: a real inference server behind each InService endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from maas.local import LocalSettings
from maas.local.inference import health_check_failure
from tests.local.support import unique, wait_until

# A fixture shared with the serving tests, made visible here by importing it.

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime

ACCOUNT = "123456789012"
REGION = "us-east-1"
IMAGE = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"
LOGS_URL = f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"


@pytest.fixture(scope="module")
def settings() -> LocalSettings:
    """Endpoints that serve their model, after a moment rather than seconds."""
    return LocalSettings(
        endpoint_create_seconds=0.3,
        endpoint_delete_seconds=0.2,
        model_server_startup_seconds=120,
    )


@pytest.fixture(scope="module")
def upload(runtime: LocalRuntime) -> Callable[[Path], str]:
    """Upload a packaged model folder as the packager does; return its S3 prefix."""

    def put(folder: Path) -> str:
        bucket = runtime.resources.buckets["ArtifactsBucket"]
        prefix = f"acme/{unique('model')}/1/"
        s3 = runtime.client("s3")
        for path in sorted(folder.iterdir()):
            s3.put_object(Bucket=bucket, Key=f"{prefix}{path.name}", Body=path.read_bytes())
        return f"s3://{bucket}/{prefix}"

    return put


@pytest.fixture(scope="module")
def create_endpoint(runtime: LocalRuntime) -> Callable[..., str]:
    """Create a model, its configuration and an endpoint on model data; return its name."""
    sagemaker = runtime.client("sagemaker")

    def create(
        *, data_prefix: str | None = None, data_url: str | None = None, name: str | None = None
    ) -> str:
        name = name or unique("chat")
        container: dict[str, Any] = {"Image": IMAGE}
        if data_prefix:
            container["ModelDataSource"] = {
                "S3DataSource": {
                    "S3Uri": data_prefix,
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            }
        if data_url:
            container["ModelDataUrl"] = data_url
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer=container,
            ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    "InstanceType": "ml.g5.xlarge",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        return name

    return create


@pytest.fixture(scope="module")
def deploy(
    upload: Callable[[Path], str], create_endpoint: Callable[..., str]
) -> Callable[[Path], str]:
    """Upload a packaged model folder and create an endpoint on it; return its name."""

    def create(folder: Path) -> str:
        return create_endpoint(data_prefix=upload(folder))

    return create


@pytest.fixture(scope="module")
def settled(runtime: LocalRuntime) -> Callable[[str], dict[str, Any]]:
    """Wait until the endpoint is no longer Creating; return its description."""
    sagemaker = runtime.client("sagemaker")

    def wait(name: str) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            described = sagemaker.describe_endpoint(EndpointName=name)
            return None if described["EndpointStatus"] == "Creating" else described

        return wait_until(done, timeout=120, interval=0.1)  # type: ignore[no-any-return]

    return wait


@pytest.fixture(scope="module")
def endpoints(
    tiny_model_dir: Path,
    upload: Callable[[Path], str],
    create_endpoint: Callable[..., str],
    settled: Callable[[str], dict[str, Any]],
) -> dict[str, str]:
    """Two InService endpoints serving the tiny model, created together to save time:
    ``shared`` for the invocation tests, ``disposable`` for the deletion test."""
    data = upload(tiny_model_dir)
    names = {use: create_endpoint(data_prefix=data) for use in ("shared", "disposable")}
    for name in names.values():
        assert settled(name)["EndpointStatus"] == "InService"
    return names


@pytest.fixture(scope="module")
def endpoint(endpoints: dict[str, str]) -> str:
    """An InService endpoint serving the tiny model."""
    return endpoints["shared"]


@pytest.fixture(scope="module")
def invoke(runtime: LocalRuntime) -> Callable[..., Any]:
    """InvokeEndpoint with a JSON document; the decoded answer and the response."""
    client = runtime.client("sagemaker-runtime")

    def call(name: str, document: Any) -> tuple[Any, dict[str, Any]]:
        response = client.invoke_endpoint(
            EndpointName=name,
            Body=json.dumps(document),
            ContentType="application/json",
            Accept="application/json",
        )
        return json.loads(response["Body"].read()), response

    return call


def model_error(raised: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    """The parsed error response, after checking it is SageMaker's ModelError."""
    response = raised.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    return response


def is_running(pid: int) -> bool:
    """The process exists and has not exited (a zombie has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


# The LMI contract through InvokeEndpoint


def test_a_prompt_is_answered_with_generated_text(
    endpoint: str, invoke: Callable[..., Any]
) -> None:
    answer, response = invoke(
        endpoint, {"inputs": "Hello, my name is", "parameters": {"max_new_tokens": 5}}
    )

    assert set(answer) == {"generated_text"}
    assert isinstance(answer["generated_text"], str)
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"


def test_a_list_of_prompts_is_answered_with_a_list_in_order(
    endpoint: str, invoke: Callable[..., Any]
) -> None:
    answer, _ = invoke(
        endpoint,
        {"inputs": ["Hello", "Goodbye"], "parameters": {"max_new_tokens": 3, "details": True}},
    )

    assert [item["details"]["inputs"] for item in answer] == ["Hello", "Goodbye"]
    assert all(1 <= item["details"]["generated_tokens"] <= 3 for item in answer)


def test_a_chat_is_answered_with_a_chat_completion(
    endpoint: str, invoke: Callable[..., Any]
) -> None:
    answer, _ = invoke(
        endpoint,
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0},
    )

    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["role"] == "assistant"
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_the_threaded_server_answers_other_processes_the_same_way(
    runtime: LocalRuntime, endpoint: str
) -> None:
    client = boto3.client(
        "sagemaker-runtime",
        endpoint_url=runtime.endpoint_url(),
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    response = client.invoke_endpoint(
        EndpointName=endpoint,
        Body=b"Hello",
        ContentType="text/plain",
    )

    assert set(json.loads(response["Body"].read())) == {"generated_text"}


# Errors, as SageMaker reports them


def test_a_bad_request_is_a_model_error_with_the_containers_message(
    endpoint: str, invoke: Callable[..., Any]
) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(endpoint, {"inputs": "Hi", "parameters": {"max_tokens": 5}})

    response = model_error(raised)
    original = json.loads(response["OriginalMessage"])
    assert response["OriginalStatusCode"] == 400
    assert original["message"] == "parameters.max_tokens: Extra inputs are not permitted"
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    assert response["LogStreamArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"
    assert response["Error"]["Message"] == (
        f'Received client error (400) from primary with message "{response["OriginalMessage"]}". '
        f"See {LOGS_URL}#logEventViewer:group={group} in account {ACCOUNT} for more information."
    )


def test_a_prompt_beyond_max_model_len_is_a_model_error_naming_the_limit(
    endpoint: str, invoke: Callable[..., Any]
) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(endpoint, {"inputs": "Hello", "parameters": {"max_new_tokens": 300}})

    response = model_error(raised)
    assert response["OriginalStatusCode"] == 400
    assert "plus max_new_tokens (300) exceed max_model_len (256)" in response["OriginalMessage"]


def test_invoking_an_unknown_endpoint_is_a_validation_error(invoke: Callable[..., Any]) -> None:
    name = unique("missing")

    with pytest.raises(ClientError) as raised:
        invoke(name, {"inputs": "Hi"})

    assert raised.value.response["Error"] == {
        "Code": "ValidationError",
        "Message": f"Endpoint {name} of account {ACCOUNT} not found.",
    }


def test_invoking_an_endpoint_that_is_not_in_service_is_a_validation_error(
    runtime: LocalRuntime,
    create_endpoint: Callable[..., str],
    settled: Callable[[str], dict[str, Any]],
    invoke: Callable[..., Any],
) -> None:
    name = unique("chat")
    runtime.sagemaker.fail_endpoint(name, "capacity")
    create_endpoint(name=name, data_url="s3://nowhere/model.tar.gz")

    for expected in ("Creating", "Failed"):
        if expected == "Failed":
            settled(name)
        with pytest.raises(ClientError) as raised:
            invoke(name, {"inputs": "Hi"})

        assert raised.value.response["Error"] == {
            "Code": "ValidationError",
            "Message": f"Endpoint {name} of account {ACCOUNT} not found.",
        }


# Logs


def test_the_servers_output_and_each_invocation_reach_the_endpoints_log_group(
    endpoint: str, invoke: Callable[..., Any], log_messages: Callable[[str], list[str]]
) -> None:
    invoke(endpoint, {"inputs": ["Hello", "Hi"], "parameters": {"max_new_tokens": 2}})

    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    lines = wait_until(
        lambda: [line for line in log_messages(group) if "invocation generate" in line]
    )
    assert any("model loaded" in line for line in log_messages(group))
    assert "sequences=2 input_tokens=2 output_tokens=" in lines[-1]
    streams = boto3.client("logs", region_name=REGION).describe_log_streams(logGroupName=group)
    assert [stream["logStreamName"].split("/")[0] for stream in streams["logStreams"]] == [
        "AllTraffic"
    ]


# Metrics


def test_each_invocation_is_reported_to_cloudwatch_as_sagemaker_reports_it(
    runtime: LocalRuntime, endpoint: str, invoke: Callable[..., Any]
) -> None:
    cloudwatch = runtime.client("cloudwatch")

    def totals() -> dict[str, float]:
        found: dict[str, float] = {}
        for metric in ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency"):
            answer = cloudwatch.get_metric_statistics(
                Namespace="AWS/SageMaker",
                MetricName=metric,
                Dimensions=[
                    {"Name": "EndpointName", "Value": endpoint},
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
                StartTime=datetime.now(UTC) - timedelta(hours=1),
                EndTime=datetime.now(UTC) + timedelta(minutes=1),
                Period=7200,
                Statistics=["Sum", "SampleCount"],
            )
            statistic = "SampleCount" if metric == "ModelLatency" else "Sum"
            found[metric] = sum(point[statistic] for point in answer["Datapoints"])
        return found

    before = totals()
    invoke(endpoint, {"inputs": "Hello", "parameters": {"max_new_tokens": 2}})
    with pytest.raises(ClientError):
        invoke(endpoint, {"inputs": "Hi", "parameters": {"max_tokens": 5}})
    after = totals()

    assert {metric: after[metric] - before[metric] for metric in after} == {
        "Invocations": 2,
        "Invocation4XXErrors": 1,
        "Invocation5XXErrors": 0,
        "ModelLatency": 2,
    }


# Endpoints whose model cannot be served


def test_a_model_that_fails_to_load_fails_the_endpoint_health_check_with_its_logs(
    runtime: LocalRuntime,
    tmp_path: Path,
    deploy: Callable[[Path], str],
    settled: Callable[[str], dict[str, Any]],
    log_messages: Callable[[str], list[str]],
) -> None:
    (tmp_path / "serving.properties").write_text("engine=Python\noption.rolling_batch=vllm\n")
    (tmp_path / "config.json").write_text('{"model_type": "llama", "hidden_size": "wide"')

    name = deploy(tmp_path)

    described = settled(name)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == health_check_failure("AllTraffic")
    assert described["FailureReason"] == (
        "The primary container for production variant AllTraffic did not pass the ping health "
        "check. Please check CloudWatch logs for this endpoint."
    )
    lines = log_messages(f"/aws/sagemaker/Endpoints/{name}")
    assert any("could not be loaded" in line for line in lines)
    assert any(line.startswith("Traceback") for line in lines)
    assert lines[-1] == (
        "The container did not pass the ping health check: the server exited with code 1."
    )
    assert runtime.inference.server(name) is None


def test_model_data_that_is_not_a_tar_gz_fails_the_endpoint_as_sagemaker_does(
    runtime: LocalRuntime,
    create_endpoint: Callable[..., str],
    settled: Callable[[str], dict[str, Any]],
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    key = f"acme/{unique('model')}/model.tar.gz"
    runtime.client("s3").put_object(Bucket=bucket, Key=key, Body=b"weights")

    name = create_endpoint(data_url=f"s3://{bucket}/{key}")

    described = settled(name)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == (
        f'Failed to extract model data archive for container "container_1" from URL '
        f'"s3://{bucket}/{key}". Please ensure that the object located at the URL is a valid '
        "tar.gz file."
    )


# Deletion


def test_deleting_the_endpoint_stops_its_server_and_removes_its_model_data(
    runtime: LocalRuntime, endpoints: dict[str, str]
) -> None:
    name = endpoints["disposable"]
    server = runtime.inference.server(name)
    assert server is not None
    assert is_running(server.pid)

    runtime.client("sagemaker").delete_endpoint(EndpointName=name)

    wait_until(lambda: not server.workdir.exists())
    assert not is_running(server.pid)
    assert runtime.inference.server(name) is None
