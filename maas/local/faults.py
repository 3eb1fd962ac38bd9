"""Fault injection on the local runtime: make chosen AWS calls, functions or jobs fail.

Why this exists: moto answers every call it implements successfully, so nothing in the
emulation throttles, fails internally, runs out of capacity, crashes or times out, and the
workflows' ``Retry`` and ``Catch`` paths for those never run. A :class:`FaultInjector`
(``runtime.faults``) makes the next ``times`` matching calls fail as AWS fails them:

- :meth:`FaultInjector.inject`: an AWS API call (any in-process boto3 client: the
  workflows' service integrations, the handlers, the tests) raises the service's error with
  AWS's code (``ThrottlingException``, ``InternalFailure``, ``ResourceLimitExceeded``), as
  the client's modeled exception class where the service models one;
- :meth:`FaultInjector.crash_function` / :meth:`FaultInjector.time_out_function`: a Lambda
  invocation fails as a crashed runtime (``Runtime.ExitError``) or a timeout
  (``Sandbox.Timedout``) without running the handler;
- :meth:`FaultInjector.fail_job`: a Batch job's container exits with a non-zero code.

Each fault records how often it fired (:attr:`Fault.fired`), so a test can tell a fault
that was retried past from one that never happened.

Examples
--------
.. code-block:: python

    runtime.faults.inject("sagemaker", "CreateEndpoint", "ThrottlingException", times=2)
    runtime.faults.crash_function("PlanDeployment")
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient

from maas.local import batch as batch_module
from maas.local.awslambda import Invocation, LocalLambda
from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import ExitStack

    from botocore.exceptions import ClientError

#: HTTP status AWS answers with, by error code (anything else: 400).
_STATUS = {
    "ThrottlingException": 400,
    "TooManyRequestsException": 429,
    "InternalFailure": 500,
    "InternalServerError": 500,
    "ServiceException": 500,
    "ServiceUnavailable": 503,
}


@dataclass
class Fault:
    """One injected fault: what it matches, what it does, how often it may and did fire."""

    kind: str
    target: str
    error: str
    message: str
    times: int
    fired: int = 0

    @property
    def spent(self) -> bool:
        """Whether the fault has fired as often as it was asked to."""
        return self.fired >= self.times


class FaultInjector:
    """The runtime's fault switch; every fault is cleared when the runtime stops.

    Parameters
    ----------
    function_names
        Maps a manifest function id to the function's name in the emulated account, so a
        fault can name the function as the manifest does.
    """

    def __init__(self, function_names: Callable[[], Mapping[str, str]]) -> None:
        self._function_names = function_names
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    # -- switches ----------------------------------------------------------------------

    def inject(
        self,
        service: str,
        operation: str,
        error_code: str,
        *,
        times: int = 1,
        message: str | None = None,
    ) -> Fault:
        """Make the next ``times`` calls of ``service``'s ``operation`` fail with ``error_code``.

        ``service`` is boto3's name (``sagemaker``, ``application-autoscaling``,
        ``stepfunctions``), ``operation`` the API's (``CreateEndpoint``).
        """
        text = message or f"Injected fault: {error_code} on {service}.{operation}"
        return self._add(Fault("api", f"{service}.{operation}", error_code, text, times))

    def crash_function(self, function: str, *, times: int = 1) -> Fault:
        """Make the next ``times`` invocations of ``function`` (manifest id or name) crash."""
        message = "RequestId: injected Error: Runtime exited with error: exit status 1"
        return self._add(Fault("lambda", function, "Runtime.ExitError", message, times))

    def time_out_function(self, function: str, *, times: int = 1) -> Fault:
        """Make the next ``times`` invocations of ``function`` time out."""
        message = "Task timed out (injected fault)"
        return self._add(Fault("lambda", function, "Sandbox.Timedout", message, times))

    def fail_job(self, *, exit_code: int = 1, times: int = 1) -> Fault:
        """Make the next ``times`` Batch jobs' containers exit with ``exit_code``."""
        return self._add(Fault("batch", "*", str(exit_code), f"exit {exit_code}", times))

    def clear(self) -> None:
        """Forget every fault, fired or not."""
        with self._lock:
            self._faults.clear()

    # -- the hooks -----------------------------------------------------------------------

    def install(self, stack: ExitStack, local_lambda: LocalLambda) -> None:
        """Put the hooks in place until ``stack`` closes."""
        injector = self
        original_call: Callable[..., Any] = BaseClient._make_api_call  # type: ignore[attr-defined]

        def make_api_call(client: BaseClient, operation_name: str, api_params: Any) -> Any:
            service = client.meta.service_model.service_name
            fault = injector._take("api", f"{service}.{operation_name}")
            if fault is not None:
                raise _client_error(client, operation_name, fault)
            return original_call(client, operation_name, api_params)

        stack.enter_context(replace(BaseClient, "_make_api_call", make_api_call))

        original_invoke: Callable[..., Invocation] = LocalLambda._invoke

        def invoke(local: LocalLambda, function: Any, event: Any) -> Invocation:
            fault = injector._take_function(function.name)
            if fault is None:
                return original_invoke(local, function, event)
            document = {"errorType": fault.error, "errorMessage": fault.message}
            return Invocation(json.dumps(document).encode(), "Unhandled")

        stack.enter_context(replace(LocalLambda, "_invoke", invoke))

        original_command: Callable[..., list[str]] = batch_module.job_command

        def job_command(command: list[str], parameters: Mapping[str, str]) -> list[str]:
            fault = injector._take("batch", "*")
            if fault is None:
                return original_command(command, parameters)
            return [sys.executable, "-c", f"import sys; sys.exit({int(fault.error)})"]

        stack.enter_context(replace(batch_module, "job_command", job_command))
        stack.callback(self.clear)

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def _take(self, kind: str, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.target == target and not fault.spent:
                    fault.fired += 1
                    return fault
        return None

    def _take_function(self, name: str) -> Fault | None:
        names = self._function_names()
        with self._lock:
            for fault in self._faults:
                if fault.kind != "lambda" or fault.spent:
                    continue
                if name in (fault.target, names.get(fault.target)):
                    fault.fired += 1
                    return fault
        return None


def _client_error(client: BaseClient, operation_name: str, fault: Fault) -> ClientError:
    """The error the client raises for ``fault``: its modeled class where there is one."""
    response: dict[str, Any] = {
        "Error": {"Code": fault.error, "Message": fault.message},
        "ResponseMetadata": {
            "HTTPStatusCode": _STATUS.get(fault.error, 400),
            "RequestId": "injected-fault",
        },
    }
    error_class: type[ClientError] = client.exceptions.from_code(fault.error)  # type: ignore[assignment]
    return error_class(response, operation_name)  # type: ignore[arg-type]


__all__ = ["Fault", "FaultInjector"]
