"""Keeping the emulated account across restarts of the local runtime.

Without this, stopping ``maas local up`` discarded the account: every object, secret,
record, model package and execution. With a state directory (``LocalSettings.state_dir``)
the runtime saves the account when it stops and restores it when it starts again.

**Mechanism: moto's own backends, pickled.** Measured on 220 S3 objects (20 of 1 MiB) and
1,000 DynamoDB items: pickling the two backends took 0.07 s and unpickling 0.06 s
(22 MB); exporting the same data through the APIs (list, get, scan) took 1.9 s and
importing it (put) 4.4 s, and would still lose what the APIs cannot set back (ETags,
modification times, version ids, a secret's version stages, a model package's creation
time). No API creates an execution with its history at all. So each persisted service's
backend is pickled whole (moto's S3 keys already pickle their content for this), with
two exceptions:

- A Step Functions execution holds its interpreter (a worker thread, locks, the program's
  environment), which neither pickles nor could resume in another process. It is saved as
  its description and its history (:class:`_FinishedWorker` answers for it after a
  restore). An execution still running when the runtime stops is saved as AWS reports an
  execution that could not go on: ``FAILED`` with the error ``States.Runtime`` and a cause
  saying the local runtime stopped, its history ending in ``ExecutionFailed``. It is never
  left ``RUNNING``; starting it again (or, on AWS, redriving it) is the user's recourse.
- What only lives in this process is left out (Application Auto Scaling's link to the ECS
  backend).

**A state file is all or nothing.** It is written to a temporary file in the same
directory, flushed to disk, then renamed over the previous one: a crash while saving
leaves the previous state whole. Its first line is a JSON header (format version, moto
version, account, region, each service's size and SHA-256); a file of another format version or
moto version, another account or region, or whose payload does not match its digest, is
refused with :class:`StateError` naming the file, before anything of it is loaded, and
is left in place. Restoring happens only once the whole file has been read and unpickled.

Pickle runs code when loaded: the state file is trusted as the signing key next to it is
(the directory is the user's own, readable by its owner only).

Resources the runtime provisions from the manifest (bucket, table, log groups, state
machines) are provisioned first, as on every start; the saved account then replaces the
services' contents, keeping a provisioned resource the saved account lacks (one a newer
manifest added) and, for state machines, the manifest's current definitions (the saved
executions are attached to them).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import pickle
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.dynamodb.models import dynamodb_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends
from moto.scheduler.models import scheduler_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

if TYPE_CHECKING:
    from collections.abc import Callable

    from moto.core.base_backend import BackendDict

logger = logging.getLogger(__name__)


#: The file, in the state directory, that holds the emulated account.
STATE_FILE_NAME = "account-state.bin"

#: What the header's ``format`` says; a file without it is not a state file.
FORMAT_NAME = "maas-local-account-state"

#: How often a service is read again when another thread changed it while it was pickled.
_SAVE_ATTEMPTS = 3

#: Bumped whenever what is saved changes shape: an older file is refused, never guessed at.
FORMAT_VERSION = 1

#: The error a running execution ends with when the runtime stops (AWS's name for an
#: execution that failed on something it could not process).
INTERRUPTED_ERROR = "States.Runtime"

#: Why an endpoint that was InService fails after a restart when models are served.
ENDPOINT_RESTART_REASON = (
    "The local runtime restarted and this endpoint's inference server did not survive it. "
    "Delete the endpoint and deploy it again."
)

#: What is not kept, and why (``maas local up`` prints it; docs/local.md says the same).
NOT_KEPT: dict[str, str] = {
    "Lambda, IAM, EventBridge rules, Batch queues and definitions": (
        "provisioned again from the manifest at every start (a tenant's workflow role, by "
        "the tenant's next workflow)"
    ),
    "Batch jobs": "a job's process ends with the runtime; its record is not kept",
    "EventBridge events and X-Ray traces": "delivered or collected once, not stored",
    "Step Functions Map Runs": "an execution's Map Run records live in its interpreter",
    "inference servers": "an endpoint's server process ends with the runtime",
}


class StateError(Exception):
    """A state file that is refused: unreadable, corrupt or written by something else."""


class StateNotSaved(StateError):
    """The account could not be written; the previous state file is left as it was."""


@dataclass(frozen=True)
class _Service:
    """One persisted service: where moto keeps it and how a restore merges into it."""

    name: str
    backends: BackendDict[Any]
    # S3 is kept per partition, not per region.
    by_partition: bool = False
    # Dict attributes whose provisioned entries are kept when the saved account lacks them.
    keep_provisioned: tuple[str, ...] = ()
    # Attributes that belong to this process (links to other backends): never saved.
    live_only: tuple[str, ...] = ()

    def backend(self, account_id: str, region: str) -> Any:
        return self.backends[account_id]["aws" if self.by_partition else region]


SERVICES: tuple[_Service, ...] = (
    _Service("s3", s3_backends, by_partition=True, keep_provisioned=("buckets",)),
    _Service("dynamodb", dynamodb_backends, keep_provisioned=("tables",)),
    _Service("secretsmanager", secretsmanager_backends),
    _Service("sagemaker", sagemaker_backends),
    _Service("logs", logs_backends, keep_provisioned=("groups",)),
    _Service("cloudwatch", cloudwatch_backends),
    _Service("scheduler", scheduler_backends, keep_provisioned=("schedule_groups",)),
    _Service(
        "application-autoscaling", applicationautoscaling_backends, live_only=("ecs_backend",)
    ),
    # Merged by hand (_restore_stepfunctions): the manifest's definitions win.
    _Service("stepfunctions", stepfunctions_parser_backends),
)


@dataclass
class SavedState:
    """What a save wrote, or what a restore brought back."""

    path: Path
    services: list[str] = field(default_factory=list)
    #: Service -> why it could not be saved (it then starts empty next time).
    not_saved: dict[str, str] = field(default_factory=dict)
    #: Executions that were running and are now FAILED with :data:`INTERRUPTED_ERROR`.
    interrupted_executions: list[str] = field(default_factory=list)
    #: Endpoints failed on restore because nothing serves them any more.
    failed_endpoints: list[str] = field(default_factory=list)
    #: Schedule ARN -> why it could not be armed again on restore.
    unarmed_schedules: dict[str, str] = field(default_factory=dict)


# -- executions ------------------------------------------------------------------------


class _NoMapRuns:
    # An interrupted or finished execution's Map Runs are not kept (NOT_KEPT).
    def get(self, map_run_arn: str) -> None:
        return None

    def get_all(self) -> list[Any]:
        return []


class _NoCallbacks:
    # A restored execution waits for no task token: SendTask* looks elsewhere.
    def notify(self, callback_id: str, outcome: Any) -> bool:
        return False

    def heartbeat(self, callback_id: str) -> bool:
        return False


class _History:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._events = events

    def get_event_history(self) -> list[dict[str, Any]]:
        return [dict(event) for event in self._events]


class _Environment:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.event_manager = _History(events)
        self.map_run_record_pool_manager = _NoMapRuns()
        self.callback_pool_manager = _NoCallbacks()


class _FinishedWorker:
    """Stands in for a restored execution's interpreter: its history, and nothing to run.

    moto reads an execution's history, Map Runs and callbacks through ``exec_worker.env``.
    """

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.env = _Environment(events)

    def stop(self, stop_date: datetime, error: str | None, cause: str | None) -> None:
        # Finished already; moto's StopExecution reaches here only for a running one.
        return None


def _restore_execution(kind: type[Execution], attributes: dict[str, Any]) -> Execution:
    # Called by pickle for each saved execution (see _AccountPickler).
    events = attributes.pop("_saved_history")
    execution = kind.__new__(kind)
    execution.__dict__.update(attributes)
    execution.exec_worker = _FinishedWorker(events)  # type: ignore[assignment]
    return execution


def _execution_history(execution: Execution) -> list[dict[str, Any]]:
    worker = execution.exec_worker
    if worker is None or worker.env is None:
        return []
    return [dict(event) for event in worker.env.event_manager.get_event_history()]


def _ended(events: list[dict[str, Any]]) -> bool:
    terminal = {
        HistoryEventType.ExecutionSucceeded,
        HistoryEventType.ExecutionFailed,
        HistoryEventType.ExecutionAborted,
        HistoryEventType.ExecutionTimedOut,
    }
    return bool(events) and events[-1].get("type") in terminal


def _consistent_snapshot(execution: Execution) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    # The execution's thread may be ending it while it is read: read its attributes and
    # history until both say the same (ended, or not), which takes one more read at most.
    for _ in range(_SAVE_ATTEMPTS):
        attributes = {
            key: value
            for key, value in list(execution.__dict__.items())
            if key not in {"exec_worker", "_cloud_watch_logging_session", "_activity_store"}
        }
        events = _execution_history(execution)
        running = attributes.get("exec_status") in {ExecutionStatus.RUNNING, None}
        if running != _ended(events):
            break
        time.sleep(0.01)
    return attributes, events


def interrupted_cause(stopped_at: datetime) -> str:
    """The cause an execution that was running when the runtime stopped fails with."""
    return (
        f"The local runtime stopped at {stopped_at.isoformat(timespec='seconds')} while this "
        "execution was running; it did not go on. Start it again (on AWS: redrive it)."
    )


class _AccountPickler(pickle.Pickler):
    """Pickles backends, saving each execution as its description and history."""

    def __init__(self, file: Any, stopped_at: datetime) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.stopped_at = stopped_at
        self.interrupted: list[str] = []

    def reducer_override(self, obj: Any) -> Any:
        if not isinstance(obj, Execution):
            return NotImplemented
        attributes, events = _consistent_snapshot(obj)
        attributes["_cloud_watch_logging_session"] = None
        attributes["_activity_store"] = {}
        if attributes.get("exec_status") in {ExecutionStatus.RUNNING, None}:
            cause = interrupted_cause(self.stopped_at)
            attributes.update(
                exec_status=ExecutionStatus.FAILED,
                stop_date=self.stopped_at,
                error=INTERRUPTED_ERROR,
                cause=cause,
            )
            last_id = int(events[-1]["id"]) if events else 0
            events.append(
                {
                    "timestamp": self.stopped_at,
                    "type": HistoryEventType.ExecutionFailed,
                    "id": last_id + 1,
                    "previousEventId": last_id,
                    "executionFailedEventDetails": {"error": INTERRUPTED_ERROR, "cause": cause},
                }
            )
            self.interrupted.append(obj.exec_arn)
        attributes["_saved_history"] = events
        return _restore_execution, (type(obj), attributes)


# -- the state file --------------------------------------------------------------------


class AccountStore:
    """Saves the emulated account to ``directory`` and restores it from there.

    Parameters
    ----------
    directory
        The state directory; the account is the file :data:`STATE_FILE_NAME` in it.
    account_id, region
        The emulated account's; a state of another account or region is refused.
    """

    def __init__(self, directory: Path, *, account_id: str, region: str) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE_NAME
        self.account_id = account_id
        self.region = region

    def _header(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "moto": version("moto"),
            "account_id": self.account_id,
            "region": self.region,
        }

    # -- saving ------------------------------------------------------------------------

    def save(self, stopped_at: datetime | None = None) -> SavedState:
        """Write the account's persisted services to the state file, atomically."""
        stopped_at = stopped_at or datetime.now(UTC)
        saved = SavedState(self.path)
        parts: dict[str, bytes] = {}
        for service in SERVICES:
            part, interrupted = self._pickle_service(service, stopped_at)
            if isinstance(part, str):
                saved.not_saved[service.name] = part
                logger.warning("local state: %s not saved: %s", service.name, part)
                continue
            parts[service.name] = part
            saved.services.append(service.name)
            saved.interrupted_executions.extend(interrupted)
        # The parts follow the header as they are, each with its size and digest there: no
        # copy of the whole account is made (its objects can weigh hundreds of MB).
        header = {
            **self._header(),
            "saved_at": stopped_at.isoformat(),
            "not_saved": saved.not_saved,
            "parts": [
                [name, len(part), hashlib.sha256(part).hexdigest()] for name, part in parts.items()
            ],
        }
        try:
            self._write([json.dumps(header).encode() + b"\n", *parts.values()])
        except OSError as error:
            raise StateNotSaved(
                f"the local runtime's account could not be saved in {self.directory} "
                f"({error}); the state saved before, if any, is left as it was"
            ) from error
        return saved

    def _pickle_service(
        self, service: _Service, stopped_at: datetime
    ) -> tuple[bytes | str, list[str]]:
        # A service is saved whole or not at all: its bytes, or why it could not be.
        backend = service.backend(self.account_id, self.region)
        failure = ""
        for _ in range(_SAVE_ATTEMPTS):
            attributes = {
                key: value for key, value in vars(backend).items() if key not in service.live_only
            }
            buffer = io.BytesIO()
            pickler = _AccountPickler(buffer, stopped_at)
            try:
                pickler.dump(attributes)
            except RuntimeError as error:
                # A thread of this process (a function, a timer) changed a dict being read:
                # read it again.
                failure = f"{type(error).__name__}: {error}"
                continue
            except Exception as error:
                return f"{type(error).__name__}: {error}", []
            return buffer.getvalue(), pickler.interrupted
        return failure, []

    def _write(self, chunks: list[bytes]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temporary = tempfile.mkstemp(
            dir=self.directory, prefix=f".{STATE_FILE_NAME}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            # Atomic on POSIX: readers see the old file or the new one, never a mix.
            Path(temporary).replace(self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(temporary).unlink()
            raise
        # The rename itself must reach the disk for the new state to survive a power loss.
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    # -- loading -----------------------------------------------------------------------

    def load(self) -> dict[str, dict[str, Any]] | None:
        """Read and check the state file: each service's saved attributes, or None if absent.

        Raises
        ------
        StateError
            The file is unreadable, corrupt, or of another format version, moto version,
            account or region. The file is left as it is.
        """
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._refused(f"it cannot be read ({error})") from error
        first_line, _, payload = content.partition(b"\n")
        try:
            header = json.loads(first_line)
        except (ValueError, UnicodeDecodeError):
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise self._refused("it is not a local account state (corrupt or another file)")
        expected = self._header()
        for key, what in (
            ("version", "format version"),
            ("moto", "moto version"),
            ("account_id", "account"),
            ("region", "region"),
        ):
            if header.get(key) != expected[key]:
                raise self._refused(
                    f"it was written with {what} {header.get(key)!r} and this runtime has "
                    f"{expected[key]!r}"
                )
        parts = self._checked_parts(header, memoryview(payload))
        try:
            # Pickle: the user's own state, trusted as the key beside it (module docstring).
            return {name: pickle.loads(part) for name, part in parts.items()}
        except Exception as error:
            raise self._refused(f"it cannot be loaded ({type(error).__name__}: {error})") from error

    def _checked_parts(self, header: dict[str, Any], payload: memoryview) -> dict[str, memoryview]:
        # Every part whole and as written, or the file is refused before any is unpickled.
        parts: dict[str, memoryview] = {}
        offset = 0
        try:
            for name, size, digest in header["parts"]:
                part = payload[offset : offset + size]
                offset += size
                if len(part) != size or hashlib.sha256(part).hexdigest() != digest:
                    raise ValueError(name)
                parts[name] = part
        except (KeyError, TypeError, ValueError) as error:
            raise self._refused(
                "its content does not match its checksum (truncated or corrupt)"
            ) from error
        if offset != len(payload):
            raise self._refused("its content does not match its checksum (truncated or corrupt)")
        return parts

    def _refused(self, why: str) -> StateError:
        return StateError(
            f"the local runtime's saved account in {self.directory} is refused: {self.path.name} "
            f"{why}. It was left as it is; move it away (or choose another --state-dir) to "
            "start with an empty account."
        )

    # -- restoring ---------------------------------------------------------------------

    def restore(self, saved: dict[str, dict[str, Any]]) -> SavedState:
        """Put ``saved`` (from :meth:`load`) into the running emulation's backends.

        Raises
        ------
        StateError
            The saved account does not fit this moto's backends. The runtime then stops
            (what was restored so far goes with it) and the file is left as it is.
        """
        try:
            return self._restore(saved)
        except Exception as error:
            raise self._refused(
                f"it cannot be restored ({type(error).__name__}: {error})"
            ) from error

    def _restore(self, saved: dict[str, dict[str, Any]]) -> SavedState:
        restored = SavedState(self.path)
        for service in SERVICES:
            attributes = saved.get(service.name)
            if attributes is None:
                continue
            backend = service.backend(self.account_id, self.region)
            if service.name == "stepfunctions":
                _restore_stepfunctions(backend, attributes)
            else:
                for name in service.keep_provisioned:
                    provisioned = getattr(backend, name)
                    kept = attributes.setdefault(name, {})
                    for key, value in provisioned.items():
                        kept.setdefault(key, value)
                if service.name == "scheduler":
                    # The manifest's schedules are in the default group, which is kept.
                    for group_name, group in backend.schedule_groups.items():
                        kept_group = attributes["schedule_groups"][group_name]
                        for key, schedule in group.schedules.items():
                            kept_group.schedules.setdefault(key, schedule)
                vars(backend).update(attributes)
            restored.services.append(service.name)
        # A bucket is found by name through the partition's index, not only the backend.
        for name in s3_backends[self.account_id]["aws"].buckets:
            s3_backends.bucket_accounts[name] = ("aws", self.account_id)
        return restored


class Autosave:
    """Saves the account every ``interval_seconds`` while the runtime runs.

    A stop saves anyway; this bounds what a crash or SIGKILL loses (the stop's save never
    runs then) to the changes of the last interval. A failed save is logged and the
    previous file stays; the next interval tries again.
    """

    def __init__(self, store: AccountStore, interval_seconds: float) -> None:
        self._store = store
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="maas-local-autosave", daemon=True)
        #: The last save's result, if one succeeded.
        self.last: SavedState | None = None

    def start(self) -> None:
        """Start saving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop saving; a save under way finishes first (the stop's own save comes after)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.last = self._store.save()
            except StateError as error:
                logger.warning("local state: autosave failed: %s", error)


def _restore_stepfunctions(backend: Any, attributes: dict[str, Any]) -> None:
    # The manifest's state machines were just created from today's definitions: keep them,
    # and give them their saved executions (each keeps the definition it ran). A state
    # machine only the saved account has (a user's own) comes back as it was.
    current = {machine.arn: machine for machine in backend.state_machines}
    for machine in attributes.get("state_machines", []):
        existing = current.get(machine.arn)
        if existing is None:
            machine.backend = backend
            backend.state_machines.append(machine)
        else:
            existing.executions[:0] = machine.executions
    for key, value in attributes.items():
        if key not in {"state_machines", "region_name", "account_id"}:
            setattr(backend, key, value)


def settle_endpoints(
    account_id: str,
    region: str,
    *,
    served: bool,
    fail_in_service: Callable[[str, str], None],
) -> list[str]:
    """Make restored endpoints' statuses true; return the names of those failed.

    Their timers (Creating, Updating, Deleting) and inference servers ended with the last
    process. An endpoint caught in a transition fails with a reason saying so. An
    ``InService`` endpoint stays so when the runtime serves no models (nothing served it
    before either), and otherwise fails as SageMaker fails an endpoint whose instances
    cannot be kept healthy (:data:`ENDPOINT_RESTART_REASON`), announced as every status
    change is. ``fail_in_service(name, reason)`` does that (LocalSageMaker.fail_in_service).
    """
    backend = sagemaker_backends[account_id][region]
    failed = []
    for name, endpoint in list(backend.endpoints.items()):
        status = endpoint.endpoint_status
        if status in {"Failed", "OutOfService"} or (status == "InService" and not served):
            continue
        reason = ENDPOINT_RESTART_REASON
        if status != "InService":
            reason = (
                f"The local runtime stopped while this endpoint was {status}; it did not "
                "finish. Delete the endpoint and deploy it again."
            )
            # Failing goes through the live endpoint's path so that listeners hear of it.
            endpoint.endpoint_status = "InService"
        fail_in_service(name, reason)
        failed.append(name)
    return failed


def arm_schedules(account_id: str, region: str, scheduler: Any) -> dict[str, str]:
    """Arm restored schedules again, by updating each with itself through ``scheduler``.

    The local scheduler arms a schedule when it is created or updated; the restored ones
    were neither in this process. Returns the schedules that could not be armed, with why
    (the runtime starts anyway: one schedule must not keep the whole account away).
    """
    backend = scheduler_backends[account_id][region]
    unarmed: dict[str, str] = {}
    for group in backend.schedule_groups.values():
        for schedule in list(group.schedules.values()):
            described = scheduler.get_schedule(GroupName=group.name, Name=schedule.name)
            wanted = {
                key: described[key]
                for key in (
                    "Name",
                    "GroupName",
                    "ScheduleExpression",
                    "ScheduleExpressionTimezone",
                    "FlexibleTimeWindow",
                    "Target",
                    "State",
                    "Description",
                    "StartDate",
                    "EndDate",
                    "KmsKeyArn",
                    "ActionAfterCompletion",
                )
                if described.get(key) is not None
            }
            try:
                scheduler.update_schedule(**wanted)
            except Exception as error:  # reported below; the other schedules are still armed
                logger.warning("local state: schedule %s not armed: %s", schedule.arn, error)
                unarmed[schedule.arn] = str(error)
    return unarmed


__all__ = [
    "ENDPOINT_RESTART_REASON",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "INTERRUPTED_ERROR",
    "NOT_KEPT",
    "SERVICES",
    "STATE_FILE_NAME",
    "AccountStore",
    "Autosave",
    "SavedState",
    "StateError",
    "StateNotSaved",
    "arm_schedules",
    "interrupted_cause",
    "settle_endpoints",
]
