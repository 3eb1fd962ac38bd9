"""EventBridge on the local runtime: rules deliver to Step Functions and Lambda targets.

Why this exists: moto matches events against rules (with its own event-pattern matcher,
which stays the judge here) but delivers only to CloudWatch Logs, SQS, archives, other
buses and API destinations; a rule whose target is a state machine or a function raises.
This adapter delivers those two kinds as EventBridge does: the target's ``Input``,
``InputPath`` or ``InputTransformer`` shapes the event, a state machine target starts an
execution with a generated name, a function target is invoked asynchronously. Every other
target is left to moto. A disabled rule delivers to no target (moto's would).

Deliveries that fail are kept in :attr:`LocalEventBridge.failed_deliveries` (the dead-letter
queues of rules arrive with the lifecycle work).

moto does not implement ``TestEventPattern`` (it answers an empty body, with no ``Result``);
:func:`event_pattern_matches` answers it with the matcher rules use here, so a pattern
tested locally matches exactly the events a local rule would deliver.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from jsonpath_ng.ext.parser import parse
from moto.events.exceptions import ValidationException
from moto.events.models import EventPattern, Rule
from moto.events.responses import EventsHandler
from moto.stepfunctions.responses import get_backend as stepfunctions_backend

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

    from moto.events.utils import EventMessageType

logger = logging.getLogger(__name__)


#: The account's default bus: where AWS services put their own events.
DEFAULT_EVENT_BUS = "default"


def put_service_event(
    events: Any, *, source: str, detail_type: str, detail: dict[str, Any], resources: list[str]
) -> None:
    """Put an event on the default bus as the AWS service ``source`` would.

    The local adapters that emulate a service (SageMaker, Batch, CloudWatch) announce their
    state changes through this, so rules on the default bus hear them as they would on AWS.
    ``events`` is an in-process EventBridge client.
    """
    answer = events.put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "Resources": resources,
                "EventBusName": DEFAULT_EVENT_BUS,
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"{source} {detail_type} was not put on the bus: {answer['Entries']}")


@dataclass(frozen=True)
class FailedDelivery:
    """An event a rule matched but could not hand to its target."""

    rule: str
    target_arn: str
    error: str


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What EventBridge hands the target: the event, or what the target asks for instead."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        matches = parse(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    if "InputTransformer" in target:
        # Not moto's EventTemplateParser: it reads the ``ingestion-time`` that targets do not
        # get, and pastes a string outside quotes as bare text, which is not JSON.
        transformer = target["InputTransformer"]
        values: dict[str, Any] = {
            "aws.events.event": {key: value for key, value in event.items() if key != "detail"},
            "aws.events.event.json": event,
            # Delivery here is immediate: the event's time stands for its ingestion time.
            "aws.events.event.ingestion-time": event.get("time"),
        }
        for name, path in transformer.get("InputPathsMap", {}).items():
            matches = parse(path).find(event)
            values[name] = matches[0].value if matches else None
        filled = _fill_template(transformer["InputTemplate"], values)
        try:
            return json.loads(filled)
        except ValueError:
            return filled  # a plain-text template: the target gets the text
    return event


#: The fields TestEventPattern requires of its event. The API reference lists ``resources``
#: too, but AWS accepts an event without it (LocalStack's tests, validated against AWS,
#: found so), and rejecting what AWS accepts would be the less faithful error.
_REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def event_pattern_matches(event_pattern: str, event: str) -> bool:
    """TestEventPattern: whether ``event_pattern`` matches ``event`` (both JSON text).

    https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html.
    A pattern that ``PutRule`` would refuse is refused the same way
    (``InvalidEventPatternException``); an event that is not JSON, or lacks one of the
    envelope's fields, is ``ValidationException`` "Parameter Event is not valid.", as AWS.
    """
    pattern = EventPattern.load(event_pattern)
    try:
        parsed = json.loads(event)
    except ValueError as exc:
        raise ValidationException("Parameter Event is not valid.") from exc
    if not isinstance(parsed, dict) or any(f not in parsed for f in _REQUIRED_EVENT_FIELDS):
        raise ValidationException("Parameter Event is not valid.")
    return pattern.matches_event(cast("EventMessageType", parsed))


def _test_event_pattern(handler: EventsHandler) -> tuple[str, dict[str, Any]]:
    matched = event_pattern_matches(handler._get_param("EventPattern"), handler._get_param("Event"))
    return json.dumps({"Result": matched}), handler.response_headers


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


def _fill_template(template: str, values: dict[str, Any]) -> str:
    """``template`` with each ``<name>`` filled as EventBridge does.

    Outside a JSON string a placeholder becomes its value as JSON (``{"id": <id>}`` gives
    ``{"id": "i-1"}``); inside one, or in a plain-text template, it becomes the value's text
    (``"<id> is <state>"`` gives ``"i-1 is running"``).
    """
    json_template = template.lstrip().startswith(("{", "[", '"'))
    filled: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(template):
        char = template[index]
        match = _PLACEHOLDER.match(template, index) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if json_template and not in_string:
                filled.append(json.dumps(value))
            else:
                text = value if isinstance(value, str) else json.dumps(value)
                filled.append(json.dumps(text)[1:-1] if json_template else text)
            index = match.end()
            continue
        if escaped:
            escaped = False
        elif in_string and char == "\\":
            escaped = True
        elif json_template and char == '"':
            in_string = not in_string
        filled.append(char)
        index += 1
    return "".join(filled)


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    # moto keeps ``time`` as epoch seconds and an ``ingestion-time``; targets get ISO time.
    delivered = {key: value for key, value in event.items() if key != "ingestion-time"}
    if isinstance(delivered.get("time"), int | float):
        delivered["time"] = datetime.fromtimestamp(delivered["time"], UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    return delivered


class LocalEventBridge:
    """Delivers matched events to state machines and functions.

    Parameters
    ----------
    invoke_function
        Runs a function asynchronously given its ARN and the event.
    """

    def __init__(self, invoke_function: Callable[[str, Any], Any]) -> None:
        self._invoke_function = invoke_function
        self.failed_deliveries: list[FailedDelivery] = []

    def install(self, stack: ExitStack) -> None:
        """Route state machine and function targets here until ``stack`` closes."""
        original: Callable[..., None] = Rule.send_to_targets
        local = self

        def send_to_targets(
            rule: Rule, original_event: dict[str, Any], transform_input: bool = True
        ) -> None:
            if rule.state != "ENABLED":
                return  # moto delivers for a disabled rule too; EventBridge does not
            ours = [t for t in rule.targets if _service(t["Arn"]) in ("states", "lambda")]
            if len(ours) < len(rule.targets):
                others = copy.copy(rule)
                others.targets = [t for t in rule.targets if t not in ours]
                original(others, original_event, transform_input)
            if ours and rule.event_pattern.matches_event(cast("EventMessageType", original_event)):
                event = _as_delivered(original_event)
                for target in ours:
                    local._deliver(rule, target, event)

        stack.enter_context(replace(Rule, "send_to_targets", send_to_targets))
        stack.enter_context(replace(EventsHandler, "test_event_pattern", _test_event_pattern))

    def _deliver(self, rule: Rule, target: dict[str, Any], event: dict[str, Any]) -> None:
        arn = target["Arn"]
        try:
            payload = target_input(target, event)
            if _service(arn) == "states":
                _, _, _, region, account, *_ = arn.split(":")
                # EventBridge names the execution itself, with a UUID.
                stepfunctions_backend(account, region).start_execution(
                    arn, name=str(uuid.uuid4()), execution_input=json.dumps(payload)
                )
            else:
                threading.Thread(
                    target=self._invoke_function, args=(arn, payload), daemon=True
                ).start()
        except Exception as exc:
            logger.warning("rule %s could not deliver to %s: %s", rule.name, arn, exc)
            self.failed_deliveries.append(FailedDelivery(rule.name, arn, repr(exc)))


def _service(arn: str) -> str:
    return arn.split(":", 3)[2]


__all__ = [
    "DEFAULT_EVENT_BUS",
    "FailedDelivery",
    "LocalEventBridge",
    "event_pattern_matches",
    "put_service_event",
    "target_input",
]
