"""The embedded runtime: the control plane with no AWS account.

:class:`LocalRuntime` starts moto in this process, puts the adapters of this package in
place (each says why it exists), and provisions the manifest's functions, state machines,
rules, table, bucket and bus. The state machines then run the same definitions and the same
Lambda handlers as on AWS. Other processes (Batch jobs, the CLI of another shell) reach the
same emulated account over HTTP: :meth:`LocalRuntime.endpoint_url` starts moto's server on
127.0.0.1 when first asked.

One runtime at a time per process: moto's state is global.

Examples
--------
.. code-block:: python

    with LocalRuntime() as runtime:
        arn = runtime.start_execution("DeployEndpoint", json.dumps(request))
        wait_for_execution(runtime.client("stepfunctions"), arn).status  # 'SUCCEEDED'
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import ExitStack
from functools import partial
from typing import TYPE_CHECKING, Any, Self

import boto3
from moto import mock_aws
from moto.logs.models import logs_backends

from maas.aws import reset_clients
from maas.local import (
    applicationautoscaling,
    dynamodb,
    environ,
    function_credentials,
    iam_enforcement,
    router_state,
    signing,
    stepfunctions,
    workflow_credentials,
)
from maas.local.apigateway import LocalApiGateway
from maas.local.apigateway_routes import api_routes
from maas.local.awslambda import LocalLambda
from maas.local.batch import LocalBatch
from maas.local.bedrock import LocalBedrock, configured_stage
from maas.local.cloudwatch import LocalCloudWatch
from maas.local.events import LocalEventBridge
from maas.local.faults import FaultInjector
from maas.local.http_server import EmulationServer
from maas.local.inference import LocalInference
from maas.local.instancemetrics import LocalInstanceMetrics
from maas.local.persistence import (
    AccountStore,
    Autosave,
    SavedState,
    arm_schedules,
    settle_endpoints,
)
from maas.local.provision import LocalResources, provision
from maas.local.sagemaker import EndpointTiming, LocalSageMaker
from maas.local.scheduler import LocalScheduler
from maas.local.settings import LocalSettings
from maas.local.tokens import LocalTokens
from maas.local.xray import LocalXRay
from maas.manifest import MANIFEST, Manifest

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType

    from maas.local.apigateway import HttpRequest, HttpResponse
    from maas.local.apigateway_limits import GatewayLimits

_running = threading.Lock()

#: What a process needs to talk to the emulated account instead of AWS.
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def _quiet_loggers(stack: ExitStack) -> None:
    # The interpreter logs every failed state with its whole parse tree; on AWS a failure
    # is in the execution history only, which is where the runtime's users look. The
    # emulation's HTTP server would log every request another process makes, in the middle
    # of whatever the terminal shows.
    for name, quiet in (
        ("moto.stepfunctions.parser", logging.CRITICAL),
        ("werkzeug", logging.ERROR),
    ):
        logger = logging.getLogger(name)
        stack.callback(logger.setLevel, logger.level)
        logger.setLevel(quiet)


class LocalRuntime:
    """The emulated AWS account with the control plane provisioned in it.

    Parameters
    ----------
    settings
        Region, account, name prefix, the pace of emulated SageMaker and whether its
        endpoints serve models.
    manifest
        What to provision; the product's manifest unless a test narrows it.
    """

    def __init__(
        self, settings: LocalSettings | None = None, manifest: Manifest = MANIFEST
    ) -> None:
        self.settings = settings or LocalSettings()
        self.manifest = manifest
        self.resources = LocalResources(settings=self.settings, manifest=manifest)
        self.lambda_ = LocalLambda(write_logs=self.write_logs)
        self.sagemaker = LocalSageMaker(
            EndpointTiming(
                create_seconds=self.settings.endpoint_create_seconds,
                delete_seconds=self.settings.endpoint_delete_seconds,
            )
        )
        self.inference = LocalInference(self.settings, write_logs=self.write_logs)
        self.sagemaker.before_in_service(self.inference.start_server)
        self.sagemaker.on_deleted(self.inference.stop_server)
        self.events = LocalEventBridge(invoke_function=self.lambda_.invoke)
        self.batch = LocalBatch(aws_environment=self.aws_environment, write_logs=self.write_logs)
        # moto's SageMaker and Batch emit no events; the adapters put AWS's on the default bus.
        self.sagemaker.announce_state_changes(partial(self.client, "events"))
        self.batch.announce_state_changes(partial(self.client, "events"))
        self.faults = FaultInjector(function_names=self._function_names)
        self.scheduler = LocalScheduler(self.client)
        self.cloudwatch = LocalCloudWatch(
            self.client,
            account_id=self.settings.account_id,
            region=self.settings.region,
            interval_seconds=self.settings.alarm_evaluation_seconds,
        )
        self.instance_metrics = LocalInstanceMetrics(
            self.inference,
            account_id=self.settings.account_id,
            region=self.settings.region,
            interval_seconds=self.settings.instance_metrics_seconds,
            write_logs=self.write_logs,
        )
        # The X-Ray daemon's part: segments sent over UDP land in the emulated X-Ray.
        self.xray = LocalXRay(self.client)
        # ApplyGuardrail, answered by the local guardrail engine (maas.local.bedrock).
        self.bedrock = LocalBedrock(
            account_id=self.settings.account_id, region=self.settings.region
        )
        self._stack: ExitStack | None = None
        self._server: EmulationServer | None = None
        self._api: LocalApiGateway | None = None
        self._server_lock = threading.Lock()
        #: Where the account is kept across restarts (``settings.state_dir``), if anywhere.
        self.store = (
            AccountStore(
                self.settings.state_dir,
                account_id=self.settings.account_id,
                region=self.settings.region,
            )
            if self.settings.state_dir is not None
            else None
        )
        #: What :meth:`start` restored and the last :meth:`stop` saved (with a store).
        self.restored: SavedState | None = None
        self.saved: SavedState | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        """Start the emulation, install the adapters and provision the manifest."""
        if not _running.acquire(blocking=False):
            raise RuntimeError("a LocalRuntime is already running in this process")
        stack = ExitStack()
        stack.callback(_running.release)
        try:
            # Read and checked before anything starts: a refused state fails at once.
            saved = self.store.load() if self.store is not None else None
            self._set_process_environment(stack)
            _quiet_loggers(stack)
            mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            mock.start()
            stack.callback(mock.stop)
            environ.install()
            stack.callback(environ.uninstall)
            stepfunctions.install(stack)
            applicationautoscaling.install(stack)
            dynamodb.install(stack)
            # In-process calls skip computing a signature moto never checks: see that module.
            signing.install(stack)
            adapters = (
                self.xray,
                self.lambda_,
                self.sagemaker,
                self.inference,
                self.events,
                self.batch,
                self.scheduler,
                self.cloudwatch,
                self.instance_metrics,
                self.bedrock,
            )
            for adapter in adapters:
                adapter.install(stack)
            self.faults.install(stack, self.lambda_)
            router_state.install(stack)
            # Also here: a server started while provisioning stops if the start fails.
            stack.callback(self._stop_server)
            provision(self.resources, self.client, self.lambda_)
            self.bedrock.provision(*configured_stage())
            if self.settings.enforce_iam:
                # Every guardrail the runtime registers is its stage's, as the stack tags them.
                stage_tag = {"maas:stage": self.bedrock.stage}
                iam_enforcement.install(
                    stack, iam_enforcement.enforce_roles(self.resources, lambda _: stage_tag)
                )
                sessions = function_credentials.FunctionCredentials(self.client("sts"))
                if self.settings.enforce_function_iam:
                    function_credentials.install(stack)
                    self.lambda_.use_credentials(sessions.environment)
                if self.settings.enforce_workflow_iam:
                    workflow_credentials.install(stack, sessions.environment)
                if self.settings.enforce_job_iam:
                    self.batch.use_credentials(sessions.environment)
            if self.store is not None:
                if saved is not None:
                    self._restore(self.store, saved)
                # Registered last, so it runs first on stop: while every adapter is in place.
                stack.callback(self._save, self.store)
                if self.settings.autosave_seconds is not None:
                    autosave = Autosave(self.store, self.settings.autosave_seconds)
                    autosave.start()
                    # Stopped before the stop's own save, which then has the last word.
                    stack.callback(autosave.stop)
            # Registered last, so it runs first on stop: no request starts work while the
            # account is saved and the adapters are taken down.
            stack.callback(self._stop_server)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def stop(self) -> None:
        """Stop everything started by :meth:`start`.

        The emulated account is saved to ``settings.state_dir`` first when one is set, else
        discarded.
        """
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def _restore(self, store: AccountStore, saved: dict[str, dict[str, Any]]) -> None:
        # After provisioning: the saved account replaces what was just created, and the
        # announcements below reach the manifest's rules.
        restored = store.restore(saved)
        restored.failed_endpoints = settle_endpoints(
            self.settings.account_id,
            self.settings.region,
            served=self.settings.serve_models,
            fail_in_service=partial(
                self.sagemaker.fail_in_service,
                account_id=self.settings.account_id,
                region=self.settings.region,
            ),
        )
        restored.unarmed_schedules = arm_schedules(
            self.settings.account_id, self.settings.region, self.client("scheduler")
        )
        self.restored = restored

    def _save(self, store: AccountStore) -> None:
        self.saved = store.save()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _set_process_environment(self, stack: ExitStack) -> None:
        # Region and credentials for every boto3 client of this process; an endpoint URL
        # inherited from the shell would send in-process clients elsewhere.
        wanted = {**_FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": self.settings.region}
        saved = {key: os.environ.get(key) for key in [*wanted, "AWS_ENDPOINT_URL", "AWS_PROFILE"]}
        os.environ.update(wanted)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.pop("AWS_PROFILE", None)
        reset_clients()

        def restore() -> None:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            reset_clients()

        stack.callback(restore)

    # -- access ----------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client for the emulated account (in-process), signed as the runtime itself.

        The credentials are explicit: an adapter may create a client on a function's thread
        (a SageMaker state change announced during the function's ``DeleteEndpoint``), whose
        environment holds the function's role session (:mod:`maas.local.function_credentials`).
        """
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.settings.region,
            aws_access_key_id=_FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=_FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=_FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )

    def endpoint_url(self) -> str:
        """The emulation's HTTP address for other processes; starts the server if needed."""
        with self._server_lock:
            if self._server is None:
                server = EmulationServer()
                server.start()
                self._server = server
            host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def serve(self, port: int) -> str:
        """Serve the emulation on 127.0.0.1:``port`` (see :meth:`endpoint_url`)."""
        with self._server_lock:
            if self._server is not None:
                raise RuntimeError("the emulation is already being served")
            server = EmulationServer(port)
            server.start()
            self._server = server
        return self.endpoint_url()

    def serve_api(
        self,
        port: int = 0,
        *,
        function_id: str = "Api",
        tokens: LocalTokens | None = None,
        mounts: Mapping[str, Callable[[HttpRequest], HttpResponse]] | None = None,
        limits: GatewayLimits | None = None,
    ) -> str:
        """Serve the REST API on 127.0.0.1:``port`` through the manifest's ``function_id``.

        Requests are authorized with ``tokens`` (default: the key of the state directory,
        which ``maas local token`` signs with); see :mod:`maas.local.apigateway`. Paths under
        a prefix of ``mounts`` are answered by its handler instead (the console). ``limits``:
        the stage's throttle and usage plans (:mod:`maas.local.apigateway_limits`; none: not
        throttled). Returns the API's base URL; :meth:`stop` stops it.
        """
        function = self.resources.functions.get(function_id)
        if function is None:
            raise KeyError(f"the manifest has no function {function_id!r} to serve the API")
        with self._server_lock:
            if self._api is not None:
                raise RuntimeError("the local API is already being served")
            gateway = LocalApiGateway(
                self.lambda_.invoke,
                function,
                tokens or LocalTokens.from_state_dir(),
                account_id=self.settings.account_id,
                mounts=mounts,
                invoke_stream=self.lambda_.invoke_with_response_stream,
                # The stack's API definition: a resource or method outside it is a 403.
                routes=api_routes(),
                limits=limits,
            )
            url = gateway.start(port)
            self._api = gateway
        return url

    def aws_environment(self) -> dict[str, str]:
        """Environment variables that point another process at this emulation."""
        return {
            **_FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.settings.region,
            "AWS_REGION": self.settings.region,
            "AWS_ENDPOINT_URL": self.endpoint_url(),
        }

    def _stop_server(self) -> None:
        with self._server_lock:
            if self._api is not None:
                self._api.stop()
                self._api = None
            if self._server is not None:
                self._server.stop()
                self._server = None

    def write_logs(self, log_group: str, stream: str, lines: list[str]) -> None:
        """Append ``lines`` to a CloudWatch Logs stream of the emulated account."""
        backend = logs_backends[self.settings.account_id][self.settings.region]
        if log_group not in backend.groups:
            backend.create_log_group(log_group, {})
        group = backend.groups[log_group]
        if stream not in group.streams:
            backend.create_log_stream(log_group, stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in lines] or [
            {"timestamp": now, "message": ""}
        ]
        backend.put_log_events(log_group, stream, events)

    # -- workflows -------------------------------------------------------------------

    def _function_names(self) -> dict[str, str]:
        # Manifest function id -> the function's name here (the last part of its ARN).
        return {key: arn.rsplit(":", 1)[1] for key, arn in self.resources.functions.items()}

    def state_machine_arn(self, state_machine_id: str) -> str:
        """The ARN of the manifest's state machine ``state_machine_id``."""
        return self.resources.state_machines[state_machine_id]

    def start_execution(
        self, state_machine_id: str, execution_input: str, name: str | None = None
    ) -> str:
        """Start the state machine on ``execution_input`` (JSON text); return the execution ARN."""
        kwargs = {"name": name} if name else {}
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn(state_machine_id),
            input=execution_input,
            **kwargs,
        )
        return str(response["executionArn"])


__all__ = ["LocalRuntime"]
