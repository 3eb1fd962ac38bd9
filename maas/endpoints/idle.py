"""The idle limit: an endpoint whose idle alarm went off is torn down, once.

The alarm (``maas.endpoints.plan.idle_alarm_plan``) has no actions; CloudWatch puts its state
changes on the default bus and a rule hands those that enter ``ALARM`` here. This decides
whether the change really means "idle for the limit" and, if so, starts ``teardown``:

- which endpoint: read from the alarm's ``maas:tenant`` and ``maas:endpoint`` tags, never
  parsed from its name;
- only the endpoint's current idle limit acts: an alarm the record does not name (a
  redeployment without the limit, another tenant's namesake) or an endpoint that is not
  ``IN_SERVICE`` (gone, being deleted, stopped, changing) is a logged no-op;
- an alarm judges its last ``EvaluationPeriods`` minutes, including minutes before it existed
  (or before the endpoint served), and SageMaker reports nothing for them, so a fresh alarm
  goes off at its first evaluation. A change that came sooner than the limit after the alarm
  was put or the record last changed (in service, started again, scaled) is set back to
  ``OK``: CloudWatch evaluates again a minute later and the alarm goes off again, until the
  endpoint has truly been idle for the limit;
- once per state change: the teardown's execution name derives from the alarm and the time
  of the change, so a second delivery of the same event starts nothing
  (``ExecutionAlreadyExists``, or the running execution for identical input).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from maas.aws import error_code
from maas.exceptions import NotFound
from maas.naming import idle_teardown_execution_name
from schemas import EndpointStatus, TeardownRequest
from schemas.alarms import AlarmStateValue, parse_state_timestamp
from schemas.aws_events import ENDPOINT_TAG, TENANT_TAG

if TYPE_CHECKING:
    from datetime import datetime

    from maas.endpoints.records import EndpointRegistry
    from schemas import EndpointRecord
    from schemas.alarms import AlarmStateChange


class IdleOutcome(StrEnum):
    """What became of one idle alarm state change."""

    #: A teardown was started.
    TEARDOWN_STARTED = "teardown_started"
    #: The teardown of this very state change already runs or ran (a redelivery).
    TEARDOWN_ALREADY_STARTED = "teardown_already_started"
    #: The alarm went off sooner than the limit after it was put: set back to OK.
    REARMED = "rearmed"
    #: Nothing to do; ``reason`` says why.
    IGNORED = "ignored"


@dataclass(frozen=True)
class IdleResult:
    """The outcome, the endpoint concerned (when known) and why."""

    outcome: IdleOutcome
    reason: str
    tenant_id: str | None = None
    endpoint_name: str | None = None
    execution_arn: str | None = None


def _premature(alarm: dict[str, Any], changed_at: datetime, recorded_at: datetime) -> str | None:
    """Why a state change came too soon to mean idle for the limit, or None.

    ``alarm`` is the alarm as DescribeAlarms answers it; ``recorded_at`` when the endpoint's
    record last changed (it came into service, started again, was scaled): the idle time
    counts from the later of that and the alarm's last configuration.
    """
    watched = alarm["Period"] * alarm["EvaluationPeriods"]
    since = max(alarm["AlarmConfigurationUpdatedTimestamp"], recorded_at)
    served = (changed_at - since).total_seconds()
    if served >= watched:
        return None
    return (
        f"maas: the alarm judged {watched} seconds but the endpoint has served for "
        f"{int(served)} seconds; evaluated again until it has been idle that long"
    )


class IdleTeardown:
    """Turns idle alarm state changes into teardowns.

    Parameters
    ----------
    cloudwatch, stepfunctions
        boto3 clients.
    registry
        The endpoint registry (reads only).
    teardown_state_machine_arn
        The ``teardown`` workflow.
    """

    def __init__(
        self,
        *,
        cloudwatch: Any,
        stepfunctions: Any,
        registry: EndpointRegistry,
        teardown_state_machine_arn: str,
    ) -> None:
        self._cloudwatch = cloudwatch
        self._stepfunctions = stepfunctions
        self._registry = registry
        self._teardown_arn = teardown_state_machine_arn

    def handle(self, change: AlarmStateChange) -> IdleResult:
        """Start the teardown the state change calls for, or say why there is none."""
        alarm_name = change.detail.alarm_name
        record = self._endpoint_to_tear_down(change)
        if isinstance(record, IdleResult):
            return record
        about = {"tenant_id": record.tenant_id, "endpoint_name": record.endpoint_name}
        alarms = self._cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
        if not alarms:
            return IdleResult(IdleOutcome.IGNORED, f"alarm {alarm_name} was deleted", **about)
        premature = _premature(
            alarms[0], parse_state_timestamp(change.detail.state.timestamp), record.updated_at
        )
        if premature is not None:
            self._cloudwatch.set_alarm_state(
                AlarmName=alarm_name, StateValue=AlarmStateValue.OK.value, StateReason=premature
            )
            return IdleResult(IdleOutcome.REARMED, premature, **about)
        return self._start_teardown(alarm_name, change.detail.state.timestamp, **about)

    def _endpoint_to_tear_down(self, change: AlarmStateChange) -> EndpointRecord | IdleResult:
        """The record of the endpoint whose idle limit went off, or why nothing is to be done."""
        alarm_name = change.detail.alarm_name
        if change.detail.state.value is not AlarmStateValue.ALARM:
            return IdleResult(IdleOutcome.IGNORED, f"alarm {alarm_name} is not in ALARM")
        tags = self._alarm_tags(change.alarm_arn)
        tenant_id, endpoint_name = tags.get(TENANT_TAG), tags.get(ENDPOINT_TAG)
        if tenant_id is None or endpoint_name is None:
            return IdleResult(
                IdleOutcome.IGNORED, f"alarm {alarm_name} has no {TENANT_TAG}/{ENDPOINT_TAG} tags"
            )
        about = {"tenant_id": tenant_id, "endpoint_name": endpoint_name}
        try:
            record = self._registry.get(tenant_id, endpoint_name)
        except NotFound:
            return IdleResult(IdleOutcome.IGNORED, "the endpoint has no record", **about)
        if record.idle_alarm_name != alarm_name:
            return IdleResult(
                IdleOutcome.IGNORED, f"the endpoint's idle limit is not alarm {alarm_name}", **about
            )
        if record.status is not EndpointStatus.IN_SERVICE:
            return IdleResult(IdleOutcome.IGNORED, f"the endpoint is {record.status}", **about)
        return record

    def _alarm_tags(self, alarm_arn: str) -> dict[str, str]:
        try:
            tags = self._cloudwatch.list_tags_for_resource(ResourceARN=alarm_arn)["Tags"]
        except Exception as exc:
            if error_code(exc) not in ("ResourceNotFoundException", "ResourceNotFound"):
                raise
            return {}  # deleted since: teardown has run
        return {tag["Key"]: tag["Value"] for tag in tags}

    def _start_teardown(
        self, alarm_name: str, changed_at: str, *, tenant_id: str, endpoint_name: str
    ) -> IdleResult:
        name = idle_teardown_execution_name(alarm_name, changed_at)
        request = TeardownRequest(tenant_id=tenant_id, endpoint_name=endpoint_name)
        document = json.dumps(request.model_dump(mode="json"), sort_keys=True)
        about = {"tenant_id": tenant_id, "endpoint_name": endpoint_name}
        try:
            response = self._stepfunctions.start_execution(
                stateMachineArn=self._teardown_arn, name=name, input=document
            )
        except Exception as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise
            arn = self._teardown_arn.replace(":stateMachine:", ":execution:") + f":{name}"
            return IdleResult(
                IdleOutcome.TEARDOWN_ALREADY_STARTED,
                f"alarm {alarm_name} already started teardown {name}",
                execution_arn=arn,
                **about,
            )
        return IdleResult(
            IdleOutcome.TEARDOWN_STARTED,
            f"idle for the limit of alarm {alarm_name}",
            execution_arn=str(response["executionArn"]),
            **about,
        )


__all__ = [
    "ENDPOINT_TAG",
    "IdleOutcome",
    "IdleResult",
    "IdleTeardown",
]
