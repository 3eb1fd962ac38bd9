"""How much the local runtime's adapters cost on top of moto, and how long a deployment takes.

Prints, each measured in this run and each the median of several repeats:

- milliseconds per state transition of a 100-iteration Pass/Choice loop, on moto alone and
  on the local runtime;
- milliseconds per Lambda task (Task state entered to exited), on moto alone (its canned
  "simple" Lambda, which runs no code) and on the local runtime (the real handler in-process);
- the wall time of one deploy + teardown of a placeholder artifact (no model served: the
  workflows' own cost, not a model's loading).

Target: the adapters add no more than 10% to moto's own figures. The two setups cannot
share a process at once, so they alternate over several rounds; while an execution runs,
the benchmark only checks its status every quarter second, so that polling does not compete
with the interpreter's thread for the GIL.

Run: ``make bench`` (or ``python benchmarks/local_runtime.py``).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.executions import read_execution, wait_for_execution
from maas.local import LocalRuntime, LocalSettings
from maas.local.awslambda import LocalFunction

if TYPE_CHECKING:
    from collections.abc import Iterator

    from moto.core.config import DefaultConfig

ROUNDS = 3
REPEATS = 3
POLL_SECONDS = 0.25
LOOP_ITERATIONS = 100
LAMBDA_TASKS = 20
TARGET_RATIO = 1.10
ROLE = "arn:aws:iam::123456789012:role/benchmark"


def loop_definition(iterations: int) -> str:
    """A counter loop: Pass increments, Choice tests; two transitions per iteration."""
    return json.dumps(
        {
            "StartAt": "Start",
            "States": {
                "Start": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Done?"},
                "Done?": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$.i", "NumericGreaterThanEquals": iterations, "Next": "End"}
                    ],
                    "Default": "Count",
                },
                "Count": {
                    "Type": "Pass",
                    "Parameters": {"i.$": "States.MathAdd($.i, 1)"},
                    "Next": "Done?",
                },
                "End": {"Type": "Succeed"},
            },
        }
    )


def lambda_definition(function_arn: str, tasks: int) -> str:
    """``tasks`` Lambda invocations in a row."""
    states: dict[str, Any] = {}
    for index in range(tasks):
        states[f"Invoke {index}"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function_arn, "Payload": {"index": index}},
            "ResultPath": None,
            **({"Next": f"Invoke {index + 1}"} if index + 1 < tasks else {"End": True}),
        }
    return json.dumps({"StartAt": "Invoke 0", "States": states})


def execute(sfn: Any, definition: str) -> Any:
    arn = sfn.create_state_machine(
        name=f"bench-{time.monotonic_ns()}", definition=definition, roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name=f"run-{time.monotonic_ns()}")
    while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
        time.sleep(POLL_SECONDS)
    snapshot = read_execution(sfn, execution["executionArn"])
    if snapshot.status != "SUCCEEDED":
        raise RuntimeError(
            f"benchmark execution {snapshot.status}: {snapshot.error} {snapshot.cause}"
        )
    return snapshot


def ms_per_transition(sfn: Any) -> float:
    snapshot = execute(sfn, loop_definition(LOOP_ITERATIONS))
    seconds: float = (snapshot.stopped_at - snapshot.started_at).total_seconds()
    return 1000 * seconds / len(snapshot.visits)


def ms_per_lambda_task(sfn: Any, function_arn: str) -> float:
    snapshot = execute(sfn, lambda_definition(function_arn, LAMBDA_TASKS))
    return 1000 * statistics.mean(visit.seconds or 0.0 for visit in snapshot.visits)


def placeholder_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("handlers.py", "")
    return archive.getvalue()


@contextmanager
def moto_alone() -> Iterator[Any]:
    """moto with its ASL interpreter and its canned Lambda, no adapters."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    config: DefaultConfig = {
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
    }
    with mock_aws(config=config):
        yield boto3


def repeat(measure: Any, *args: Any) -> list[float]:
    return [measure(*args) for _ in range(REPEATS)]


def measure_moto_alone() -> tuple[list[float], list[float]]:
    with moto_alone() as aws:
        sfn, lambda_ = aws.client("stepfunctions"), aws.client("lambda")
        aws.client("iam").create_role(
            RoleName="benchmark",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        function_arn = lambda_.create_function(
            FunctionName="echo",
            Runtime="python3.12",
            Role=ROLE,
            Handler="handlers.echo",
            Code={"ZipFile": placeholder_zip()},
        )["FunctionArn"]
        return repeat(ms_per_transition, sfn), repeat(ms_per_lambda_task, sfn, function_arn)


def measure_local_runtime() -> tuple[list[float], list[float]]:
    with LocalRuntime() as runtime:
        sfn, lambda_ = runtime.client("stepfunctions"), runtime.client("lambda")
        created = lambda_.create_function(
            FunctionName="echo",
            Runtime="python3.12",
            Role=runtime.resources.roles["FunctionRole"],
            Handler="benchmarks.handlers.echo",
            Code={"ZipFile": placeholder_zip()},
        )
        runtime.lambda_.register(
            LocalFunction(
                name="echo",
                handler="benchmarks.handlers.echo",
                environment={},
                timeout_seconds=30,
                memory_mb=128,
                arn=created["FunctionArn"],
            )
        )
        return (
            repeat(ms_per_transition, sfn),
            repeat(ms_per_lambda_task, sfn, created["FunctionArn"]),
        )


def placeholder_deployment(runtime: LocalRuntime) -> dict[str, Any]:
    """A deployment of an artifact that is only a serving.properties, as packaging lays out."""
    bucket, prefix = runtime.resources.buckets["ArtifactsBucket"], "bench/placeholder/1/"
    runtime.client("s3").put_object(
        Bucket=bucket, Key=f"{prefix}serving.properties", Body=b"engine=Python\n"
    )
    return {
        "tenant_id": "bench",
        "endpoint_name": "bench-endpoint",
        "instance_type": "ml.g5.xlarge",
        "model": {
            "model_id": "placeholder",
            "version": "1",
            "image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:1",
            "model_data_url": f"s3://{bucket}/{prefix}",
        },
    }


def measure_deploy_and_teardown() -> float:
    with LocalRuntime(LocalSettings(serve_models=False)) as runtime:
        request = placeholder_deployment(runtime)
        sfn = runtime.client("stepfunctions")
        started = time.monotonic()
        for machine, document in (
            ("DeployEndpoint", request),
            (
                "Teardown",
                {"tenant_id": request["tenant_id"], "endpoint_name": request["endpoint_name"]},
            ),
        ):
            snapshot = wait_for_execution(
                sfn, runtime.start_execution(machine, json.dumps(document)), poll_seconds=0.05
            )
            if snapshot.status != "SUCCEEDED":
                raise RuntimeError(f"{machine} {snapshot.status}: {snapshot.cause}")
        return time.monotonic() - started


def main() -> int:
    samples: dict[str, list[float]] = {key: [] for key in ("bt", "bl", "lt", "ll")}
    for _ in range(ROUNDS):
        transitions, tasks = measure_moto_alone()
        samples["bt"] += transitions
        samples["bl"] += tasks
        transitions, tasks = measure_local_runtime()
        samples["lt"] += transitions
        samples["ll"] += tasks
    base_transition, base_task, local_transition, local_task = (
        statistics.median(samples[key]) for key in ("bt", "bl", "lt", "ll")
    )
    deploy_seconds = measure_deploy_and_teardown()
    rows = [
        ("Pass/Choice transition (ms)", base_transition, local_transition),
        ("Lambda task (ms)", base_task, local_task),
    ]
    header = f"{'figure':32} {'moto alone':>12} {'local runtime':>14} {'ratio':>7}"
    print(f"{header}  target <= {TARGET_RATIO}")
    missed = 0
    for label, baseline, measured in rows:
        ratio = measured / baseline
        verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
        missed += verdict == "MISSED"
        print(f"{label:32} {baseline:12.2f} {measured:14.2f} {ratio:7.2f}  {verdict}")
    print(f"{'deploy + teardown (s, wall)':32} {'':>12} {deploy_seconds:14.2f}")
    print(f"(medians of {ROUNDS * REPEATS} runs per setup, the setups alternating)")
    print(
        "(endpoint creation takes 2 s and deletion 1 s by default on the local runtime; "
        "the workflows poll every second)"
    )
    return 1 if missed and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
