"""SageMaker hosting on the local runtime: an inference server behind every endpoint.

Why this exists: moto runs nothing behind an endpoint, and its ``InvokeEndpoint`` answers
any endpoint name, existing or not, with the same canned body. With this adapter:

- while an endpoint is created (a :meth:`LocalSageMaker.before_in_service` check), its first
  production variant's model data is laid out in a folder (:mod:`maas.local.modeldata`) and
  a server started on it (:mod:`maas.local.modelserver`). The endpoint comes into service
  once ``/ping`` answers 200, and ends ``Failed`` with SageMaker's health-check reason when
  the server exits first or does not answer within the variant's
  ``ContainerStartupHealthCheckTimeoutInSeconds`` (else
  ``LocalSettings.model_server_startup_seconds``);
- the server's output goes to the endpoint's log group, ``/aws/sagemaker/Endpoints/<name>``,
  in a stream ``<variant>/<instance id>``, as SageMaker writes a container's output;
- ``InvokeEndpointWithResponseStream`` (which moto does not implement) forwards the same, and
  answers the server's answer as it is written, in ``PayloadPart`` events
  (:meth:`LocalInference.invoke_with_response_stream`, :mod:`maas.local.responsestream`);
- ``InvokeEndpoint`` forwards the body, ``ContentType``, ``Accept``, ``CustomAttributes`` and
  the caller's ``X-Amzn-Trace-Id`` to the server's ``/invocations``: a 2xx answer is the
  response, any other is SageMaker's ``ModelError`` (424, with ``OriginalStatusCode``,
  ``OriginalMessage`` and ``LogStreamArn``); an endpoint that does not exist or is not
  ``InService`` is AWS's ``ValidationError``, "Endpoint <name> of account <account> not found.";
- every ``InvokeEndpoint`` that reaches a server is reported to the emulated CloudWatch as
  SageMaker reports it, in ``AWS/SageMaker`` with the ``EndpointName`` and ``VariantName``
  dimensions: ``Invocations`` (1), ``Invocation4XXErrors`` and ``Invocation5XXErrors`` (1
  or 0; a timeout or a broken connection counts as a 5XX) and, when the server answered,
  ``ModelLatency`` in microseconds. Requests refused before a server (an unknown endpoint, no
  server) are not counted, as SageMaker does not count them either. Alarms on these metrics
  are evaluated by :mod:`maas.local.cloudwatch`;
- the requests in flight to each server are counted (:class:`RequestsInFlight`), for
  :mod:`maas.local.instancemetrics` to report as ``ConcurrentRequestsPerModel``;
- deleting the endpoint stops its server and removes its folder; stopping the runtime stops
  every server.

With ``LocalSettings.serve_models`` off nothing is started, and ``InvokeEndpoint`` on an
``InService`` endpoint is a ``ValidationError`` saying that no local inference server runs.

Not emulated: one server stands for all of a variant's instances, only the first production
variant is served, and ``TargetVariant`` is ignored.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import unquote

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.exceptions import ServiceException
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from maas.local.eventstream import EVENT_STREAM_CONTENT_TYPE, event_message, exception_message
from maas.local.modeldata import ModelDataError, download_model_data, model_data_location
from maas.local.modelserver import ModelServer
from maas.local.patching import replace
from maas.local.responsestream import IterableBody, install_response_stream
from maas.local.sagemaker import variant_containers
from maas.tracing import TRACE_HEADER

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from contextlib import ExitStack

    from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend

    from maas.local.settings import LocalSettings

LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"
#: Where SageMaker reports endpoint invocation metrics.
METRICS_NAMESPACE = "AWS/SageMaker"
#: The name SageMaker gives a model's only container in its messages.
CONTAINER = "primary"
_CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"


def health_check_failure(variant: str) -> str:
    """SageMaker's ``FailureReason`` for a container that never answered ``/ping``.

    Examples
    --------
    >>> health_check_failure("AllTraffic").split(". ")[0]
    'The primary container for production variant AllTraffic did not pass the ping health check'
    """
    return (
        f"The primary container for production variant {variant} did not pass the ping "
        "health check. Please check CloudWatch logs for this endpoint."
    )


class EndpointNotAvailable(ServiceException):
    """sagemaker-runtime's ``ValidationError``: no endpoint of that name can be invoked."""

    code = "ValidationError"


class ModelError(ServiceException):
    """sagemaker-runtime's ``ModelError`` (HTTP 424): the container answered with an error."""

    code = "ModelError"

    def __init__(
        self,
        message: str,
        *,
        log_stream_arn: str,
        original_status_code: int | None = None,
        original_message: str | None = None,
    ) -> None:
        super().__init__(message)
        # moto serializes these attributes as the error shape's members.
        self.log_stream_arn = log_stream_arn
        if original_status_code is not None:
            self.original_status_code = original_status_code
            self.original_message = original_message


class RequestsInFlight:
    """How many requests a server is answering now, and the most at once since last asked.

    The peak is what a periodic report needs: a request shorter than the reporting interval
    would be missed by a look at the current count alone.

    Examples
    --------
    >>> in_flight = RequestsInFlight()
    >>> with in_flight:
    ...     in_flight.current
    1
    >>> in_flight.take_peak(), in_flight.take_peak()
    (1, 0)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = 0
        self._peak = 0

    @property
    def current(self) -> int:
        """Requests being answered now."""
        with self._lock:
            return self._current

    def take_peak(self) -> int:
        """The most requests in flight at once since the last call; starts again from now."""
        with self._lock:
            peak, self._peak = self._peak, self._current
            return peak

    def __enter__(self) -> Self:
        with self._lock:
            self._current += 1
            self._peak = max(self._peak, self._current)
        return self

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._current -= 1


@dataclass(frozen=True)
class ServedEndpoint:
    """An endpoint with a server behind it: its variant, log stream and load."""

    endpoint: FakeEndpoint
    variant: str
    server: ModelServer
    log_stream: str
    in_flight: RequestsInFlight = field(default_factory=RequestsInFlight)

    @property
    def log_group(self) -> str:
        """The endpoint's log group, where the server's output goes."""
        return LOG_GROUP_PREFIX + self.endpoint.endpoint_name


@dataclass(frozen=True)
class _Route:
    """Where an invocation goes: the endpoint's server and the headers it gets."""

    served: ServedEndpoint
    forwarded: dict[str, str]
    log_arn: str
    see_logs: str


class StreamedBody(IterableBody):
    """The event stream of one ``InvokeEndpointWithResponseStream``, framed as it is read.

    Iterating it reads the container's answer and yields one ``PayloadPart`` message per
    chunk; closing it (the caller stopped reading) closes the connection to the container.
    The request counts as in flight until either.
    """

    def __init__(self, chunks: Iterator[bytes], in_flight: RequestsInFlight) -> None:
        self._chunks = chunks
        self._in_flight: RequestsInFlight | None = in_flight

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._chunks:
                yield event_message("PayloadPart", chunk)
        except (TimeoutError, OSError) as error:
            yield exception_message(
                "ModelStreamError",
                {"Message": f"the container's stream broke: {error}", "ErrorCode": "StreamBroken"},
            )
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading the container's answer."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        if self._in_flight is not None:
            self._in_flight.__exit__()
            self._in_flight = None


def report_invocation(
    account_id: str,
    region: str,
    endpoint_name: str,
    variant_name: str,
    *,
    status: int | None,
    latency_seconds: float | None = None,
) -> None:
    """Put one invocation's metrics into the emulated CloudWatch, as SageMaker does.

    ``status`` is the container's HTTP status, None when it never answered (a timeout, a
    broken connection: a 5XX for SageMaker). ``ModelLatency`` is reported only for an answer.
    """
    dimensions = [
        {"Name": "EndpointName", "Value": endpoint_name},
        {"Name": "VariantName", "Value": variant_name},
    ]
    # moto keeps metric timestamps naive, in UTC, as its request layer parses them.
    now = datetime.now(UTC).replace(tzinfo=None)
    client_error = status is not None and 400 <= status < 500
    server_error = status is None or status >= 500
    counts = {
        "Invocations": 1.0,
        "Invocation4XXErrors": float(client_error),
        "Invocation5XXErrors": float(server_error),
    }
    metrics: list[dict[str, Any]] = [
        {"MetricName": name, "Value": value, "Unit": "None", "Dimensions": dimensions}
        for name, value in counts.items()
    ]
    if latency_seconds is not None:
        metrics.append(
            {
                "MetricName": "ModelLatency",
                "Value": latency_seconds * 1_000_000,
                "Unit": "Microseconds",
                "Dimensions": dimensions,
            }
        )
    for metric in metrics:
        metric["Timestamp"] = now
    cloudwatch_backends[account_id][region].put_metric_data(METRICS_NAMESPACE, metrics)


class LocalInference:
    """Starts, answers through and stops one inference server per endpoint.

    Parameters
    ----------
    settings
        ``serve_models``, the startup and invocation timeouts.
    write_logs
        Called with ``(log_group, stream, lines)`` for each line a server writes.
    """

    def __init__(
        self, settings: LocalSettings, write_logs: Callable[[str, str, list[str]], None]
    ) -> None:
        self.settings = settings
        self._write_logs = write_logs
        self._served: dict[str, ServedEndpoint] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._root: Path | None = None

    def install(self, stack: ExitStack) -> None:
        """Answer ``InvokeEndpoint`` from the servers until ``stack`` closes, then stop them."""
        local = self

        def invoke_endpoint(response: SageMakerRuntimeResponse) -> Any:
            return local.invoke(
                account_id=response.current_account,
                region=response.region,
                endpoint_name=unquote(response.path.split("/")[2]),
                body=response.raw_body or b"",
                headers=response.headers,
            )

        def invoke_endpoint_with_response_stream(response: SageMakerRuntimeResponse) -> Any:
            return local.invoke_with_response_stream(
                account_id=response.current_account,
                region=response.region,
                endpoint_name=unquote(response.path.split("/")[2]),
                body=response.raw_body or b"",
                headers=response.headers,
            )

        self._root = Path(tempfile.mkdtemp(prefix="maas-inference-"))
        self._closing.clear()
        # A body is bytes (an image, say): moto would decode it as UTF-8 first.
        stack.enter_context(replace(SageMakerRuntimeResponse, "use_raw_body", True))
        stack.enter_context(replace(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint))
        install_response_stream(stack, invoke_endpoint_with_response_stream)
        stack.callback(self.close)

    def server(self, endpoint_name: str) -> ModelServer | None:
        """The server behind the endpoint ``endpoint_name``, if one runs."""
        with self._lock:
            return next(
                (
                    served.server
                    for served in self._served.values()
                    if served.endpoint.endpoint_name == endpoint_name
                ),
                None,
            )

    def served_endpoints(self) -> list[ServedEndpoint]:
        """Every endpoint a server runs behind now (in service or passing its health check)."""
        with self._lock:
            return list(self._served.values())

    # -- endpoint lifecycle ----------------------------------------------------------

    def start_server(self, backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> str | None:
        """Start the endpoint's server and wait for its health check (a creation check).

        Returns None once ``/ping`` answers 200, else the endpoint's ``FailureReason``.
        """
        containers = variant_containers(backend, endpoint)
        if not self.settings.serve_models or not containers or self._root is None:
            return None
        variant, container = containers[0]
        variant_name = str(variant.get("VariantName", "AllTraffic"))
        log_group = LOG_GROUP_PREFIX + endpoint.endpoint_name
        stream = f"{variant_name}/i-{uuid.uuid4().hex[:17]}"

        def log(line: str) -> None:
            self._write_logs(log_group, stream, [line])

        workdir = Path(tempfile.mkdtemp(prefix=f"{endpoint.endpoint_name}-", dir=self._root))
        model_dir = workdir / "model"
        location = model_data_location(container)
        try:
            if location:
                download_model_data(location, backend.account_id, backend.partition, model_dir)
            else:
                model_dir.mkdir()
        except ModelDataError as error:
            shutil.rmtree(workdir, ignore_errors=True)
            return str(error)
        with self._lock:
            if self._closing.is_set():
                shutil.rmtree(workdir, ignore_errors=True)
                return health_check_failure(variant_name)
            server = ModelServer(model_dir, workdir, container.get("Environment") or {}, log)
            self._served[endpoint.arn] = ServedEndpoint(endpoint, variant_name, server, stream)
        timeout = variant.get("ContainerStartupHealthCheckTimeoutInSeconds")
        problem = server.wait_until_healthy(
            float(timeout or self.settings.model_server_startup_seconds), self._closing
        )
        if problem is None and backend.endpoints.get(endpoint.endpoint_name) is endpoint:
            return None
        self.stop_server(backend.account_id, endpoint)
        if problem:
            log(f"The container did not pass the ping health check: {problem}.")
        return health_check_failure(variant_name)

    def stop_server(self, account_id: str, endpoint: FakeEndpoint) -> None:
        """Stop the endpoint's server, if it runs (an endpoint-deleted listener)."""
        with self._lock:
            served = self._served.get(endpoint.arn)
            if served is None or served.endpoint is not endpoint:
                return
            del self._served[endpoint.arn]
        served.server.stop()

    def close(self) -> None:
        """Stop every server and remove their folders."""
        with self._lock:
            self._closing.set()
            served = list(self._served.values())
            self._served.clear()
        for each in served:
            each.server.stop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    # -- InvokeEndpoint --------------------------------------------------------------

    def _route(
        self, account_id: str, region: str, endpoint_name: str, headers: Mapping[str, str]
    ) -> _Route:
        """The server behind an endpoint in service, and what goes to it; else AWS's error."""
        backend = sagemaker_backends[account_id][region]
        endpoint = backend.endpoints.get(endpoint_name)
        if endpoint is None or endpoint.endpoint_status != "InService":
            raise EndpointNotAvailable(
                f"Endpoint {endpoint_name} of account {account_id} not found."
            )
        with self._lock:
            served = self._served.get(endpoint.arn)
        if served is None:
            raise EndpointNotAvailable(
                f"Endpoint {endpoint_name} is InService but no local inference server runs "
                "behind it: the local runtime was started with serve_models=False."
            )
        forwarded = {
            "Content-Type": headers.get("Content-Type") or "application/octet-stream",
            "Accept": headers.get("Accept") or "*/*",
        }
        if headers.get(_CUSTOM_ATTRIBUTES):
            forwarded[_CUSTOM_ATTRIBUTES] = headers[_CUSTOM_ATTRIBUTES]
        # The caller's trace, so that the server's work joins it (maas.serving.server).
        if headers.get(TRACE_HEADER):
            forwarded[TRACE_HEADER] = headers[TRACE_HEADER]
        log_group = LOG_GROUP_PREFIX + endpoint_name
        see_logs = (
            f"See https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logEventViewer:group={log_group} in account {account_id} for more information."
        )
        return _Route(
            served,
            forwarded,
            f"arn:{backend.partition}:logs:{region}:{account_id}:log-group:{log_group}",
            see_logs,
        )

    def invoke(
        self,
        *,
        account_id: str,
        region: str,
        endpoint_name: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer ``InvokeEndpoint`` from the endpoint's server, as SageMaker does."""
        route = self._route(account_id, region, endpoint_name, headers)
        served, forwarded = route.served, route.forwarded
        log_arn, see_logs = route.log_arn, route.see_logs
        started = time.monotonic()
        try:
            with served.in_flight:
                status, answer_headers, answer = served.server.invoke(
                    body, forwarded, self.settings.invocation_timeout_seconds
                )
        except TimeoutError:
            report_invocation(account_id, region, endpoint_name, served.variant, status=None)
            raise ModelError(
                f'Received server error (0) from {CONTAINER} with message "Your invocation '
                f"timed out while waiting for a response from container {CONTAINER}. Review "
                "the latency metrics for each container in Amazon CloudWatch, resolve the "
                f'issue, and try again.". {see_logs}',
                log_stream_arn=log_arn,
            ) from None
        except OSError as error:
            report_invocation(account_id, region, endpoint_name, served.variant, status=None)
            raise container_error(0, str(error), see_logs, log_arn) from None
        report_invocation(
            account_id,
            region,
            endpoint_name,
            served.variant,
            status=status,
            latency_seconds=time.monotonic() - started,
        )
        if not 200 <= status < 300:
            message = answer.decode("utf-8", errors="replace")
            raise container_error(status, message, see_logs, log_arn)
        response_headers = {
            "Content-Type": answer_headers.get("content-type", "application/json"),
            "x-Amzn-Invoked-Production-Variant": served.variant,
        }
        if answer_headers.get(_CUSTOM_ATTRIBUTES.lower()):
            response_headers[_CUSTOM_ATTRIBUTES] = answer_headers[_CUSTOM_ATTRIBUTES.lower()]
        return status, response_headers, answer

    def invoke_with_response_stream(
        self,
        *,
        account_id: str,
        region: str,
        endpoint_name: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> tuple[int, dict[str, str], StreamedBody]:
        """Answer ``InvokeEndpointWithResponseStream`` from the endpoint's server, as it comes.

        As https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html
        has it: the same request as ``InvokeEndpoint``; the answer an event stream of
        ``PayloadPart`` events, each with the bytes the container wrote since the last, and
        the container's content type in ``X-Amzn-SageMaker-Content-Type``. A container that
        answers an error before its first byte is a ``ModelError``, as for ``InvokeEndpoint``;
        one that fails or falls silent for ``invocation_timeout_seconds`` after it is a
        ``ModelStreamError`` event that ends the stream.
        """
        route = self._route(account_id, region, endpoint_name, headers)
        served, timeout = route.served, self.settings.invocation_timeout_seconds
        started = time.monotonic()
        served.in_flight.__enter__()
        try:
            status, answer_headers, chunks = served.server.invoke_stream(
                body, route.forwarded, timeout
            )
        except (TimeoutError, OSError) as error:
            served.in_flight.__exit__()
            report_invocation(account_id, region, endpoint_name, served.variant, status=None)
            raise container_error(0, str(error), route.see_logs, route.log_arn) from None
        report_invocation(
            account_id,
            region,
            endpoint_name,
            served.variant,
            status=status,
            latency_seconds=time.monotonic() - started,
        )
        if not 200 <= status < 300:
            served.in_flight.__exit__()
            message = b"".join(chunks).decode("utf-8", errors="replace")
            raise container_error(status, message, route.see_logs, route.log_arn)
        response_headers = {
            "Content-Type": EVENT_STREAM_CONTENT_TYPE,
            "X-Amzn-SageMaker-Content-Type": answer_headers.get("content-type", "application/json"),
            "x-Amzn-Invoked-Production-Variant": served.variant,
        }
        return status, response_headers, StreamedBody(chunks, served.in_flight)


def container_error(status: int, message: str, see_logs: str, log_arn: str) -> ModelError:
    """``ModelError`` as SageMaker words a container's answer: its status (0 when there was
    none), the container's message, and where its logs are."""
    kind = "client" if 400 <= status < 500 else "server"
    return ModelError(
        f'Received {kind} error ({status}) from {CONTAINER} with message "{message}". {see_logs}',
        log_stream_arn=log_arn,
        original_status_code=status or None,
        original_message=message if status else None,
    )


__all__ = [
    "CONTAINER",
    "LOG_GROUP_PREFIX",
    "METRICS_NAMESPACE",
    "EndpointNotAvailable",
    "LocalInference",
    "ModelError",
    "RequestsInFlight",
    "ServedEndpoint",
    "StreamedBody",
    "health_check_failure",
    "report_invocation",
]
