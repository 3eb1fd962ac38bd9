"""CloudWatch alarms on the local runtime: metric alarms that evaluate and announce it.

Why this exists: moto stores metric alarms and metric data but never evaluates an alarm, so
an alarm stays in the state it was created in and no ``CloudWatch Alarm State Change`` event
is ever put on the bus: an idle limit would never tear anything down locally. This adapter
evaluates the emulated account's metric alarms against the datapoints moto holds, as
CloudWatch does once a minute:

- the alarm's last ``EvaluationPeriods`` whole periods of ``Period`` seconds before the
  evaluation time are each reduced to one value with the alarm's ``Statistic`` (``Sum``,
  ``Average``, ``Minimum``, ``Maximum``, ``SampleCount``) over the datapoints of its
  namespace, metric name and exactly its dimensions (and its ``Unit``, when it names one);
- a period with a value breaches when the value compares to ``Threshold`` by the alarm's
  ``ComparisonOperator``; a period without one is treated by ``TreatMissingData``:
  ``breaching`` and ``notBreaching`` count it as such, ``ignore`` and ``missing`` leave it
  out, and when every period is missing, ``ignore`` keeps the state and ``missing`` (the
  default) goes to ``INSUFFICIENT_DATA``;
- ``DatapointsToAlarm`` (M, default ``EvaluationPeriods``) breaching periods make ``ALARM``,
  fewer make ``OK``;
- a state that differs from the alarm's is set in moto (reason, reason data, timestamp) and
  announced on the default bus, source ``aws.cloudwatch``, with the detail shape CloudWatch
  uses (``alarmName``, ``state``, ``previousState``, ``configuration``).

``GetMetricData`` answers percentile statistics (``p50``, ``p99.9``) as CloudWatch does for
metrics put as single values: moto answers only the five basic statistics and returns no
value for a percentile. A percentile here is the nearest-rank one over the period's values
(CloudWatch's own is an approximation of it); over datapoints put as ``StatisticValues`` there
is none, as in CloudWatch.

:meth:`LocalCloudWatch.evaluate` takes the evaluation time, so a test can judge an alarm
minutes ahead instead of waiting for them; the runtime also evaluates on a timer every
``LocalSettings.alarm_evaluation_seconds`` at the real time.

Not emulated, each a gap an alarm reports through :class:`UnsupportedAlarm` (the alarm is
left as it is, and :attr:`LocalCloudWatch.unsupported` says why): metric math
(``Metrics``), percentiles (``ExtendedStatistic``), anomaly-detection operators and
composite alarms. CloudWatch's wider evaluation range for ``missing``/``ignore`` (it looks
further back when too few datapoints are in the last periods) is not reproduced, nor its
ingestion delay, nor the metrics AWS services publish on their own: only what was put with
``PutMetricData`` (the local SageMaker endpoints put theirs, see :mod:`maas.local.inference`)
is evaluated. Alarm actions are not run; rules on the default bus are the way to react.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    MetricAggregatedDatum,
    MetricDatum,
    Statistics,
    cloudwatch_backends,
)

from maas.local.events import put_service_event
from maas.local.patching import replace
from schemas.alarms import (
    ALARM_STATE_CHANGE,
    CLOUDWATCH_EVENT_SOURCE,
    AlarmStateValue,
    format_state_timestamp,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager, ExitStack
    from typing import SupportsFloat

    from moto.cloudwatch.models import MetricDatumBase

logger = logging.getLogger(__name__)

#: ComparisonOperator -> whether a value breaches the threshold.
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
#: How AWS words each operator in a state reason.
_OPERATOR_WORDS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_STATISTICS = frozenset({"Sum", "Average", "Minimum", "Maximum", "SampleCount"})
_MISSING_TREATMENTS = frozenset({"breaching", "notBreaching", "ignore", "missing"})


_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


def percentile(values: Sequence[float], statistic: str) -> float | None:
    """The nearest-rank percentile ``statistic`` (``p50``, ``p99.9``) of ``values``.

    None when there are no values or ``statistic`` is not a percentile.

    Examples
    --------
    >>> percentile([4.0, 1.0, 3.0, 2.0], "p50"), percentile([4.0, 1.0, 3.0, 2.0], "p99")
    (2.0, 4.0)
    >>> percentile([], "p50") is None, percentile([1.0], "Average") is None
    (True, True)
    """
    matched = _PERCENTILE.match(statistic)
    if matched is None or not values:
        return None
    rank = math.ceil(float(matched.group(1)) / 100 * len(values))
    return sorted(values)[max(rank, 1) - 1]


def answer_percentiles() -> AbstractContextManager[Any]:
    """moto's metric statistics with percentiles too, until the returned context exits."""
    basic: Callable[[Statistics, str], SupportsFloat | None] = Statistics.get_statistics_for_type

    def statistic_of(self: Statistics, stat: str) -> SupportsFloat | None:
        if _PERCENTILE.match(stat):
            return percentile(self.metric_single_values_list, stat)
        return basic(self, stat)

    return replace(Statistics, "get_statistics_for_type", statistic_of)


class UnsupportedAlarm(NotImplementedError):
    """An alarm the local evaluator cannot judge; the message names the missing feature."""


@dataclass(frozen=True)
class AlarmTransition:
    """One alarm's change of state, as announced."""

    alarm_name: str
    previous: str
    state: str
    timestamp: datetime


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_supported(alarm: Alarm) -> None:
    if alarm.rule is not None:
        raise UnsupportedAlarm(f"{alarm.name}: composite alarms are not evaluated locally")
    if alarm.metric_data_queries:
        raise UnsupportedAlarm(f"{alarm.name}: metric math alarms are not evaluated locally")
    if alarm.extended_statistic or alarm.statistic not in _STATISTICS:
        statistic = alarm.extended_statistic or alarm.statistic
        raise UnsupportedAlarm(f"{alarm.name}: statistic {statistic} is not evaluated locally")
    if alarm.comparison_operator not in _OPERATORS:
        raise UnsupportedAlarm(
            f"{alarm.name}: operator {alarm.comparison_operator} is not evaluated locally"
        )
    if (alarm.treat_missing_data or "missing") not in _MISSING_TREATMENTS:
        raise UnsupportedAlarm(f"{alarm.name}: TreatMissingData {alarm.treat_missing_data}")


def _statistic(datapoints: Sequence[MetricDatumBase], statistic: str) -> float | None:
    """``statistic`` over one period's datapoints, or None when there are none."""
    values: list[float] = []
    sums = counts = 0.0
    minimum, maximum = float("inf"), float("-inf")
    for datum in datapoints:
        if isinstance(datum, MetricAggregatedDatum):
            sums += datum.sum
            counts += datum.sample_count
            minimum, maximum = min(minimum, datum.min), max(maximum, datum.max)
        elif isinstance(datum, MetricDatum):
            values.append(datum.value)
    sums += sum(values)
    counts += len(values)
    if counts == 0:
        return None
    if values:
        minimum, maximum = min(minimum, *values), max(maximum, *values)
    return {
        "Sum": sums,
        "SampleCount": counts,
        "Average": sums / counts,
        "Minimum": minimum,
        "Maximum": maximum,
    }[statistic]


def _datapoints_of(backend: CloudWatchBackend, alarm: Alarm) -> list[MetricDatumBase]:
    wanted = sorted((d.name, d.value) for d in alarm.dimensions)
    return [
        datum
        for datum in backend.metric_data
        if datum.namespace == alarm.namespace
        and datum.name == alarm.metric_name
        and sorted((d.name, d.value) for d in datum.dimensions) == wanted
        and (alarm.unit is None or datum.unit == alarm.unit)
    ]


@dataclass(frozen=True)
class _Judgement:
    state: str
    reason: str
    reason_data: dict[str, Any]


def judge(backend: CloudWatchBackend, alarm: Alarm, now: datetime) -> _Judgement | None:
    """The state ``alarm`` should be in at ``now``, or None to keep its state.

    Raises :class:`UnsupportedAlarm` for an alarm this evaluator cannot judge.
    """
    _check_supported(alarm)
    period = timedelta(seconds=alarm.period)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    end = epoch + period * ((now - epoch) // period)
    start = end - period * alarm.evaluation_periods
    datapoints = _datapoints_of(backend, alarm)
    values: list[float | None] = []
    for index in range(alarm.evaluation_periods):
        begins = start + period * index
        within = [d for d in datapoints if begins <= _aware(d.timestamp) < begins + period]
        values.append(_statistic(within, alarm.statistic))
    threshold = float(alarm.threshold)
    breaches = _OPERATORS[alarm.comparison_operator]
    treatment = alarm.treat_missing_data or "missing"
    present = [value for value in values if value is not None]
    missing = len(values) - len(present)
    reason_data = {
        "version": "1.0",
        "queryDate": format_state_timestamp(now),
        "startDate": format_state_timestamp(start),
        "statistic": alarm.statistic,
        "period": alarm.period,
        "recentDatapoints": list(reversed(present)),
        "threshold": threshold,
    }
    if not present and treatment in ("missing", "ignore"):
        if treatment == "ignore":
            return None
        return _Judgement(
            AlarmStateValue.INSUFFICIENT_DATA.value,
            f"Insufficient Data: {alarm.evaluation_periods} datapoints were unknown.",
            reason_data,
        )
    breaching = sum(1 for value in present if breaches(value, threshold))
    if treatment == "breaching":
        breaching += missing
    needed = alarm.datapoints_to_alarm or alarm.evaluation_periods
    state = AlarmStateValue.ALARM if breaching >= needed else AlarmStateValue.OK
    words = _OPERATOR_WORDS[alarm.comparison_operator]
    verdict = "was" if state is AlarmStateValue.ALARM else "was not"
    if present:
        shown = ", ".join(f"{value}" for value in reversed(present))
        reason = (
            f"Threshold Crossed: {len(present)} out of the last {alarm.evaluation_periods} "
            f"datapoints [{shown}] {verdict} {words} the threshold ({threshold})"
        )
    else:
        reason = f"Threshold Crossed: no datapoints were received for {missing} periods"
    if missing and treatment in ("breaching", "notBreaching"):
        treated = "Breaching" if treatment == "breaching" else "NonBreaching"
        reason += f" and {missing} missing datapoints were treated as [{treated}]"
    reason += f" (minimum {needed} datapoints for OK -> ALARM transition)."
    return _Judgement(state.value, reason, reason_data)


def _alarm_configuration(alarm: Alarm) -> dict[str, Any]:
    return {
        "description": alarm.description or "",
        "metrics": [
            {
                "id": "m1",
                "metricStat": {
                    "metric": {
                        "dimensions": {d.name: d.value for d in alarm.dimensions},
                        "name": alarm.metric_name,
                        "namespace": alarm.namespace,
                    },
                    "period": alarm.period,
                    "stat": alarm.statistic,
                },
                "returnData": True,
            }
        ],
    }


class LocalCloudWatch:
    """Evaluates the emulated account's metric alarms and announces their state changes.

    Parameters
    ----------
    clients
        Returns an in-process boto3 client for a service (events are put with it).
    account_id, region
        The emulated account.
    interval_seconds
        How often the timer evaluates, at the real time.
    """

    def __init__(
        self,
        clients: Callable[[str], Any],
        *,
        account_id: str,
        region: str,
        interval_seconds: float,
    ) -> None:
        self._clients = clients
        self._account_id = account_id
        self._region = region
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.unsupported: dict[str, str] = {}

    def install(self, stack: ExitStack) -> None:
        """Answer percentiles and evaluate on a timer until ``stack`` closes."""
        stack.enter_context(answer_percentiles())
        self._stopping.clear()
        timer = threading.Thread(target=self._run, name="cloudwatch-alarms", daemon=True)
        timer.start()
        stack.callback(self._stop, timer)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.evaluate()
            except Exception:  # the timer must outlive one bad evaluation
                logger.exception("local alarm evaluation failed")

    def _stop(self, timer: threading.Thread) -> None:
        self._stopping.set()
        timer.join(timeout=5)

    def evaluate(self, now: datetime | None = None) -> list[AlarmTransition]:
        """Judge every metric alarm at ``now`` (default: the real time); announce changes.

        Returns the state changes, in alarm-name order.
        """
        moment = _aware(now or datetime.now(UTC))
        backend = cloudwatch_backends[self._account_id][self._region]
        transitions = []
        with self._lock:
            for name in sorted(backend.alarms):
                alarm = backend.alarms.get(name)
                if alarm is None:
                    continue
                try:
                    verdict = judge(backend, alarm, moment)
                except UnsupportedAlarm as gap:
                    if name not in self.unsupported:
                        logger.warning("alarm left unevaluated: %s", gap)
                    self.unsupported[name] = str(gap)
                    continue
                if verdict is None or verdict.state == alarm.state_value:
                    continue
                transitions.append(self._change(alarm, verdict, moment))
        return transitions

    def _change(self, alarm: Alarm, verdict: _Judgement, moment: datetime) -> AlarmTransition:
        previous = {
            "value": alarm.state_value,
            "reason": alarm.state_reason,
            "reasonData": alarm.state_reason_data,
            "timestamp": format_state_timestamp(_aware(alarm.state_updated_timestamp)),
        }
        reason_data = json.dumps(verdict.reason_data)
        alarm.update_state(verdict.reason, reason_data, verdict.state)
        # moto keeps its timestamps naive, in UTC.
        alarm.state_updated_timestamp = moment.astimezone(UTC).replace(tzinfo=None)
        detail = {
            "alarmName": alarm.name,
            "state": {
                "value": verdict.state,
                "reason": verdict.reason,
                "reasonData": reason_data,
                "timestamp": format_state_timestamp(moment),
            },
            "previousState": previous,
            "configuration": _alarm_configuration(alarm),
        }
        put_service_event(
            self._clients("events"),
            source=CLOUDWATCH_EVENT_SOURCE,
            detail_type=ALARM_STATE_CHANGE,
            detail=detail,
            resources=[alarm.alarm_arn],
        )
        return AlarmTransition(alarm.name, previous["value"], verdict.state, moment)


__all__ = [
    "AlarmTransition",
    "LocalCloudWatch",
    "UnsupportedAlarm",
    "answer_percentiles",
    "judge",
    "percentile",
]
