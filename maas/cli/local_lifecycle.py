"""The process side of ``maas local up``: ports checked first, a prompt stop, no orphans.

Why this exists: the emulation's server is started only after the runtime has provisioned
the whole manifest (seconds), and a server that cannot bind its port used to leave the
command waiting for a thread that had already died; so the port is probed before anything
starts. SIGTERM (what ``docker stop``, systemd and CI send) stops the command as Ctrl-C
does, and a second signal while it stops does not interrupt the stopping. Whatever child
process outlives the runtime's own shutdown (a Batch job's command still running, a model
server) is ended before the command exits, so none is left behind. And once the runtime
has stopped, the interpreter's own teardown of moto's modules would take seconds more for
nothing the user needs: :func:`exit_now` ends the process there.

A stop is bounded, whatever the load (issue 17: within 5 s of the signal). Work in flight
does not end when the signal comes: the API's invocations, a workflow's states and a job's
output go on, on threads the runtime cannot stop, and compete with the stop for the
interpreter's lock (on a busy machine, with 40 such threads, a stop measured 13 s). So the
first signal also arms a :class:`StopDeadline`: if the process is still there when it
expires, every child process is killed and the process ends at once, saying where the stop
was. The account file is written atomically (:mod:`maas.local.persistence`), so a save cut
short leaves the last complete one in place (the autosave's or the previous stop's).

The emulated account outlives the process in the state directory
(:mod:`maas.local.persistence`); :func:`describe_restored` and :func:`describe_saved` are
what the command says about it, including what was not kept, so nothing is lost unsaid.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from maas.api_limits import ApiConfig
    from maas.local import LocalRuntime

#: How long children get to exit after SIGTERM before they are killed.
CHILD_GRACE_SECONDS = 2.0

#: How long a stop may take from the signal before the process ends anyway: under the 5 s
#: that issue 17 asks, with room for the kill and the exit.
STOP_DEADLINE_SECONDS = 4.0


class PortInUseError(Exception):
    """A port this command must listen on is taken."""

    def __init__(self, port: int, purpose: str) -> None:
        super().__init__(f"port {port} on 127.0.0.1 is already in use ({purpose})")
        self.port = port


def check_port_free(port: int, purpose: str) -> None:
    """Raise :class:`PortInUseError` if ``port`` cannot be listened on at 127.0.0.1.

    The probe binds as the server will (``SO_REUSEADDR``, as werkzeug's server sets it), so
    a port left in TIME_WAIT by an earlier run counts as free and a listening one does not.
    Port 0 (any free port) is always free.
    """
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(port, purpose) from error
            raise


class StopDeadline:
    """Ends the process if a stop is not over ``seconds`` after it began.

    :meth:`arm` starts the clock (the first signal does, through :func:`stop_on_signals`).
    When it runs out, every child process is killed without a grace period, one line on
    standard error says where the main thread was, and the process exits with
    ``status()``: the caller's say on whether what matters (the account's save) was done.

    Parameters
    ----------
    seconds
        How long the stop may take.
    status
        The exit status to end with when the deadline passes (settable later, once what it
        depends on exists).
    """

    def __init__(self, seconds: float, status: Callable[[], int] = lambda: 1) -> None:
        self.seconds = seconds
        self.status = status
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        """Start the clock (once; later calls do nothing)."""
        if self._timer is None:
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.name = "maas-stop-deadline"
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        """Stop the clock: the stop is over."""
        if self._timer is not None:
            self._timer.cancel()

    def _expire(self) -> None:
        status = self.status()
        end_children(grace_seconds=0)
        where = _main_thread_place()
        message = f"stop cut short after {self.seconds:g} s (it was at {where})"
        with contextlib.suppress(Exception):
            sys.stderr.write(f"{message}\nlocal runtime stopped\n")
        exit_now(status)


def _main_thread_place() -> str:
    """Where the main thread is: its innermost frame of this project, else its innermost."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    if frame is None:
        return "an unknown place"
    stack = traceback.extract_stack(frame)
    ours = [entry for entry in stack if "/maas/" in entry.filename] or stack
    entry = ours[-1]
    return f"{Path(entry.filename).name}:{entry.lineno} {entry.name}"


@contextlib.contextmanager
def stop_on_signals(deadline: StopDeadline | None = None) -> Iterator[None]:
    """Turn SIGTERM into ``KeyboardInterrupt``, as SIGINT is, while the block runs.

    The first signal interrupts whatever the main thread does (waiting, or still starting
    the runtime, whose ``with`` then stops all it started) and arms ``deadline``; later
    ones do nothing, so that they cannot cut the stopping short. (Not ``SIG_IGN``: a signal
    already pending when the first one's handler ran would then be reported as ignored
    "due to race condition".)
    """
    interrupted = False

    def interrupt(signum: int, frame: Any) -> None:
        nonlocal interrupted
        if not interrupted:
            interrupted = True
            if deadline is not None:
                deadline.arm()
            raise KeyboardInterrupt

    previous = {name: signal.getsignal(name) for name in (signal.SIGTERM, signal.SIGINT)}
    for name in previous:
        signal.signal(name, interrupt)
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(name, handler)


def wait_for_signal(poll_seconds: float = 0.2) -> None:
    """Sleep until a signal's handler raises (see :func:`stop_on_signals`).

    In short sleeps, not one endless wait: a signal the kernel hands to another thread does
    not wake a main thread blocked on a lock, and the handler only runs once it wakes.
    """
    while True:
        time.sleep(poll_seconds)


def end_children(grace_seconds: float = CHILD_GRACE_SECONDS) -> list[int]:
    """Terminate every process this one started that is still running; return their pids.

    Each gets SIGTERM, and SIGKILL if it is still there after ``grace_seconds``.
    """
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace_seconds)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=grace_seconds)
    return [child.pid for child in children]


#: The variable that names another ``cdk.json`` than the project's for :func:`stage_api`.
CDK_JSON_VARIABLE = "MAAS_CDK_JSON"


@dataclass(frozen=True)
class LocalOptions:
    """How ``maas local up`` runs the runtime: models served, and where its account is kept."""

    serve_models: bool
    #: None: start empty and discard the account on stop (``--no-keep-state``).
    state_dir: Path | None
    autosave_seconds: float
    #: The API's throttle and usage plans (:func:`stage_api`); None: the stack's defaults.
    api: ApiConfig | None = None


def stage_api(stage: str | None, cdk_json: Path | None = None) -> ApiConfig:
    """The ``api`` of the ``cdk.json`` stage (``--stage``), as the stack would deploy it.

    ``stage`` None is the stage the stack deploys without ``-c maas:stage``: ``cdk.json``'s
    ``maas:stage``, else ``dev``. The ``cdk.json`` is the project's, or the one
    ``$MAAS_CDK_JSON`` names. Without a ``cdk.json`` (the package installed outside the
    project) a stage has the defaults the stack gives one that says nothing. A ``stage``
    named but not described, or an ``api`` that is not valid, is a bad ``--stage``.
    """
    import typer  # noqa: PLC0415
    from pydantic import ValidationError  # noqa: PLC0415

    from maas.api_limits import (  # noqa: PLC0415
        STAGES_CONTEXT_KEY,
        read_cdk_json_context,
        stage_api_config,
    )
    from maas.manifest import PROJECT_ROOT  # noqa: PLC0415

    path = cdk_json or Path(os.environ.get(CDK_JSON_VARIABLE) or PROJECT_ROOT / "cdk.json")
    context = read_cdk_json_context(path) if path.is_file() else {}
    stages = context.get(STAGES_CONTEXT_KEY) or {}
    if stage is not None and stages and stage not in stages:
        raise typer.BadParameter(
            f"{stage!r} is not a stage of {path} (described: {', '.join(sorted(stages))})",
            param_hint="--stage",
        )
    try:
        return stage_api_config(context, stage)
    except ValidationError as error:
        raise typer.BadParameter(f"its api in {path}: {error}", param_hint="--stage") from None


def describe_api_limits(api: ApiConfig, keys: dict[str, str]) -> list[str]:
    """Lines that say how the local API is limited, and each tenant's API key."""
    lines = [f"  throttle: {api.rate_limit:g} requests/s, burst {api.burst_limit} (429 past them)"]
    for tenant, key in sorted(keys.items()):
        plan = api.tenant_plans[tenant]
        quota = f", {plan.requests_per_day}/day" if plan.requests_per_day else ""
        lines.append(
            f"  tenant {tenant}: x-api-key {key} ({plan.rate_limit:g}/s, "
            f"burst {plan.burst_limit}{quota})"
        )
    return lines


def state_folder(option: Path | None) -> Path:
    """The state directory ``--state-dir`` names, else the token key's (the default)."""
    # maas.local loads moto (seconds): only once the port check has passed.
    from maas.local.tokens import state_directory  # noqa: PLC0415

    return (option or state_directory()).expanduser().absolute()


def describe_restored(runtime: LocalRuntime) -> list[str]:
    """Lines that say what the runtime brought back from its state directory at start."""
    if runtime.store is None:
        return []
    restored = runtime.restored
    if restored is None:
        return [f"[dim]no saved account in {runtime.store.directory}: starting empty[/]"]
    lines = [
        f"[bold green]account restored[/] from {restored.path} ({', '.join(restored.services)})"
    ]
    lines += [
        f"  [yellow]endpoint failed on restore[/] {name}: its inference server did not survive"
        for name in restored.failed_endpoints
    ]
    lines += [
        f"  [bold red]schedule not armed[/] {arn}: {why}"
        for arn, why in restored.unarmed_schedules.items()
    ]
    return lines


def describe_saved(runtime: LocalRuntime) -> list[str]:
    """Lines that say what the runtime saved when it stopped, and what it did not keep."""
    # Loaded with the runtime already; not at import, where the port check must be quick.
    from maas.local.persistence import NOT_KEPT  # noqa: PLC0415

    saved = runtime.saved
    if saved is None:
        return []
    lines = [f"account saved to {saved.path} ({', '.join(saved.services)})"]
    lines += [
        f"  [yellow]execution was running, now FAILED (States.Runtime)[/] {arn}"
        for arn in saved.interrupted_executions
    ]
    lines += [
        f"  [bold red]not saved[/] {service}: {why}" for service, why in saved.not_saved.items()
    ]
    lines += [f"  [dim]not kept: {what} ({why})[/]" for what, why in NOT_KEPT.items()]
    return lines


def state_problem(error: Exception) -> str | None:
    """What to say when ``error`` is the state directory's (refused or not saved), else None.

    ``maas local up`` asks this rather than naming the errors in its ``except`` clauses:
    those would import the runtime (seconds) before the port check, which must be quick.
    """
    from maas.local.persistence import StateError, StateNotSaved  # noqa: PLC0415

    if isinstance(error, StateNotSaved):
        return f"[bold red]account not saved[/]: {error}"
    if isinstance(error, StateError):
        return f"[bold red]local runtime not started[/]: {error}"
    return None


def exit_now(code: int) -> None:
    """End the process with ``code`` at once, once its output is written.

    For after the runtime has stopped: nothing is left to clean up but the interpreter's
    own objects, whose teardown is what would make a stop take seconds.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


__all__ = [
    "CDK_JSON_VARIABLE",
    "CHILD_GRACE_SECONDS",
    "STOP_DEADLINE_SECONDS",
    "LocalOptions",
    "PortInUseError",
    "StopDeadline",
    "check_port_free",
    "describe_api_limits",
    "describe_restored",
    "describe_saved",
    "end_children",
    "exit_now",
    "stage_api",
    "state_folder",
    "state_problem",
    "stop_on_signals",
    "wait_for_signal",
]
