"""On/off hours: EventBridge Scheduler cron expressions that stop an endpoint and start it again.

A stopped endpoint has no instances and costs nothing to host; its SageMaker model and
endpoint configuration are kept, so starting it again is one ``CreateEndpoint``.

The cron syntax is EventBridge Scheduler's: ``cron(minutes hours day-of-month month
day-of-week year)``, six fields, day-of-week numbered 1-7 from Sunday, and exactly one of
day-of-month and day-of-week is ``?``. It is checked here, at the boundary, so a bad
expression is refused before anything is created, with the field and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, Field, model_validator

from schemas.common import REQUEST_CONFIG, EndpointName, TenantId

_CRON = re.compile(r"^cron\((.*)\)$")
_NUMBER = re.compile(r"^\d+$")

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
#: AWS numbers days of the week 1-7 from Sunday.
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class CronField:
    """One field of an AWS cron expression: its name, range and the value names it accepts."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def value(self, text: str) -> int:
        """A single value of this field as a number, or ValueError saying why it is not one."""
        upper = text.upper()
        if upper in self.names:
            return self.low + self.names.index(upper)
        if not _NUMBER.match(text):
            raise ValueError(f"{self.name} value {text!r} is not a number")
        number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(f"{self.name} value {number} is outside {self.low}-{self.high}")
        return number


MINUTES = CronField("minutes", 0, 59)
HOURS = CronField("hours", 0, 23)
DAY_OF_MONTH = CronField("day-of-month", 1, 31)
MONTH = CronField("month", 1, 12, MONTH_NAMES)
DAY_OF_WEEK = CronField("day-of-week", 1, 7, DAY_NAMES)
YEAR = CronField("year", 1970, 2199)
FIELDS = (MINUTES, HOURS, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR)


def _check_range(field: CronField, item: str) -> None:
    """``*``, ``a``, ``a-b``, each optionally ``/step``."""
    base, slash, step = item.partition("/")
    if slash and (not _NUMBER.match(step) or int(step) < 1):
        raise ValueError(f"{field.name} step {step!r} is not a positive number")
    if base == "*":
        return
    low, dash, high = base.partition("-")
    first = field.value(low)
    if dash and field.value(high) < first:
        raise ValueError(f"{field.name} range {base!r} runs backwards")


def _check_day_of_month(item: str) -> None:
    if item in ("L", "LW"):
        return
    if item.endswith("W"):
        DAY_OF_MONTH.value(item[:-1])
        return
    _check_range(DAY_OF_MONTH, item)


def _check_day_of_week(item: str) -> None:
    if item == "L":
        return
    if item.endswith("L"):
        DAY_OF_WEEK.value(item[:-1])
        return
    day, hash_, nth = item.partition("#")
    if hash_:
        DAY_OF_WEEK.value(day)
        if nth not in ("1", "2", "3", "4", "5"):
            raise ValueError(f"day-of-week {item!r}: the week after # is 1 to 5")
        return
    _check_range(DAY_OF_WEEK, item)


def cron_fields(expression: str) -> tuple[str, ...]:
    """The six fields of an AWS ``cron(...)`` expression, checked; ValueError says what is wrong.

    Examples
    --------
    >>> cron_fields("cron(0 8 ? * MON-FRI *)")
    ('0', '8', '?', '*', 'MON-FRI', '*')
    >>> cron_fields("cron(0 8 * * MON-FRI *)")
    Traceback (most recent call last):
    ...
    ValueError: exactly one of day-of-month and day-of-week must be ?, got '*' and 'MON-FRI'
    """
    match = _CRON.match(expression)
    if match is None:
        raise ValueError(f"{expression!r} is not a cron(...) expression")
    fields = tuple(match.group(1).split())
    if len(fields) != len(FIELDS):
        raise ValueError(
            "a cron expression has six fields (minutes hours day-of-month month "
            f"day-of-week year), got {len(fields)}"
        )
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError(
            "exactly one of day-of-month and day-of-week must be ?, "
            f"got {day_of_month!r} and {day_of_week!r}"
        )
    for field, text in zip(FIELDS, fields, strict=True):
        if text == "?" and field in (DAY_OF_MONTH, DAY_OF_WEEK):
            continue
        for item in text.split(","):
            if field is DAY_OF_MONTH:
                _check_day_of_month(item)
            elif field is DAY_OF_WEEK:
                _check_day_of_week(item)
            else:
                _check_range(field, item)
    return fields


def _valid_cron(expression: str) -> str:
    cron_fields(expression)
    return expression


def _valid_timezone(name: str) -> str:
    # ZoneInfo also accepts file paths and legacy aliases; Scheduler takes IANA names.
    if name not in available_timezones():
        raise ValueError(f"{name!r} is not an IANA time zone, for example Europe/Paris")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise ValueError(f"{name!r} is not an IANA time zone") from None
    return name


#: The office hours of the examples: started at 08:00, stopped at 19:00 on weekdays.
OFFICE_HOURS_START = "cron(0 8 ? * MON-FRI *)"
OFFICE_HOURS_STOP = "cron(0 19 ? * MON-FRI *)"

CronExpression = Annotated[
    str,
    AfterValidator(_valid_cron),
    Field(
        max_length=256,
        description="An EventBridge Scheduler cron expression: cron(minutes hours "
        "day-of-month month day-of-week year), day-of-week 1-7 or SUN-SAT, and exactly one "
        "of day-of-month and day-of-week is ?.",
        examples=[OFFICE_HOURS_START],
    ),
]

TimeZone = Annotated[
    str,
    AfterValidator(_valid_timezone),
    Field(description="An IANA time zone the cron expressions are read in.", examples=["UTC"]),
]


class OperatingHours(BaseModel):
    """When an endpoint serves: it is stopped at ``stop`` and started again at ``start``.

    Outside its hours an endpoint has no instances (nothing to pay for hosting); its model
    and endpoint configuration are kept, and its autoscaling bounds come back with it.
    """

    model_config = REQUEST_CONFIG

    timezone: TimeZone = "UTC"
    # Examples of their own: one shared by both would make an example that flaps (refused).
    start: CronExpression = Field(
        description="When the endpoint is started again.", examples=[OFFICE_HOURS_START]
    )
    stop: CronExpression = Field(
        description="When the endpoint is stopped.", examples=[OFFICE_HOURS_STOP]
    )

    @model_validator(mode="after")
    def _start_and_stop_differ(self) -> Self:
        if self.start == self.stop:
            raise ValueError("start and stop are the same expression; the endpoint would flap")
        return self


#: Weekdays 08:00-19:00 in Paris: the example the docs and the API show.
OFFICE_HOURS_EXAMPLE = {
    "timezone": "Europe/Paris",
    "start": OFFICE_HOURS_START,
    "stop": OFFICE_HOURS_STOP,
}


class EndpointHoursRequest(BaseModel):
    """What an on/off-hours schedule sends: the endpoint to stop or to start."""

    model_config = REQUEST_CONFIG

    tenant_id: TenantId
    endpoint_name: EndpointName


class StopEndpointRequest(EndpointHoursRequest):
    """Stop an endpoint: delete it, keep its model and configuration. Stopped already: done."""


class StartEndpointRequest(EndpointHoursRequest):
    """Start a stopped endpoint from its kept configuration. In service already: done."""


__all__ = [
    "DAY_NAMES",
    "FIELDS",
    "MONTH_NAMES",
    "OFFICE_HOURS_EXAMPLE",
    "CronExpression",
    "CronField",
    "EndpointHoursRequest",
    "OperatingHours",
    "StartEndpointRequest",
    "StopEndpointRequest",
    "TimeZone",
    "cron_fields",
]
