"""CloudWatch's ``CloudWatch Alarm State Change`` event, as the idle limit's rule receives it.

AWS puts these on the account's default bus (source ``aws.cloudwatch``) for every state
change of every alarm. Only the fields the control plane reads are modelled; AWS may add
others, which are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from schemas.common import DOCUMENT_CONFIG

#: The event's source and detail-type, as CloudWatch sends them.
CLOUDWATCH_EVENT_SOURCE = "aws.cloudwatch"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
#: How CloudWatch writes a state's timestamp in its events (``2019-10-02T17:04:40.989+0000``).
STATE_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def format_state_timestamp(moment: datetime) -> str:
    """A time as CloudWatch writes it in alarm events: milliseconds, ``+0000``.

    Examples
    --------
    >>> format_state_timestamp(datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC))
    '2019-10-02T17:04:40.989+0000'
    """
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def parse_state_timestamp(timestamp: str) -> datetime:
    """A state timestamp from a CloudWatch event, as an aware datetime.

    Examples
    --------
    >>> parse_state_timestamp("2019-10-02T17:04:40.989+0000").isoformat()
    '2019-10-02T17:04:40.989000+00:00'
    """
    return datetime.strptime(timestamp, STATE_TIMESTAMP_FORMAT)


class AlarmStateValue(StrEnum):
    """The three states of a metric alarm."""

    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmState(BaseModel):
    """One side of a state change: the state, why, and when CloudWatch decided it."""

    model_config = DOCUMENT_CONFIG

    value: AlarmStateValue
    reason: str
    timestamp: str = Field(
        description="When the state was entered, as CloudWatch writes it "
        "(``2019-10-02T17:04:40.989+0000``); it tells two changes of one alarm apart."
    )
    reason_data: str | None = Field(default=None, alias="reasonData")


class AlarmStateChangeDetail(BaseModel):
    """The event's ``detail``."""

    model_config = DOCUMENT_CONFIG

    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=255)
    state: AlarmState
    previous_state: AlarmState = Field(alias="previousState")
    configuration: dict[str, Any] = Field(default_factory=dict)


class AlarmStateChange(BaseModel):
    """A ``CloudWatch Alarm State Change`` event; ``resources`` holds the alarm's ARN."""

    model_config = DOCUMENT_CONFIG

    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    time: AwareDatetime
    resources: list[str] = Field(min_length=1, max_length=1)
    detail: AlarmStateChangeDetail

    @property
    def alarm_arn(self) -> str:
        """The ARN of the alarm whose state changed."""
        return self.resources[0]


__all__ = [
    "ALARM_STATE_CHANGE",
    "CLOUDWATCH_EVENT_SOURCE",
    "STATE_TIMESTAMP_FORMAT",
    "AlarmState",
    "AlarmStateChange",
    "AlarmStateChangeDetail",
    "AlarmStateValue",
    "format_state_timestamp",
    "parse_state_timestamp",
]
