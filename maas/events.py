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


def read_event_log(logs: Any, log_group: str) -> list[dict[str, Any]]:
    """Every event a rule copied to ``log_group``, oldest first (see the EventLogRule)."""
    entries: list[dict[str, Any]] = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group):
        entries.extend(page["events"])
    entries.sort(key=lambda entry: entry["timestamp"])
    return [json.loads(entry["message"]) for entry in entries]


__all__ = ["EventPublisher", "read_event_log"]
