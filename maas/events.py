"""Publish the control plane's events on its bus, each detail checked against its schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from maas.exceptions import EventNotPublished, ValidationError
from maas.validation import parse
from schemas import EVENT_DETAIL_MODELS, EVENT_SOURCE

if TYPE_CHECKING:
    from collections.abc import Sequence


class EventPublisher:
    """Puts ``maas`` events on one bus.

    Parameters
    ----------
    event_bus_name
        The custom bus (name or ARN).
    events
        A boto3 EventBridge client.

    Examples
    --------
    .. code-block:: python

        publisher = EventPublisher("maas", boto3.client("events"))
        event_id = publisher.publish("EndpointDeleted", detail)
    """

    def __init__(self, event_bus_name: str, events: Any) -> None:
        self.event_bus_name = event_bus_name
        self._events = events

    def publish(
        self, detail_type: str, detail: dict[str, Any], resources: Sequence[str] = ()
    ) -> str:
        """Validate ``detail`` as ``detail_type``'s model, publish it, return the event id."""
        model = EVENT_DETAIL_MODELS.get(detail_type)
        if model is None:
            known = ", ".join(sorted(EVENT_DETAIL_MODELS))
            raise ValidationError(f"detail_type: unknown {detail_type!r}; known: {known}")
        body = parse(model, detail).model_dump_json()
        response = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": body,
                    "Resources": list(resources),
                    "EventBusName": self.event_bus_name,
                }
            ]
        )
        entry = response["Entries"][0]
        if response.get("FailedEntryCount") or "EventId" not in entry:
            raise EventNotPublished(
                f"{detail_type}: {entry.get('ErrorCode', 'unknown')}: {entry.get('ErrorMessage')}"
            )
        return str(entry["EventId"])


def read_event_log(
    logs: Any, log_group: str, *, since_ms: int | None = None, until_ms: int | None = None
) -> list[dict[str, Any]]:
    """Every event a rule copied to ``log_group``, oldest first (see the EventLogRule).

    ``since_ms`` and ``until_ms`` (epoch milliseconds) bound what is read.
    """
    window = {"startTime": since_ms, "endTime": until_ms}
    arguments = {key: value for key, value in window.items() if value is not None}
    entries: list[dict[str, Any]] = []
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=log_group, **arguments)
    for page in pages:
        entries.extend(page["events"])
    entries.sort(key=lambda entry: entry["timestamp"])
    return [json.loads(entry["message"]) for entry in entries]


def log_group_name(log_group_arn: str) -> str:
    """The name in a log group's ARN (with or without CloudFormation's ``:*`` suffix).

    Examples
    --------
    >>> log_group_name("arn:aws:logs:eu-west-1:123456789012:log-group:/maas/dev/events:*")
    '/maas/dev/events'
    """
    return log_group_arn.split(":log-group:", 1)[1].removesuffix(":*")


__all__ = ["EventPublisher", "log_group_name", "read_event_log"]
