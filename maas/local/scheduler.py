"""EventBridge Scheduler on the local runtime: schedules that fire.

Why this exists: moto stores schedules and never runs them, so a deployment's time-to-live
would never tear anything down locally. This adapter arms a timer for each enabled one-time
``at(...)`` schedule and each ``rate(...)`` schedule when it is created or updated, disarms it
when the schedule is deleted, and when it is due delivers the target's ``Input`` as
EventBridge Scheduler does: ``StartExecution`` for a Step Functions state machine, ``Invoke``
(asynchronous) for a Lambda function. A one-time schedule with ``ActionAfterCompletion:
DELETE`` is removed once it fired. A delivery that fails is kept in :attr:`failed_deliveries`
(Scheduler would retry it, then dead-letter it); ``cron(...)`` expressions are stored but do
not fire locally.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from moto.scheduler.models import EventBridgeSchedulerBackend, Schedule

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

logger = logging.getLogger(__name__)

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def first_firing(expression: str, timezone: str, now: datetime) -> datetime | None:
    """When a schedule first fires, or None for an expression that does not fire locally.

    Examples
    --------
    >>> now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> first_firing("at(2026-01-01T13:00:00)", "Europe/Paris", now)
    datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
    >>> first_firing("rate(5 minutes)", "UTC", now)
    datetime.datetime(2026, 1, 1, 12, 5, tzinfo=datetime.timezone.utc)
    >>> first_firing("cron(0 8 * * ? *)", "UTC", now) is None
    True
    """
    at = _AT.match(expression)
    if at:
        local = datetime.fromisoformat(at.group(1)).replace(tzinfo=ZoneInfo(timezone))
        return local.astimezone(UTC)
    interval = rate_seconds(expression)
    return now + timedelta(seconds=interval) if interval else None


def rate_seconds(expression: str) -> int | None:
    """The period of a ``rate(...)`` expression in seconds, or None for another expression."""
    rate = _RATE.match(expression)
    if rate is None:
        return None
    return int(rate.group(1)) * _RATE_UNITS[rate.group(2).removesuffix("s")]


@dataclass(frozen=True)
class FailedDelivery:
    """A schedule whose target could not be reached."""

    schedule_arn: str
    target_arn: str
    error: str


class LocalScheduler:
    """Fires the emulated account's schedules.

    Parameters
    ----------
    clients
        Returns an in-process boto3 client for a service; deliveries use it.
    """

    def __init__(self, clients: Callable[[str], Any]) -> None:
        self._clients = clients
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self.failed_deliveries: list[FailedDelivery] = []

    def install(self, stack: ExitStack) -> None:
        """Patch moto's Scheduler backend until ``stack`` closes."""
        create = EventBridgeSchedulerBackend.create_schedule
        update = EventBridgeSchedulerBackend.update_schedule
        delete = EventBridgeSchedulerBackend.delete_schedule
        local = self

        def create_schedule(backend: EventBridgeSchedulerBackend, **kwargs: Any) -> Schedule:
            schedule: Schedule = create(backend, **kwargs)
            local._arm(backend, schedule)
            return schedule

        def update_schedule(backend: EventBridgeSchedulerBackend, **kwargs: Any) -> Schedule:
            schedule: Schedule = update(backend, **kwargs)
            local._arm(backend, schedule)
            return schedule

        def delete_schedule(
            backend: EventBridgeSchedulerBackend, group_name: str | None, name: str
        ) -> None:
            schedule = backend.get_schedule(group_name, name)
            delete(backend, group_name, name)
            local._disarm(schedule.arn)

        for name, patched in (
            ("create_schedule", create_schedule),
            ("update_schedule", update_schedule),
            ("delete_schedule", delete_schedule),
        ):
            stack.enter_context(replace(EventBridgeSchedulerBackend, name, patched))
        stack.callback(self._disarm_all)

    # -- timers ------------------------------------------------------------------------

    def _arm(self, backend: EventBridgeSchedulerBackend, schedule: Schedule) -> None:
        self._disarm(schedule.arn)
        if schedule.state != "ENABLED":
            return
        now = datetime.now(UTC)
        due = first_firing(schedule.schedule_expression, schedule.schedule_expression_timezone, now)
        if due is None:
            return
        timer = threading.Timer(
            max((due - now).total_seconds(), 0.0), self._fire, (backend, schedule)
        )
        timer.daemon = True
        with self._lock:
            self._timers[schedule.arn] = timer
        timer.start()

    def _disarm(self, arn: str) -> None:
        with self._lock:
            timer = self._timers.pop(arn, None)
        if timer is not None:
            timer.cancel()

    def _disarm_all(self) -> None:
        with self._lock:
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()

    def _fire(self, backend: EventBridgeSchedulerBackend, schedule: Schedule) -> None:
        with self._lock:
            if self._timers.get(schedule.arn) is None:
                return  # deleted or replaced while the timer was due
        self._deliver(schedule)
        if rate_seconds(schedule.schedule_expression):
            self._arm(backend, schedule)
            return
        with self._lock:
            self._timers.pop(schedule.arn, None)
        if schedule.action_after_completion == "DELETE":
            backend.get_schedule_group(schedule.group_name).schedules.pop(schedule.name, None)

    def _deliver(self, schedule: Schedule) -> None:
        target = schedule.target
        arn: str = target["Arn"]
        payload = target.get("Input") or "{}"
        try:
            if ":states:" in arn and ":stateMachine:" in arn:
                self._clients("stepfunctions").start_execution(stateMachineArn=arn, input=payload)
            elif ":lambda:" in arn:
                self._clients("lambda").invoke(
                    FunctionName=arn, InvocationType="Event", Payload=payload.encode()
                )
            else:
                raise ValueError(f"targets of this kind are not delivered locally: {arn}")
        except Exception as exc:
            logger.warning("schedule %s could not deliver to %s: %s", schedule.arn, arn, exc)
            self.failed_deliveries.append(
                FailedDelivery(schedule_arn=schedule.arn, target_arn=arn, error=str(exc))
            )


__all__ = ["FailedDelivery", "LocalScheduler", "first_firing", "rate_seconds"]
