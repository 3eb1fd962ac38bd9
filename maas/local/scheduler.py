"""EventBridge Scheduler on the local runtime: schedules that fire.

Why this exists: moto stores schedules and never runs them, so a deployment's time-to-live
would never tear anything down locally, nor its on/off hours stop and start it. This adapter
arms a timer for each enabled schedule when it is created or updated (one-time ``at(...)``,
``rate(...)`` and ``cron(...)``), disarms it when the schedule is deleted, and when it is due
delivers the target's ``Input`` as EventBridge Scheduler does: ``StartExecution`` for a Step
Functions state machine, ``Invoke`` (asynchronous) for a Lambda function. A one-time schedule
with ``ActionAfterCompletion: DELETE`` is removed once it fired; ``rate`` and ``cron``
schedules are armed again for their next firing. A delivery that fails is kept in
:attr:`LocalScheduler.failed_deliveries` (Scheduler would retry it, then dead-letter it).

Cron expressions are AWS's six fields, read in the schedule's time zone; :func:`cron_firing`
computes their next firing with ``croniter`` after translating the syntax (``?`` is ``*``,
days of the week 1-7 from Sunday become croniter's 0-6, ``nL`` becomes ``Ln``, the year
field is applied on top). Two AWS forms croniter cannot express, ``LW`` (the last weekday of
the month) and a day-of-week list mixing ``#`` with plain days, are refused with
:class:`UnsupportedCronExpression`: such a schedule is stored, not armed, and the reason is
kept in :attr:`LocalScheduler.unarmed`. A firing in a daylight-saving gap moves to the end
of the gap (croniter's rule), which AWS does not document.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter
from moto.scheduler.models import EventBridgeSchedulerBackend, Schedule

from maas.local.patching import replace
from schemas.hours import DAY_NAMES, YEAR, cron_fields

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
    >>> first_firing("cron(0 8 * * ? *)", "Europe/Paris", now)
    datetime.datetime(2026, 1, 2, 7, 0, tzinfo=datetime.timezone.utc)
    """
    at = _AT.match(expression)
    if at:
        local = datetime.fromisoformat(at.group(1)).replace(tzinfo=ZoneInfo(timezone))
        return local.astimezone(UTC)
    if expression.startswith("cron("):
        return cron_firing(expression, timezone, now)
    interval = rate_seconds(expression)
    return now + timedelta(seconds=interval) if interval else None


class UnsupportedCronExpression(ValueError):
    """A valid AWS cron expression that the local runtime cannot compute firings of."""


def croniter_expression(expression: str) -> tuple[str, frozenset[int] | None]:
    """An AWS ``cron(...)`` expression as croniter's five fields, and the years it may fire in.

    The years are None when the year field is ``*``.

    Examples
    --------
    >>> croniter_expression("cron(0 8 ? * MON-FRI *)")
    ('0 8 * * mon-fri', None)
    >>> croniter_expression("cron(30 18 ? * 2-6 2026-2027)")
    ('30 18 * * 1-5', frozenset({2026, 2027}))
    >>> croniter_expression("cron(0 9 ? * 6L *)"), croniter_expression("cron(0 9 ? * 2#1 *)")
    (('0 9 * * L5', None), ('0 9 * * 1#1', None))
    """
    try:
        minutes, hours, day_of_month, month, day_of_week, year = cron_fields(expression)
    except ValueError as exc:
        raise UnsupportedCronExpression(str(exc)) from None
    if "LW" in day_of_month.split(","):
        raise UnsupportedCronExpression(
            f"{expression}: day-of-month LW (the last weekday of the month) has no croniter "
            "equivalent; the local runtime does not fire it"
        )
    fields = (
        minutes,
        hours,
        "*" if day_of_month == "?" else day_of_month,
        month.lower(),
        "*" if day_of_week == "?" else ",".join(map(_croniter_days, day_of_week.split(","))),
    )
    return " ".join(fields), _years(year)


def _croniter_day(day: str) -> str:
    """One AWS day of the week (1-7 from Sunday, or a name) as croniter's (0-6, or a name)."""
    if day.upper() in DAY_NAMES:
        return day.lower()
    return str(int(day) - 1)


def _croniter_days(item: str) -> str:
    """One item of an AWS day-of-week list in croniter's syntax."""
    if item == "L":  # the last day of the week: Saturday
        return "6"
    if item.endswith("L"):  # the last given weekday of the month
        return f"L{_croniter_day(item[:-1])}"
    day, hash_, nth = item.partition("#")
    if hash_:
        return f"{_croniter_day(day)}#{nth}"
    base, slash, step = item.partition("/")
    if base != "*":
        low, dash, high = base.partition("-")
        base = _croniter_day(low) + (f"-{_croniter_day(high)}" if dash else "")
    return base + slash + step


def _years(field: str) -> frozenset[int] | None:
    """The years an AWS year field allows, or None for every year."""
    if field == "*":
        return None
    years: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        low, dash, high = base.partition("-")
        first = YEAR.low if low == "*" else int(low)
        last = int(high) if dash else (YEAR.high if step or low == "*" else first)
        years.update(range(first, last + 1, int(step or 1)))
    return frozenset(years)


def cron_firing(expression: str, timezone: str, after: datetime) -> datetime | None:
    """The first firing of an AWS cron expression in ``timezone`` strictly after ``after``.

    None when its year field allows no later year. Raises :class:`UnsupportedCronExpression`
    for the forms croniter cannot compute.

    Examples
    --------
    >>> friday_evening = datetime(2026, 3, 27, 18, 0, tzinfo=UTC)
    >>> cron_firing("cron(0 8 ? * MON-FRI *)", "Europe/Paris", friday_evening)
    datetime.datetime(2026, 3, 30, 6, 0, tzinfo=datetime.timezone.utc)
    """
    fields, years = croniter_expression(expression)
    zone = ZoneInfo(timezone)
    start = after.astimezone(zone)
    while True:
        try:
            due: datetime = croniter(fields, start).get_next(datetime)
        except CroniterError as exc:
            raise UnsupportedCronExpression(f"{expression}: {exc}") from None
        if years is None or due.year in years:
            return due.astimezone(UTC)
        later = [year for year in years if year > due.year]
        if not later:
            return None
        start = datetime(min(later), 1, 1, tzinfo=zone) - timedelta(seconds=1)


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
        self._timers: dict[str, tuple[threading.Timer, datetime]] = {}
        self._lock = threading.Lock()
        self.failed_deliveries: list[FailedDelivery] = []
        #: Schedule ARN -> why it was stored but not armed (a cron form croniter cannot do).
        self.unarmed: dict[str, str] = {}

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

    def _arm(
        self,
        backend: EventBridgeSchedulerBackend,
        schedule: Schedule,
        fired_at: datetime | None = None,
    ) -> None:
        """Arm the schedule's next firing; after a firing, strictly after the one that fired."""
        self._disarm(schedule.arn)
        if schedule.state != "ENABLED":
            return
        now = datetime.now(UTC)
        # A timer may wake a hair before its due time; a cron firing computed from that
        # instant would be the same firing again.
        after = max(now, fired_at) if fired_at else now
        try:
            due = first_firing(
                schedule.schedule_expression, schedule.schedule_expression_timezone, after
            )
        except UnsupportedCronExpression as exc:
            logger.warning("schedule %s is not armed locally: %s", schedule.arn, exc)
            self.unarmed[schedule.arn] = str(exc)
            return
        if due is None:
            return
        timer = threading.Timer(
            max((due - now).total_seconds(), 0.0), self._fire, (backend, schedule, due)
        )
        timer.daemon = True
        with self._lock:
            self._timers[schedule.arn] = (timer, due)
        timer.start()

    def next_firing(self, schedule_arn: str) -> datetime | None:
        """When the schedule fires next (UTC), or None when it is not armed."""
        with self._lock:
            armed = self._timers.get(schedule_arn)
        return armed[1] if armed else None

    def _disarm(self, arn: str) -> None:
        self.unarmed.pop(arn, None)
        with self._lock:
            armed = self._timers.pop(arn, None)
        if armed is not None:
            armed[0].cancel()

    def _disarm_all(self) -> None:
        with self._lock:
            armed, self._timers = list(self._timers.values()), {}
        for timer, _ in armed:
            timer.cancel()

    def _fire(
        self, backend: EventBridgeSchedulerBackend, schedule: Schedule, due: datetime
    ) -> None:
        with self._lock:
            if self._timers.get(schedule.arn) is None:
                return  # deleted or replaced while the timer was due
        self._deliver(schedule)
        if rate_seconds(schedule.schedule_expression):
            self._arm(backend, schedule)
            return
        if schedule.schedule_expression.startswith("cron("):
            self._arm(backend, schedule, fired_at=due)
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


__all__ = [
    "FailedDelivery",
    "LocalScheduler",
    "UnsupportedCronExpression",
    "cron_firing",
    "croniter_expression",
    "first_firing",
    "rate_seconds",
]
