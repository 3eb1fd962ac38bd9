"""The emulated account survives a restart on the same state directory (issue 17).

Each test starts a runtime, builds state, stops it, and starts a new runtime on the same
folder (one runtime at a time per process: moto's state is global). What is kept and how
a running execution ends are documented in docs/local.md ("What persists").
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.secretsmanager.models import secretsmanager_backends

from maas.executions import wait_for_execution
from maas.local import LocalRuntime, LocalSettings
from maas.local.persistence import (
    ENDPOINT_RESTART_REASON,
    INTERRUPTED_ERROR,
    STATE_FILE_NAME,
    AccountStore,
    StateError,
    StateNotSaved,
)
from maas.local.tokens import LocalTokens
from maas.manifest import MANIFEST
from tests.local.support import unique, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

MAAS = Path(sys.executable).with_name("maas")
ROLE = "arn:aws:iam::123456789012:role/maas-state-machine-role"
# Only the roles, bucket, table and bus: the runtime starts in a fraction of the time.
SMALL = MANIFEST.model_copy(update={"functions": (), "state_machines": (), "rules": ()})


def _runtime(state_dir: Path, **overrides: Any) -> LocalRuntime:
    wanted = {"endpoint_create_seconds": 0.1, "endpoint_delete_seconds": 0.1}
    settings = LocalSettings(**{**wanted, "serve_models": False, **overrides}, state_dir=state_dir)
    return LocalRuntime(settings, SMALL)


def _machine(runtime: LocalRuntime, states: dict[str, Any]) -> str:
    definition = {"StartAt": next(iter(states)), "States": states}
    created = runtime.client("stepfunctions").create_state_machine(
        name=unique("kept"), roleArn=ROLE, definition=json.dumps(definition)
    )
    return str(created["stateMachineArn"])


def _history(runtime: LocalRuntime, arn: str) -> list[dict[str, Any]]:
    sfn = runtime.client("stepfunctions")
    return list(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


def _placeholder_endpoint(runtime: LocalRuntime, bucket: str) -> str:
    sagemaker = runtime.client("sagemaker")
    runtime.client("s3").put_object(Bucket=bucket, Key="model/model.tar.gz", Body=b"weights")
    name: str = unique("kept-endpoint")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:latest",
            "ModelDataUrl": f"s3://{bucket}/model/model.tar.gz",
        },
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
    wait_until(
        lambda: sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    )
    return name


def test_the_account_survives_a_restart(tmp_path: Path) -> None:
    with _runtime(tmp_path) as first:
        bucket = first.resources.buckets["ArtifactsBucket"]
        table = first.resources.tables["EndpointsTable"]
        first.client("s3").put_object(
            Bucket=bucket, Key="kept/object.txt", Body=b"still here", Metadata={"who": "test"}
        )
        secret = first.client("secretsmanager").create_secret(
            Name="kept/secret", SecretString="s3cr3t"
        )
        item = {"pk": {"S": "TENANT#acme"}, "sk": {"S": "ENDPOINT#kept"}, "n": {"N": "7"}}
        first.client("dynamodb").put_item(TableName=table, Item=item)
        sagemaker = first.client("sagemaker")
        sagemaker.create_model_package_group(ModelPackageGroupName="kept-group")
        package_arn = sagemaker.create_model_package(
            ModelPackageGroupName="kept-group",
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [{"Image": "image:1", "ModelDataUrl": f"s3://{bucket}/m.tar.gz"}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
        )["ModelPackageArn"]
        first.write_logs("/maas/kept", "stream", ["a line that stays"])
        endpoint = _placeholder_endpoint(first, bucket)
        machine = _machine(first, {"P": {"Type": "Pass", "Result": {"kept": True}, "End": True}})
        sfn = first.client("stepfunctions")
        finished = sfn.start_execution(stateMachineArn=machine, name="finished")["executionArn"]
        assert wait_for_execution(sfn, finished).status == "SUCCEEDED"
        history_before = _history(first, finished)

    assert first.saved is not None
    assert first.saved.not_saved == {}
    assert (tmp_path / STATE_FILE_NAME).exists()

    with _runtime(tmp_path) as second:
        assert second.restored is not None
        assert "stepfunctions" in second.restored.services
        s3 = second.client("s3")
        got = s3.get_object(Bucket=bucket, Key="kept/object.txt")
        assert got["Body"].read() == b"still here"
        assert got["Metadata"] == {"who": "test"}
        value = second.client("secretsmanager").get_secret_value(SecretId="kept/secret")
        assert value["SecretString"] == "s3cr3t"
        assert value["VersionId"] == secret["VersionId"]
        key = {"pk": item["pk"], "sk": item["sk"]}
        assert second.client("dynamodb").get_item(TableName=table, Key=key)["Item"] == item
        sagemaker = second.client("sagemaker")
        package = sagemaker.describe_model_package(ModelPackageName=package_arn)
        assert package["ModelApprovalStatus"] == "Approved"
        packages = sagemaker.list_model_packages(ModelPackageGroupName="kept-group")
        assert [p["ModelPackageArn"] for p in packages["ModelPackageSummaryList"]] == [package_arn]
        # Nothing served it before the restart either: it is still InService.
        assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
        events = second.client("logs").get_log_events(
            logGroupName="/maas/kept", logStreamName="stream"
        )["events"]
        assert [event["message"] for event in events] == ["a line that stays"]

        sfn = second.client("stepfunctions")
        described = sfn.describe_execution(executionArn=finished)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"kept": True}
        assert _history(second, finished) == history_before
        listed = sfn.list_executions(stateMachineArn=machine)["executions"]
        assert [execution["executionArn"] for execution in listed] == [finished]
        # The state machine runs again after the restart, beside its kept execution.
        again = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        assert wait_for_execution(sfn, again).status == "SUCCEEDED"


def test_a_running_execution_is_failed_with_states_runtime(tmp_path: Path) -> None:
    with _runtime(tmp_path) as first:
        machine = _machine(first, {"W": {"Type": "Wait", "Seconds": 600, "End": True}})
        sfn = first.client("stepfunctions")
        running = sfn.start_execution(stateMachineArn=machine, name="running")["executionArn"]
        wait_until(lambda: any(e["type"] == "WaitStateEntered" for e in _history(first, running)))
        assert sfn.describe_execution(executionArn=running)["status"] == "RUNNING"

    assert first.saved is not None
    assert first.saved.interrupted_executions == [running]

    with _runtime(tmp_path) as second:
        sfn = second.client("stepfunctions")
        described = sfn.describe_execution(executionArn=running)
        assert described["status"] == "FAILED"
        assert described["error"] == INTERRUPTED_ERROR == "States.Runtime"
        assert "local runtime stopped" in described["cause"]
        assert described["stopDate"] >= described["startDate"]
        history = _history(second, running)
        last = history[-1]
        assert last["type"] == "ExecutionFailed"
        assert last["executionFailedEventDetails"] == {
            "error": "States.Runtime",
            "cause": described["cause"],
        }
        assert [event["id"] for event in history] == list(range(1, len(history) + 1))
        assert last["previousEventId"] == history[-2]["id"]
        # Map Runs are not kept (docs/local.md): none, rather than a failure.
        assert sfn.list_map_runs(executionArn=running)["mapRuns"] == []
        failed = sfn.list_executions(stateMachineArn=machine, statusFilter="FAILED")
        assert [e["executionArn"] for e in failed["executions"]] == [running]
        assert (
            sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"] == []
        )


def test_a_schedule_is_armed_again_after_a_restart(tmp_path: Path) -> None:
    with _runtime(tmp_path) as first:
        machine = _machine(first, {"P": {"Type": "Pass", "End": True}})
        schedule_arn = first.client("scheduler").create_schedule(
            Name="kept-schedule",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": machine, "RoleArn": ROLE, "Input": "{}"},
        )["ScheduleArn"]
        assert first.scheduler.next_firing(schedule_arn) is not None

    with _runtime(tmp_path) as second:
        # A deployment's time-to-live is such a schedule: it fires in this process too.
        assert second.scheduler.next_firing(schedule_arn) is not None
        kept = second.client("scheduler").get_schedule(Name="kept-schedule")
        assert kept["Target"]["Arn"] == machine


def test_alarms_metrics_and_scalable_targets_survive_a_restart(tmp_path: Path) -> None:
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/kept/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    with _runtime(tmp_path) as first:
        cloudwatch = first.client("cloudwatch")
        cloudwatch.put_metric_data(
            Namespace="Kept", MetricData=[{"MetricName": "Calls", "Value": 3.0}]
        )
        cloudwatch.put_metric_alarm(
            AlarmName="kept-alarm",
            Namespace="Kept",
            MetricName="Calls",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=10.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        first.client("application-autoscaling").register_scalable_target(
            **target, MinCapacity=1, MaxCapacity=3
        )

    with _runtime(tmp_path) as second:
        cloudwatch = second.client("cloudwatch")
        alarms = cloudwatch.describe_alarms(AlarmNames=["kept-alarm"])["MetricAlarms"]
        assert [alarm["Threshold"] for alarm in alarms] == [10.0]
        metrics = cloudwatch.list_metrics(Namespace="Kept")["Metrics"]
        assert [metric["MetricName"] for metric in metrics] == ["Calls"]
        targets = second.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="sagemaker", ResourceIds=[target["ResourceId"]]
        )["ScalableTargets"]
        assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(1, 3)]


def test_an_in_service_endpoint_fails_when_models_are_served_after_a_restart(
    tmp_path: Path,
) -> None:
    with _runtime(tmp_path) as first:
        endpoint = _placeholder_endpoint(first, first.resources.buckets["ArtifactsBucket"])

    # Its inference server (had there been one) ended with the first process.
    with _runtime(tmp_path, serve_models=True) as second:
        assert second.restored is not None
        assert second.restored.failed_endpoints == [endpoint]
        described = second.client("sagemaker").describe_endpoint(EndpointName=endpoint)
        assert described["EndpointStatus"] == "Failed"
        assert described["FailureReason"] == ENDPOINT_RESTART_REASON


def _saved_state(tmp_path: Path) -> bytes:
    with _runtime(tmp_path) as runtime:
        bucket = runtime.resources.buckets["ArtifactsBucket"]
        runtime.client("s3").put_object(Bucket=bucket, Key="k", Body=b"v")
    return (tmp_path / STATE_FILE_NAME).read_bytes()


def _header(content: bytes) -> dict[str, Any]:
    return dict(json.loads(content.partition(b"\n")[0]))


def _with_header(content: bytes, **changes: Any) -> bytes:
    header = {**_header(content), **changes}
    return json.dumps(header).encode() + b"\n" + content.partition(b"\n")[2]


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda content: b"not a state file at all", "is not a local account state"),
        (lambda content: content[: len(content) // 2], "does not match its checksum"),
        (lambda content: _with_header(content, moto="4.0.0"), "moto version '4.0.0'"),
        (lambda content: _with_header(content, version=999), "format version 999"),
        (lambda content: _with_header(content, region="eu-west-1"), "region 'eu-west-1'"),
    ],
    ids=["garbage", "truncated", "older-moto", "newer-format", "other-region"],
)
def test_a_corrupt_or_incompatible_state_is_refused_and_left_in_place(
    tmp_path: Path, spoil: Callable[[bytes], bytes], said: str
) -> None:
    spoiled = spoil(_saved_state(tmp_path))
    path = tmp_path / STATE_FILE_NAME
    path.write_bytes(spoiled)

    runtime = _runtime(tmp_path)
    with pytest.raises(StateError) as refused:
        runtime.start()

    message = str(refused.value)
    assert str(tmp_path) in message
    assert said in message
    assert path.read_bytes() == spoiled
    # Refused before anything started: another runtime can start in this process.
    with _runtime(tmp_path / "elsewhere") as other:
        assert other.restored is None


def test_a_state_that_does_not_fit_moto_s_backends_is_refused_and_left_in_place(
    tmp_path: Path,
) -> None:
    content = _saved_state(tmp_path)
    header = _header(content)
    body = content.partition(b"\n")[2]
    parts, offset = {}, 0
    for name, size, _ in header["parts"]:
        parts[name], offset = body[offset : offset + size], offset + size
    # Whole and as written, but not what this moto's DynamoDB backend holds.
    parts["dynamodb"] = pickle.dumps({"tables": ["not", "a", "table"]})
    header["parts"] = [
        [name, len(part), hashlib.sha256(part).hexdigest()] for name, part in parts.items()
    ]
    unfit = json.dumps(header).encode() + b"\n" + b"".join(parts.values())
    path = tmp_path / STATE_FILE_NAME
    path.write_bytes(unfit)

    with pytest.raises(StateError, match="cannot be restored") as refused:
        _runtime(tmp_path).start()

    assert str(tmp_path) in str(refused.value)
    assert path.read_bytes() == unfit
    with _runtime(tmp_path / "elsewhere") as other:
        assert other.restored is None


def test_a_crash_while_saving_leaves_the_previous_state_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = _saved_state(tmp_path)

    def crash(descriptor: int) -> None:
        raise OSError("disk gone")

    with _runtime(tmp_path) as runtime:
        bucket = runtime.resources.buckets["ArtifactsBucket"]
        runtime.client("s3").put_object(Bucket=bucket, Key="k", Body=b"newer")
        monkeypatch.setattr(os, "fsync", crash)
        with pytest.raises(StateNotSaved, match="disk gone") as refused:
            runtime.stop()
        assert str(tmp_path) in str(refused.value)

    assert (tmp_path / STATE_FILE_NAME).read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_autosave_keeps_the_account_when_the_stop_cannot_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _runtime(tmp_path, autosave_seconds=0.2) as first:
        bucket = first.resources.buckets["ArtifactsBucket"]
        first.client("s3").put_object(Bucket=bucket, Key="autosaved", Body=b"in time")
        machine = _machine(first, {"W": {"Type": "Wait", "Seconds": 600, "End": True}})
        sfn = first.client("stepfunctions")
        running = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        path = tmp_path / STATE_FILE_NAME
        written = time.time()
        wait_until(lambda: path.exists() and path.stat().st_mtime > written + 0.3)

        # As if the process died: the stop's own save never lands.
        def crash(*_: object) -> None:
            raise OSError("killed")

        monkeypatch.setattr(os, "fsync", crash)
        with pytest.raises(StateNotSaved):
            first.stop()
    monkeypatch.undo()

    with _runtime(tmp_path) as second:
        got = second.client("s3").get_object(Bucket=bucket, Key="autosaved")
        assert got["Body"].read() == b"in time"
        # Running at the last autosave: FAILED in the file, never RUNNING.
        described = second.client("stepfunctions").describe_execution(executionArn=running)
        assert (described["status"], described["error"]) == ("FAILED", INTERRUPTED_ERROR)


def test_a_service_that_cannot_be_saved_is_reported_and_the_rest_is_kept(
    tmp_path: Path,
) -> None:
    with _runtime(tmp_path) as first:
        first.client("secretsmanager").create_secret(Name="lost", SecretString="x")
        bucket = first.resources.buckets["ArtifactsBucket"]
        first.client("s3").put_object(Bucket=bucket, Key="k", Body=b"kept")
        # Something of this process only (a lock) inside a backend: it cannot be pickled.
        backend = secretsmanager_backends["123456789012"]["us-east-1"]
        vars(backend)["an_unpicklable_lock"] = threading.Lock()

    assert first.saved is not None
    assert "secretsmanager" in first.saved.not_saved
    assert "lock" in first.saved.not_saved["secretsmanager"]
    header = _header((tmp_path / STATE_FILE_NAME).read_bytes())
    assert "secretsmanager" in header["not_saved"]

    with _runtime(tmp_path) as second:
        got = second.client("s3").get_object(Bucket=bucket, Key="k")
        assert got["Body"].read() == b"kept"
        secrets = second.client("secretsmanager").list_secrets()["SecretList"]
        assert "lost" not in [secret["Name"] for secret in secrets]


def test_no_state_dir_keeps_nothing(tmp_path: Path) -> None:
    settings = LocalSettings(serve_models=False)
    with LocalRuntime(settings, SMALL) as runtime:
        assert runtime.store is None
    assert runtime.saved is None
    assert list(tmp_path.iterdir()) == []


def test_the_store_refuses_another_account(tmp_path: Path) -> None:
    _saved_state(tmp_path)
    store = AccountStore(tmp_path, account_id="000000000000", region="us-east-1")
    with pytest.raises(StateError, match="account '123456789012'"):
        store.load()


def _maas_local_up(state_dir: Path, port: int, api_port: int) -> _Process:
    return _Process(
        [
            str(MAAS),
            "local",
            "up",
            "--port",
            str(port),
            "--api-port",
            str(api_port),
            "--no-serve-models",
            "--state-dir",
            str(state_dir),
        ],
        # The token key beside the account, for `maas local token` and the local API.
        {**_environment(), "MAAS_LOCAL_STATE_DIR": str(state_dir)},
    )


class _Process:
    """A command started in the background, its output collected line by line."""

    def __init__(self, command: list[str], environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(self.process.stdout or []), daemon=True
        )
        self._reader.start()

    def wait_for(self, text: str, timeout: float = 90) -> None:
        wait_until(lambda: any(text in line for line in self.lines), timeout=timeout)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return "".join(self.lines)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _client(service: str, port: int) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_maas_local_up_keeps_the_account_across_a_restart(tmp_path: Path) -> None:
    port, api_port = _free_port(), _free_port()
    name = f"acme_{uuid.uuid4().hex[:24]}"
    first = _maas_local_up(tmp_path, port, api_port)
    try:
        first.wait_for("Ctrl-C stops it")
        assert any("no saved account" in line for line in first.lines), first.lines
        s3 = _client("s3", port)
        s3.put_object(Bucket="maas-artifacts-bucket-123456789012", Key="kept", Body=b"across")
        _client("secretsmanager", port).create_secret(Name="kept", SecretString="across")
        sfn = _client("stepfunctions", port)
        machine = next(
            m["stateMachineArn"]
            for m in sfn.list_state_machines()["stateMachines"]
            if m["name"] == "maas-teardown"
        )
        execution = sfn.start_execution(
            stateMachineArn=machine, name=name, input=json.dumps({"tenant_id": "acme"})
        )["executionArn"]
        wait_until(lambda: sfn.get_execution_history(executionArn=execution)["events"])
        before = sfn.describe_execution(executionArn=execution)
        said = first.stop()
    finally:
        first.kill()
    assert first.process.returncode == 0, said
    assert f"account saved to {tmp_path / STATE_FILE_NAME}" in " ".join(said.split())
    assert "not kept: Batch jobs" in said

    second = _maas_local_up(tmp_path, port, api_port)
    try:
        second.wait_for("Ctrl-C stops it")
        assert any("account restored" in line for line in second.lines), second.lines
        got = _client("s3", port).get_object(
            Bucket="maas-artifacts-bucket-123456789012", Key="kept"
        )
        assert got["Body"].read() == b"across"
        secret = _client("secretsmanager", port).get_secret_value(SecretId="kept")
        assert secret["SecretString"] == "across"
        described = _client("stepfunctions", port).describe_execution(executionArn=execution)
        # Finished before the stop (this input fails its plan: Maas.ValidationError, which
        # may come after the describe above), or failed by the stop: never RUNNING.
        if before["status"] == "RUNNING":
            assert described["status"] == "FAILED"
            assert described["error"] in {"States.Runtime", "Maas.ValidationError"}, described
        else:
            assert described["status"] == before["status"]
        token = LocalTokens.from_state_dir(tmp_path).issue("acme")
        shown = subprocess.run(
            [
                str(MAAS),
                "executions",
                "show",
                "teardown",
                name,
                "--api-url",
                f"http://127.0.0.1:{api_port}",
                "--token",
                token,
                "--json",
            ],
            capture_output=True,
            text=True,
            env=_environment(),
            timeout=60,
            check=False,
        )
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert json.loads(shown.stdout)["status"] == described["status"]
    finally:
        second.stop()
        second.kill()


def test_maas_local_up_refuses_a_corrupt_state_at_once(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILE_NAME
    path.write_bytes(b"{}\ngarbage")

    completed = subprocess.run(
        [str(MAAS), "local", "up", "--port", str(_free_port()), "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
        check=False,
    )

    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode == 1, output
    assert f"saved account in {tmp_path} is refused" in output
    assert "Traceback" not in output
    assert path.read_bytes() == b"{}\ngarbage"
    # Refused before the runtime provisioned or saved anything beside it.
    assert [entry.name for entry in tmp_path.iterdir()] == [STATE_FILE_NAME]
