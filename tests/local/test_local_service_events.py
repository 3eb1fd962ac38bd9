"""SageMaker and Batch on the local runtime announce their state changes as AWS does.

moto's services emit no events; the adapters put ``SageMaker Endpoint State Change`` and
``Batch Job State Change`` on the default bus with AWS's detail, so the product's inbound
rules hear them. A rule on the default bus copies them to a log group here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from schemas.aws_events import BatchJobStateChange, SageMakerEndpointStateChange
from tests.local.support import unique, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"


@pytest.fixture(scope="module")
def heard(runtime: LocalRuntime) -> Callable[[str, str], list[dict[str, Any]]]:
    """Events of a source about a resource name, as the default bus delivered them."""
    log_group = f"/{unique('service-events')}"
    logs, events = runtime.client("logs"), runtime.client("events")
    logs.create_log_group(logGroupName=log_group)
    arn = logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"][0]["arn"]
    rule = unique("service-events")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.sagemaker", "aws.batch"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "log", "Arn": arn.removesuffix(":*")}])

    def read(source: str, name: str) -> list[dict[str, Any]]:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=log_group)
        delivered = [json.loads(event["message"]) for page in pages for event in page["events"]]
        return [
            event
            for event in delivered
            if event["source"] == source
            and name in (event["detail"].get("EndpointName"), event["detail"].get("jobName"))
        ]

    return read


@pytest.fixture(scope="module")
def endpoint_config(runtime: LocalRuntime) -> Callable[[], str]:
    """A fresh endpoint configuration whose model data is in S3."""
    sagemaker, bucket = runtime.client("sagemaker"), runtime.resources.buckets["ArtifactsBucket"]

    def create() -> str:
        key = f"{unique('chat')}/model.tar.gz"
        runtime.client("s3").put_object(Bucket=bucket, Key=key, Body=b"weights")
        model = unique("model")
        sagemaker.create_model(
            ModelName=model,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{bucket}/{key}"},
            ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        )
        config = unique("config")
        sagemaker.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model,
                    "InstanceType": "ml.g5.xlarge",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        return config

    return create


def statuses(events: list[dict[str, Any]], key: str) -> list[str]:
    return [event["detail"][key] for event in events]


def test_an_endpoint_announces_creating_in_service_and_deleting(
    runtime: LocalRuntime,
    endpoint_config: Callable[[], str],
    heard: Callable[[str, str], list[dict[str, Any]]],
) -> None:
    sagemaker, name = runtime.client("sagemaker"), unique("chat")
    sagemaker.create_endpoint(
        EndpointName=name,
        EndpointConfigName=endpoint_config(),
        Tags=[{"Key": "maas:tenant", "Value": "acme"}],
    )
    wait_until(lambda: len(heard("aws.sagemaker", name)) == 2)
    sagemaker.delete_endpoint(EndpointName=name)
    wait_until(lambda: len(heard("aws.sagemaker", name)) == 3)

    events = heard("aws.sagemaker", name)
    assert statuses(events, "EndpointStatus") == ["CREATING", "IN_SERVICE", "DELETING"]
    assert {event["detail-type"] for event in events} == {"SageMaker Endpoint State Change"}
    assert events[0]["resources"] == [events[0]["detail"]["EndpointArn"]]
    changes = [SageMakerEndpointStateChange.model_validate(event["detail"]) for event in events]
    assert {change.tenant_id for change in changes} == {"acme"}
    sequences = [change.observation().sequence for change in changes]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3
    assert events[1]["detail"]["ProductionVariants"][0]["VariantName"] == "AllTraffic"


def test_an_endpoint_that_fails_announces_failed_with_its_reason(
    runtime: LocalRuntime,
    endpoint_config: Callable[[], str],
    heard: Callable[[str, str], list[dict[str, Any]]],
) -> None:
    name = unique("chat")
    runtime.sagemaker.fail_endpoint(name, "CUDA out of memory on ml.g5.xlarge")
    runtime.client("sagemaker").create_endpoint(
        EndpointName=name, EndpointConfigName=endpoint_config()
    )
    wait_until(lambda: len(heard("aws.sagemaker", name)) == 2)

    creating, failed = heard("aws.sagemaker", name)
    assert creating["detail"]["EndpointStatus"] == "CREATING"
    assert "FailureReason" not in creating["detail"]
    assert failed["detail"]["EndpointStatus"] == "FAILED"
    assert failed["detail"]["FailureReason"] == "CUDA out of memory on ml.g5.xlarge"
    assert failed["detail"]["Tags"] == {}


def test_a_capacity_change_announces_updating_then_in_service(
    runtime: LocalRuntime,
    endpoint_config: Callable[[], str],
    heard: Callable[[str, str], list[dict[str, Any]]],
) -> None:
    sagemaker, name = runtime.client("sagemaker"), unique("chat")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=endpoint_config())
    wait_until(lambda: len(heard("aws.sagemaker", name)) == 2)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 2}],
    )
    wait_until(lambda: len(heard("aws.sagemaker", name)) == 4)

    assert statuses(heard("aws.sagemaker", name), "EndpointStatus")[2:] == [
        "UPDATING",
        "IN_SERVICE",
    ]


@pytest.fixture(scope="module")
def job_queue(runtime: LocalRuntime) -> str:
    """The packager's queue the runtime provisioned (an unmanaged environment)."""
    return runtime.resources.job_queues["Packager"]


def submit(runtime: LocalRuntime, job_queue: str, script: str) -> str:
    """Run ``script`` as a job with a variable in its environment; return the job's name."""
    batch, name = runtime.client("batch"), unique("job")
    definition = batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={
            "image": "maas/local-test:latest",
            "command": ["python", "-c", script],
            "environment": [{"name": "KIND", "value": "test"}],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )
    batch.submit_job(
        jobName=name,
        jobQueue=job_queue,
        jobDefinition=definition["jobDefinitionArn"],
        containerOverrides={"environment": [{"name": "RUN", "value": "one"}]},
    )
    return name


def test_a_job_announces_runnable_starting_running_and_succeeded(
    runtime: LocalRuntime, job_queue: str, heard: Callable[[str, str], list[dict[str, Any]]]
) -> None:
    name = submit(runtime, job_queue, "raise SystemExit(0)")
    wait_until(lambda: len(heard("aws.batch", name)) == 4, timeout=20)

    events = heard("aws.batch", name)
    assert statuses(events, "status") == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert {event["detail-type"] for event in events} == {"Batch Job State Change"}
    assert events[0]["resources"] == [events[0]["detail"]["jobArn"]]
    changes = [BatchJobStateChange.model_validate(event["detail"]) for event in events]
    assert {change.job_queue for change in changes} == {job_queue}
    assert changes[0].environment() == {"RUN": "one", "KIND": "test"} | {
        "AWS_BATCH_JOB_ID": changes[0].job_id
    }
    sequences = [change.observation(datetime.now(UTC)).sequence for change in changes]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 4


def test_a_job_that_exits_non_zero_announces_failed_with_its_exit_code(
    runtime: LocalRuntime, job_queue: str, heard: Callable[[str, str], list[dict[str, Any]]]
) -> None:
    name = submit(runtime, job_queue, "raise SystemExit(3)")
    wait_until(lambda: len(heard("aws.batch", name)) == 4, timeout=20)

    failed = heard("aws.batch", name)[-1]["detail"]
    assert failed["status"] == "FAILED"
    assert failed["statusReason"] == "Essential container in task exited"
    assert failed["container"]["exitCode"] == 3
