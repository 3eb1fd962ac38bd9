"""Lambda on the local runtime: the real handler from ``functions/``, run in this process.

Why this exists: moto runs a function's code in a Docker container (there is no Docker
here) or, without Docker, answers every invocation with a canned payload. This adapter
answers ``Invoke`` for the functions the runtime provisioned by importing their handler and
calling it, so Step Functions tasks, EventBridge targets and boto3 clients all run the code
that AWS would run.

What it keeps from AWS:

- each function gets its own module instance (its cold start runs once, with its own
  environment) and, per invocation, its own environment and a Lambda context object;
- invocations may run concurrently (a ``Map`` state): environments are context-local;
- an exception becomes ``FunctionError: Unhandled`` with the runtime's error document,
  whose ``errorType`` is ``type(exc).__name__``, so ``Retry``/``Catch`` match it by name;
  its ``stackTrace`` holds the handler's frames only, at the paths they have in Lambda
  (``/var/task`` for the function's code), as AWS's Python runtime (awslambdaric) reports;
- the result is marshalled as that runtime does: bytes pass through as they are, a
  ``Decimal`` (what boto3 reads from DynamoDB) is a JSON number, a named tuple an object,
  text is not ASCII-escaped;
- ``Invoke`` answers ``ExecutedVersion`` and, for ``LogType: Tail``, the last 4 KB of the
  invocation's log in ``LogResult``;
- :meth:`LocalLambda.invoke_with_response_stream` answers as ``InvokeWithResponseStream``
  does: a handler that returns an iterator of bytes streams each chunk as it is produced
  (the function's environment and segment stay open while it does), as a runtime in
  streaming response mode does
  (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming);
  AWS's managed Python runtime would refuse such an answer, so only functions whose
  environment says their runtime streams (``MAAS_RESPONSE_STREAMING``) return one;
- the function's timeout is enforced (``Sandbox.Timedout``), and what the handler writes
  to stdout goes to its CloudWatch Logs group ``/aws/lambda/<name>``;
- with :meth:`LocalLambda.use_credentials`, the function's environment holds temporary
  credentials of its own execution role, as Lambda gives them
  (:mod:`maas.local.function_credentials`);
- each invocation is an X-Ray function segment on its own thread, passed to the handler in
  ``_X_AMZN_TRACE_ID`` and continuing the ``Invoke`` request's trace header
  (:func:`maas.local.xray.function_segment`).

What it does not do: isolate memory or kill a timed-out handler (its thread is abandoned),
or apply reserved concurrency.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import dataclasses
import decimal
import importlib.util
import io
import json
import math
import os
import queue
import sys
import sysconfig
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from moto.awslambda.models import LambdaBackend

from maas.local import environ
from maas.local.patching import replace
from maas.local.xray import DAEMON_ADDRESS_ENV, function_segment
from maas.tracing import trace_header_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import ExitStack
    from types import ModuleType

FUNCTION_ERROR_HEADER = "x-amz-function-error"
EXECUTED_VERSION_HEADER = "x-amz-executed-version"
LOG_RESULT_HEADER = "x-amz-log-result"
#: How much of an invocation's log ``LogType: Tail`` returns.
LOG_TAIL_BYTES = 4096
#: Where Lambda puts a function's code, and the Python of the python3.12 runtime.
TASK_ROOT = "/var/task"
RUNTIME_PYTHON = "/var/lang/lib/python3.12"
#: The variable in which Lambda gives a function its invocation's trace header.
TRACE_ID_ENV = "_X_AMZN_TRACE_ID"


@dataclass(frozen=True)
class LocalFunction:
    """A function the runtime provisioned: where its handler is and how it runs."""

    name: str
    handler: str
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int
    arn: str
    #: Its execution role ("" where it has none of its own: a test's function).
    role_arn: str = ""

    @property
    def log_group(self) -> str:
        """The CloudWatch Logs group Lambda writes to."""
        return f"/aws/lambda/{self.name}"


@dataclass
class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False)
    identity: None = None
    client_context: None = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """What one invocation returned: the payload and whether it is an error document."""

    payload: bytes
    function_error: str | None = None
    #: What the invocation wrote to its log stream (START to END).
    log: str = ""

    def json(self) -> Any:
        """The payload, decoded."""
        return json.loads(self.payload)


_captured: ContextVar[io.StringIO | None] = ContextVar("maas_local_stdout", default=None)
#: The ``X-Amzn-Trace-Id`` header of the ``Invoke`` request being answered, if it had one.
_incoming_trace: ContextVar[str | None] = ContextVar("maas_local_trace", default=None)
#: Where the chunks of an ``InvokeWithResponseStream`` being answered go.
_response_sink: ContextVar[Callable[[bytes], None] | None] = ContextVar(
    "maas_local_response_sink", default=None
)


class _RoutedStdout(io.TextIOBase):
    """``sys.stdout`` that sends a handler's output to its invocation's buffer.

    Powertools' Logger binds ``sys.stdout`` when the first logger is built, so this is put
    in place before any handler module is loaded.
    """

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback

    def write(self, text: str) -> int:
        buffer = _captured.get()
        return (buffer or self.fallback).write(text)

    def flush(self) -> None:
        if _captured.get() is None:
            self.fallback.flush()

    def isatty(self) -> bool:
        return self.fallback.isatty()


class LocalLambda:
    """The functions of this runtime and the adapter that runs them.

    Parameters
    ----------
    write_logs
        Called with ``(log_group, stream, lines)`` after each invocation; the runtime
        points it at the emulated CloudWatch Logs.
    """

    def __init__(self, write_logs: Callable[[str, str, list[str]], None]) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self._idle: dict[str, list[_Sandbox]] = {}
        self._sandboxes_made: dict[str, int] = {}
        #: Sandboxes of each function that exist now, idle or serving.
        self._sandboxes_live: dict[str, int] = {}
        self._lock = threading.Lock()
        self._sandbox_freed = threading.Condition(self._lock)
        self._write_logs = write_logs
        self._credentials: Callable[[str, str], Mapping[str, str]] | None = None

    def use_credentials(self, credentials: Callable[[str, str], Mapping[str, str]]) -> None:
        """Give each function with a role, per invocation and cold start, the variables
        ``credentials(function_name, role_arn)`` returns (its role session's credentials)."""
        self._credentials = credentials

    def register(self, function: LocalFunction) -> None:
        """Serve invocations of ``function`` (by name or ARN) from its handler."""
        with self._lock:
            self._functions[function.name] = function
            # The idle sandboxes of its earlier code retire; the busy ones do when done.
            retired = len(self._idle.get(function.name, []))
            live = self._sandboxes_live.get(function.name, 0)
            self._sandboxes_live[function.name] = max(0, live - retired)
            self._idle[function.name] = []
            self._sandbox_freed.notify_all()

    def get(self, name_or_arn: str) -> LocalFunction | None:
        """The registered function, given its name, ARN or qualified ARN."""
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        return self._functions.get(name)

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        """Run the function's handler on ``event`` and wait for the result."""
        function = self.get(name_or_arn)
        if function is None:
            raise KeyError(f"no local function {name_or_arn!r}")
        return self._invoke(function, event)

    def install(self, stack: ExitStack) -> None:
        """Answer moto's Lambda ``Invoke`` for registered functions, until ``stack`` closes."""
        original: Callable[..., Any] = LambdaBackend.invoke
        local = self

        def invoke(  # noqa: PLR0917 - moto's own signature
            backend: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: dict[str, str],
        ) -> bytes | str | None:
            function = local.get(function_name)
            if function is None:
                answer: bytes | str | None = original(
                    backend, function_name, qualifier, body, headers, response_headers
                )
                return answer
            invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
            log_type = _header(headers, "X-Amz-Log-Type")
            event = json.loads(body) if body else {}
            if invocation_type == "DryRun":
                return b""
            # The caller's trace header reaches _invoke beside its arguments, which other
            # adapters (fault injection) wrap with the signature they know.
            token = _incoming_trace.set(_header(headers, "X-Amzn-Trace-Id"))
            try:
                if invocation_type == "Event":
                    run = contextvars.copy_context().run
                    threading.Thread(
                        target=run, args=(local._invoke, function, event), daemon=True
                    ).start()
                    return b""
                result = local._invoke(function, event)
            finally:
                _incoming_trace.reset(token)
            if result.function_error:
                response_headers[FUNCTION_ERROR_HEADER] = result.function_error
            # The handler that ran is the one registered: the function's latest code.
            response_headers[EXECUTED_VERSION_HEADER] = _executed_version(qualifier)
            if log_type == "Tail":
                response_headers[LOG_RESULT_HEADER] = _log_tail(result.log)
            response_headers["Content-Length"] = str(len(result.payload))
            return result.payload

        stack.enter_context(replace(LambdaBackend, "invoke", invoke))
        if not isinstance(sys.stdout, _RoutedStdout):
            stack.enter_context(replace(sys, "stdout", _RoutedStdout(sys.stdout)))

    def _acquire(self, function: LocalFunction) -> _Sandbox:
        """An idle sandbox of the function, or a new one (a cold start).

        As on AWS, a sandbox serves one invocation at a time: concurrent invocations get
        sandboxes of their own, each with its own module instance and log stream, so
        module-level state (a web framework's current request, say) is never shared by two
        requests at once.

        Unlike AWS, at most :data:`MAX_SANDBOXES` of a function exist at once; an invocation
        past them waits for one to be free. Every sandbox here shares one process and its
        interpreter lock: past a few, another sandbox adds no throughput, only its cold
        start (about a second of imports for the API's package, one at a time), which put
        50 concurrent API clients behind 50 cold starts (issue 17).
        """
        with self._lock:
            idle = self._idle.setdefault(function.name, [])
            while not idle and self._sandboxes_live.get(function.name, 0) >= MAX_SANDBOXES:
                self._sandbox_freed.wait()
            if idle:
                return idle.pop()
            number = self._sandboxes_made.get(function.name, 0) + 1
            self._sandboxes_made[function.name] = number
            self._sandboxes_live[function.name] = self._sandboxes_live.get(function.name, 0) + 1
        try:
            return _Sandbox(self._load(function, number), _new_log_stream())
        except BaseException:
            self._retire(function)
            raise

    def _release(
        self, function: LocalFunction, sandbox: _Sandbox, slot: _Slot, *, reuse: bool
    ) -> None:
        """The invocation in ``slot`` is over: its sandbox serves the next, or retires."""
        with self._lock:
            if slot.done:  # already retired by the invocation's timeout
                return
            slot.done = True
            # A function registered again since has a fresh pool: the old sandbox retires.
            if reuse and self._functions.get(function.name) is function:
                self._idle.setdefault(function.name, []).append(sandbox)
                self._sandbox_freed.notify()
            else:
                self._retire_locked(function)

    def _abandon(self, function: LocalFunction, slot: _Slot) -> None:
        """The invocation in ``slot`` timed out: its sandbox no longer counts, even if its
        handler goes on running (as Lambda resets a sandbox that timed out)."""
        with self._lock:
            if slot.held and not slot.done:
                slot.done = True
                self._retire_locked(function)

    def _retire(self, function: LocalFunction) -> None:
        """A sandbox of ``function`` is gone (its cold start failed)."""
        with self._lock:
            self._retire_locked(function)

    def _retire_locked(self, function: LocalFunction) -> None:
        self._sandboxes_live[function.name] = max(0, self._sandboxes_live.get(function.name, 0) - 1)
        self._sandbox_freed.notify()

    def _load(self, function: LocalFunction, number: int) -> ModuleType:
        # The module scope is the sandbox's cold start, run with the function's environment.
        module_path = function.handler.rsplit(".", 1)[0]
        with _COLD_START_LOCK, _own_package(module_path):
            return self._exec_handler_module(function, number, module_path)

    def _exec_handler_module(
        self, function: LocalFunction, number: int, module_path: str
    ) -> ModuleType:
        try:
            found = importlib.util.find_spec(module_path)
        except ImportError as exc:
            # A parent package that does not import: the runtime's import error, as AWS's.
            raise RuntimeFault(
                "Runtime.ImportModuleError", f"Unable to import module '{module_path}': {exc}"
            ) from exc
        if found is None or found.origin is None:
            raise RuntimeFault(
                "Runtime.ImportModuleError",
                f"Unable to import module '{module_path}': No module named '{module_path}'",
            )
        spec = importlib.util.spec_from_file_location(
            f"maas_local_lambda.{function.name}_{number}", found.origin
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # Frames of this code are reported under /var/task (see _error_document).
        _task_roots[found.origin] = _task_root(found.origin, module_path)
        # Registered so that pydantic resolves the module's annotations by name.
        sys.modules[spec.name] = module
        try:
            with environ.overlay(self._environment(function)):
                spec.loader.exec_module(module)
        except Exception as exc:
            # A failed cold start is retried by the next invocation, as on AWS.
            del sys.modules[spec.name]
            raise RuntimeFault(
                "Runtime.ImportModuleError", f"Unable to import module '{module_path}': {exc}"
            ) from exc
        return module

    def invoke_with_response_stream(self, name_or_arn: str, event: Any) -> StreamedInvocation:
        """Run the function's handler on ``event``; its answer is read as it is produced.

        As ``InvokeWithResponseStream`` answers: a handler that returns an iterator of bytes
        streams each as it comes (as a runtime in streaming response mode posts them); any
        other answer is marshalled and comes as one chunk. The invocation runs on its own
        thread within the function's timeout; :meth:`StreamedInvocation.read` gives the
        chunks, then the end.
        """
        function = self.get(name_or_arn)
        if function is None:
            raise KeyError(f"no local function {name_or_arn!r}")
        streamed = StreamedInvocation()

        def run() -> None:
            # Beside _invoke's arguments, as the trace header: adapters wrap its signature.
            _response_sink.set(streamed.put)
            try:
                result = self._invoke(function, event)
            except Exception as exc:  # an adapter's fault: the reader must not wait forever
                result = Invocation(_error_document(exc, str(uuid.uuid4())), "Unhandled")
            streamed.end(result)

        run_in_context = contextvars.copy_context().run
        threading.Thread(
            target=run_in_context, args=(run,), name=f"stream-{function.name}", daemon=True
        ).start()
        return streamed

    def _invoke(self, function: LocalFunction, event: Any) -> Invocation:
        _route_stdout()
        sink = _response_sink.get()
        request_id = str(uuid.uuid4())
        trace_header = _incoming_trace.get()
        outcome: dict[str, Invocation] = {}
        buffer = io.StringIO()
        deadline = time.monotonic() + function.timeout_seconds
        # The stream of the sandbox that serves it; a failed cold start logs to a new one.
        stream = [_new_log_stream()]
        timed_out = threading.Event()
        slot = _Slot()

        def run() -> None:
            _captured.set(buffer)
            buffer.write(f"START RequestId: {request_id} Version: $LATEST\n")
            sandbox: _Sandbox | None = None
            try:
                sandbox = self._acquire(function)
                with self._lock:
                    slot.held = True
                stream[0] = sandbox.log_stream
                context = LambdaContext(
                    function_name=function.name,
                    function_version="$LATEST",
                    invoked_function_arn=function.arn,
                    memory_limit_in_mb=function.memory_mb,
                    aws_request_id=request_id,
                    log_group_name=function.log_group,
                    log_stream_name=sandbox.log_stream,
                    deadline=deadline,
                )
                with (
                    function_segment(
                        function.name,
                        function_arn=function.arn,
                        request_id=request_id,
                        trace_header=trace_header,
                    ) as segment,
                    environ.overlay(
                        {**self._environment(function), TRACE_ID_ENV: trace_header_of(segment)}
                    ),
                ):
                    handler = _handler(sandbox.module, function.handler)
                    with _running_in_package(function.handler):
                        result = handler(event, context)
                    # A streamed answer is produced here, in the function's environment (not
                    # under the package's gate: a stream may last minutes).
                    payload = _respond(result, sink)
                outcome["result"] = Invocation(payload)
            except Exception as exc:
                outcome["result"] = Invocation(_error_document(exc, request_id), "Unhandled")
            finally:
                buffer.write(f"END RequestId: {request_id}\n")
                # A sandbox whose invocation timed out is not reused, as Lambda resets it.
                if sandbox is not None:
                    self._release(function, sandbox, slot, reuse=not timed_out.is_set())

        worker = threading.Thread(target=run, name=f"lambda-{function.name}", daemon=True)
        worker.start()
        worker.join(function.timeout_seconds)
        if worker.is_alive():
            timed_out.set()
            self._abandon(function, slot)
            message = f"Task timed out after {function.timeout_seconds:.2f} seconds"
            buffer.write(f"{request_id} {message}\n")
            result = Invocation(
                json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}).encode(),
                "Unhandled",
            )
        else:
            result = outcome["result"]
        log = buffer.getvalue()
        self._write_logs(function.log_group, stream[0], log.splitlines())
        return dataclasses.replace(result, log=log)

    def _environment(self, function: LocalFunction) -> dict[str, str]:
        # The credentials are reserved variables: a function's own cannot replace them.
        environment = _runtime_environment(function)
        if self._credentials is not None and function.role_arn:
            environment.update(self._credentials(function.name, function.role_arn))
        return environment


#: Sandboxes of one function at most at once (see LocalLambda._acquire): a few per core, and
#: no fewer than a Map state's usual concurrency in the tests (4).
MAX_SANDBOXES = max(4, 2 * (os.cpu_count() or 2))

#: Cold starts that import a function's own package one at a time (see _own_package).
_COLD_START_LOCK = threading.Lock()


@contextlib.contextmanager
def _own_package(module_path: str) -> Iterator[None]:
    """Import the handler's own package afresh for this sandbox, as its own process would.

    A handler in a package of its own (``functions.api.app``: routers, a request context)
    keeps module-level state in the package's other modules too. On AWS each sandbox is a
    process; here sandboxes share one, so the package's modules are set aside while the
    sandbox's handler imports its own copies, and put back after: each sandbox's handler
    holds its own. Single-module handlers (``functions.plan_deployment``) share nothing.
    """
    package = module_path.rsplit(".", 1)[0]
    if not package.startswith(_OWN_PACKAGE_ROOT):
        yield
        return
    with _gate_of(package).loading():
        yield from _set_aside(package)


def _set_aside(package: str) -> Iterator[None]:
    shared = {
        name: sys.modules.pop(name)
        for name in list(sys.modules)
        if name == package or name.startswith(f"{package}.")
    }
    try:
        yield
    finally:
        # The first sandbox's copies stay importable by name (pydantic looks a model's
        # module up there); any later sandbox leaves the earlier ones in place.
        sys.modules.update(shared)


#: Handlers in sub-packages of this one get their package imported per sandbox.
_OWN_PACKAGE_ROOT = "functions."


class _PackageGate:
    """Invocations of a handler package run together; its cold start runs alone.

    A cold start sets the package's modules aside in ``sys.modules`` (see
    :func:`_own_package`); a sandbox serving meanwhile that looks one up by name (pydantic
    does, building a generic model such as ``Page[...]`` on a route's first request) found
    none and failed with a 500: seen at 20 concurrent API clients (issue 17). So a cold
    start waits for the package's invocations in progress, and new ones wait for it (it
    goes first once it waits, so a stream of requests cannot hold it off).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = 0
        self._loaders = 0
        self._loading = False

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Around an invocation of the package's handler."""
        with self._changed:
            while self._loading or self._loaders:
                self._changed.wait()
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """Around a cold start of the package."""
        with self._changed:
            self._loaders += 1
            while self._loading or self._running:
                self._changed.wait()
            self._loaders -= 1
            self._loading = True
        try:
            yield
        finally:
            with self._changed:
                self._loading = False
                self._changed.notify_all()


_GATES: dict[str, _PackageGate] = {}
_GATES_LOCK = threading.Lock()


def _gate_of(package: str) -> _PackageGate:
    with _GATES_LOCK:
        return _GATES.setdefault(package, _PackageGate())


def _running_in_package(handler: str) -> contextlib.AbstractContextManager[None]:
    """The gate's ``running`` for a handler in a package of its own, else nothing."""
    package = handler.rsplit(".", 2)[0]
    if handler.count(".") < 2 or not package.startswith(_OWN_PACKAGE_ROOT):
        return contextlib.nullcontext()
    return _gate_of(package).running()


@dataclass
class _Slot:
    """One invocation's claim on a sandbox (guarded by the adapter's lock)."""

    #: It holds a sandbox.
    held: bool = False
    #: The sandbox went back to the pool or retired.
    done: bool = False


@dataclass(frozen=True)
class _Sandbox:
    """One execution environment of a function: its module instance and its log stream."""

    module: ModuleType
    log_stream: str


def _new_log_stream() -> str:
    # Lambda writes one stream per execution environment, named by date and a random id.
    return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"


def _route_stdout() -> None:
    # Whatever put its own ``sys.stdout`` in place since install (pytest's capture swaps it
    # around every test phase; ``contextlib.redirect_stdout`` and rich's ``Live`` do too)
    # would get the handler's output, which then misses its log group: route it again.
    if not isinstance(sys.stdout, _RoutedStdout):
        sys.stdout = _RoutedStdout(sys.stdout)


class RuntimeFault(Exception):
    """A failure of the Lambda runtime itself, reported under the runtime's error type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _handler(module: ModuleType, handler: str) -> Callable[[Any, LambdaContext], Any]:
    module_path, name = handler.rsplit(".", 1)
    function = getattr(module, name, None)
    if not callable(function):
        raise RuntimeFault(
            "Runtime.HandlerNotFound", f"Handler '{name}' missing on module '{module_path}'"
        )
    return cast("Callable[[Any, LambdaContext], Any]", function)


class StreamedInvocation:
    """An invocation whose answer arrives in chunks (``InvokeWithResponseStream``).

    :meth:`read` gives each chunk as the handler produces it, then None once the invocation
    ended (:attr:`result` then says how: an error document, the log). :meth:`cancel` (the
    reader went away) ends a streaming handler at its next chunk.
    """

    def __init__(self) -> None:
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        self._cancelled = threading.Event()
        self.result: Invocation | None = None

    def put(self, chunk: bytes) -> None:
        """Hand ``chunk`` to the reader (the runtime's side)."""
        if self._cancelled.is_set():
            raise ReaderGone
        self._chunks.put(chunk)

    def end(self, result: Invocation) -> None:
        """The invocation ended (the runtime's side); an error document is the last chunk."""
        self.result = result
        if result.function_error:
            self._chunks.put(result.payload)
        self._chunks.put(None)

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next chunk, or None at the end.

        Raises
        ------
        TimeoutError
            Nothing came within ``timeout`` seconds.
        """
        try:
            return self._chunks.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no chunk within {timeout} s") from None

    def cancel(self) -> None:
        """Stop the handler's stream: nobody reads it."""
        self._cancelled.set()


class ReaderGone(Exception):
    """The reader of a streamed answer went away."""


def _respond(result: Any, sink: Callable[[bytes], None] | None) -> bytes:
    """The payload of ``result``; with ``sink``, handed to it as it is produced instead."""
    if not isinstance(result, Iterator):
        payload = _marshal(result)
        if sink is None:
            return payload
        sink(payload)
        return b""
    chunks: list[bytes] = []
    try:
        for chunk in result:
            if not isinstance(chunk, bytes):
                raise RuntimeFault(
                    "Runtime.MarshalError", f"a streamed chunk is {type(chunk).__name__}, not bytes"
                )
            if sink is None:
                chunks.append(chunk)
            else:
                sink(chunk)
    except ReaderGone:
        # The reader left: the handler stops here, as Lambda stops a streamed invocation
        # whose client disconnected; what it had produced is nobody's.
        return b""
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return b"".join(chunks)


def _marshal(result: Any) -> bytes:
    """The response as awslambdaric's ``LambdaMarshaller.marshal_response`` writes it.

    Bytes are the response as they are (``application/unknown``); anything else is JSON from
    its ``Encoder`` (simplejson's): a ``Decimal`` is written as its own digits (``NaN`` for a
    NaN), a named tuple as an object, and on python3.12 text is not ASCII-escaped.
    """
    if isinstance(result, bytes):
        return result
    marker = uuid.uuid4().hex
    numbers: dict[str, str] = {}

    def default(value: Any) -> Any:
        if isinstance(value, decimal.Decimal):
            if value.is_nan():
                return math.nan
            # json cannot write raw text: a marker string stands in, then becomes the digits.
            key = f"{marker}{len(numbers)}"
            numbers[json.dumps(key)] = str(value)
            return key
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    try:
        text = json.dumps(_namedtuples_as_objects(result), default=default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise RuntimeFault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc
    for quoted, digits in numbers.items():
        text = text.replace(quoted, digits)
    return text.encode()


def _namedtuples_as_objects(value: Any) -> Any:
    # simplejson (namedtuple_as_object) writes a named tuple as an object; json, as an array.
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: _namedtuples_as_objects(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: _namedtuples_as_objects(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_namedtuples_as_objects(item) for item in value]
    return value


def _runtime_environment(function: LocalFunction) -> dict[str, str]:
    # What the Lambda service sets for every function, then the function's own variables.
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": function.handler,
        **_daemon_address(),
        **function.environment,
    }


def _daemon_address() -> dict[str, str]:
    # Lambda names its X-Ray daemon to every function; here it is the runtime's collector.
    address = os.environ.get(DAEMON_ADDRESS_ENV)
    return {DAEMON_ADDRESS_ENV: address} if address else {}


def _error_document(exc: BaseException, request_id: str) -> bytes:
    """The error document AWS's Python runtime (awslambdaric's ``make_error``) returns.

    A fault of the runtime itself (a handler missing, a result it cannot marshal) has no
    stack trace there. For a handler's exception the trace starts at the handler's frame
    (the runtime's own, here this adapter's, are dropped) and names each file where Lambda
    has it; frames are formatted from (file, line, name, text) as that runtime formats them.
    Step Functions takes ``errorType`` as the error name and the whole document as the cause.
    """
    if isinstance(exc, RuntimeFault):
        stack_trace: list[str] = []
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        first = next((i for i, f in enumerate(frames) if f.filename != __file__), len(frames))
        stack_trace = traceback.format_list(
            [(_lambda_path(f.filename), f.lineno or 0, f.name, f.line) for f in frames[first:]]
        )
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": getattr(exc, "error_type", type(exc).__name__),
            "requestId": request_id,
            "stackTrace": stack_trace,
        }
    ).encode()


#: The directory each loaded handler file is imported from (its package root), by file.
_task_roots: dict[str, Path] = {}


def _task_root(origin: str, module_path: str) -> Path:
    # ``functions/plan.py`` imported as ``functions.plan``: the root is two levels up.
    return Path(origin).resolve().parents[module_path.count(".")]


def _lambda_path(filename: str) -> str:
    """Where ``filename`` is in a python3.12 Lambda sandbox.

    The function's code is under /var/task (the asset is the handler's package root);
    installed packages and the standard library are the runtime's.
    """
    path = Path(filename)
    if not path.is_absolute():
        return filename  # "<frozen importlib._bootstrap>" and the like are the same there
    path = path.resolve()
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and path.is_relative_to(entry):
            return f"{RUNTIME_PYTHON}/site-packages/{path.relative_to(entry).as_posix()}"
    for root in set(_task_roots.values()):
        if path.is_relative_to(root):
            return f"{TASK_ROOT}/{path.relative_to(root).as_posix()}"
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    if path.is_relative_to(stdlib):
        return f"{RUNTIME_PYTHON}/{path.relative_to(stdlib).as_posix()}"
    return f"{TASK_ROOT}/{path.name}"


def _executed_version(qualifier: str | None) -> str:
    # A published version runs as itself; $LATEST and aliases run the latest code here.
    return qualifier if qualifier and qualifier.isdigit() else "$LATEST"


def _log_tail(log: str) -> str:
    return base64.b64encode(log.encode()[-LOG_TAIL_BYTES:]).decode()


def _header(headers: Any, name: str) -> str | None:
    for key in (name, name.lower()):
        value = headers.get(key) if headers is not None else None
        if value:
            return str(value)
    return None


__all__ = [
    "EXECUTED_VERSION_HEADER",
    "FUNCTION_ERROR_HEADER",
    "Invocation",
    "LambdaContext",
    "LocalFunction",
    "LocalLambda",
]
