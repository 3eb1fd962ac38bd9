"""Waiters: poll a workflow execution, or an endpoint, until it gets where it was going.

Both poll with a growing interval (from :data:`FIRST_POLL` up to :data:`MAX_POLL` seconds),
give up with :class:`~maas.sdk.errors.WaiterTimeout` when their time runs out, and raise a
clear error on failure: :class:`~maas.sdk.errors.ExecutionFailed` carries the execution's
``error`` and ``cause``; :class:`~maas.sdk.errors.EndpointFailed` the record's failure reason.

Examples
--------
.. code-block:: python

    accepted = maas.create_endpoint(spec)
    view = wait_for_execution(
        maas, accepted, on_progress=lambda view: print(view.status, view.path[-1].name)
    )
    record = wait_until_in_service(maas, spec.endpoint_name)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from maas.sdk.errors import EndpointFailed, ExecutionFailed, NotFound, WaiterTimeout
from schemas.endpoint import EndpointStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from schemas.api import ExecutionAccepted, ExecutionView, Workflow
    from schemas.endpoint import EndpointRecord

#: Seconds a waiter waits at most unless told otherwise: a real endpoint takes minutes.
DEFAULT_TIMEOUT = 1800.0
#: The first interval between two polls, and the longest it grows to.
FIRST_POLL = 0.25
MAX_POLL = 10.0
_GROWTH = 1.5

#: How long an endpoint may be unknown after its deployment started: the workflow writes its
#: record in its first steps, a moment after the API answered.
NOT_FOUND_GRACE = 30.0

#: Statuses from which an endpoint does not come into service by itself.
_DEAD_ENDS = frozenset({EndpointStatus.FAILED, EndpointStatus.DELETING, EndpointStatus.DELETED})


class ExecutionReader(Protocol):
    """What the execution waiter needs of a client."""

    def get_execution(self, workflow: Workflow | str, name: str) -> ExecutionView: ...


class EndpointReader(ExecutionReader, Protocol):
    """What the endpoint waiter needs of a client."""

    def get_endpoint(self, name: str) -> EndpointRecord: ...


class _Poller:
    """A deadline and a growing interval between polls."""

    def __init__(self, timeout: float, max_poll: float, sleep: Callable[[float], None]) -> None:
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self._interval = min(FIRST_POLL, max_poll)
        self._max = max_poll
        self._sleep = sleep

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def pause(self, waiting_for: str) -> None:
        remaining = self.remaining()
        if remaining <= 0:
            raise WaiterTimeout(f"gave up after {self.timeout:g}s waiting for {waiting_for}")
        self._sleep(min(self._interval, remaining))
        self._interval = min(self._interval * _GROWTH, self._max)


def wait_for_execution(
    client: ExecutionReader,
    accepted: ExecutionAccepted,
    *,
    on_progress: Callable[[ExecutionView], None] | None = None,
    until: Callable[[ExecutionView], bool] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_poll: float = MAX_POLL,
    sleep: Callable[[float], None] = time.sleep,
) -> ExecutionView:
    """Poll the execution ``accepted`` names until it stops; its final view if it succeeded.

    ``on_progress`` is called with every view polled, the last included: its ``path`` ends
    with the state the execution is in. With ``until``, a running execution's view for which
    it holds is returned at once (an evaluation waiting for a person's grades, which no
    amount of polling brings). Raises :class:`ExecutionFailed` (with the execution's error
    and cause) when it fails, times out or is aborted, and :class:`WaiterTimeout` when it
    still runs after ``timeout`` seconds. Polls grow apart up to ``max_poll`` seconds.
    """
    poller = _Poller(timeout, max_poll, sleep)
    while True:
        view = client.get_execution(accepted.workflow, accepted.execution_name)
        if on_progress is not None:
            on_progress(view)
        if view.status == "SUCCEEDED" or (
            view.status == "RUNNING" and until is not None and until(view)
        ):
            return view
        if view.status != "RUNNING":
            raise ExecutionFailed(view)
        poller.pause(f"{accepted.workflow.value} execution {accepted.execution_name}")


def wait_until_in_service(
    client: EndpointReader,
    endpoint_name: str,
    *,
    execution: ExecutionAccepted | None = None,
    on_progress: Callable[[ExecutionView], None] | None = None,
    on_status: Callable[[EndpointRecord], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_poll: float = MAX_POLL,
    sleep: Callable[[float], None] = time.sleep,
) -> EndpointRecord:
    """Poll until the endpoint is ``IN_SERVICE``; its record then.

    With ``execution`` (the deployment, update or start that brings it into service), that
    execution is followed first, so that its failure is raised with its own error and cause
    (:class:`ExecutionFailed`); ``on_progress`` sees each of its views. ``on_status`` sees
    each record polled. Raises :class:`EndpointFailed` when the endpoint fails or is being
    deleted, :class:`NotFound` when it is still unknown :data:`NOT_FOUND_GRACE` seconds in,
    and :class:`WaiterTimeout` after ``timeout`` seconds in all.
    """
    started = time.monotonic()
    if execution is not None:
        wait_for_execution(
            client,
            execution,
            on_progress=on_progress,
            timeout=timeout,
            max_poll=max_poll,
            sleep=sleep,
        )
    poller = _Poller(timeout - (time.monotonic() - started), max_poll, sleep)
    while True:
        try:
            record = client.get_endpoint(endpoint_name)
        except NotFound:
            if time.monotonic() - started > NOT_FOUND_GRACE:
                raise
        else:
            if on_status is not None:
                on_status(record)
            if record.status is EndpointStatus.IN_SERVICE:
                return record
            if record.status in _DEAD_ENDS:
                raise EndpointFailed(record)
        poller.pause(f"endpoint {endpoint_name} to be IN_SERVICE")


__all__ = [
    "DEFAULT_TIMEOUT",
    "FIRST_POLL",
    "MAX_POLL",
    "NOT_FOUND_GRACE",
    "EndpointReader",
    "ExecutionReader",
    "wait_for_execution",
    "wait_until_in_service",
]
