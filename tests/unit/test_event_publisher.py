"""Events leave only when their detail fits its schema, and a refused event is an error."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from maas.events import EventPublisher, read_event_log
from maas.exceptions import EventNotPublished, ValidationError

DELETED = {
    "tenant_id": "acme",
    "correlation_id": "teardown-1",
    "endpoint_name": "chat",
    "endpoint_config_name": "chat-1",
    "model_name": "chat-1",
    "model_deleted": True,
}


def test_a_valid_detail_reaches_the_bus_and_its_rules(aws: None) -> None:
    events, logs = boto3.client("events"), boto3.client("logs")
    events.create_event_bus(Name="maas")
    logs.create_log_group(logGroupName="/maas/events")
    events.put_rule(Name="log", EventBusName="maas", EventPattern='{"source": ["maas"]}')
    events.put_targets(
        Rule="log",
        EventBusName="maas",
        Targets=[{"Id": "1", "Arn": "arn:aws:logs:us-east-1:123456789012:log-group:/maas/events"}],
    )
    event_id = EventPublisher("maas", events).publish("EndpointDeleted", DELETED, ["arn:x"])
    [logged] = read_event_log(logs, "/maas/events")
    assert logged["id"] == event_id
    assert logged["detail-type"] == "EndpointDeleted"
    assert logged["source"] == "maas"
    assert logged["detail"] == DELETED


def test_an_unknown_detail_type_is_refused_listing_the_known_ones(aws: None) -> None:
    with pytest.raises(ValidationError, match="detail_type: unknown 'EndpointExploded'; known: "):
        EventPublisher("maas", boto3.client("events")).publish("EndpointExploded", DELETED)


def test_a_detail_that_breaks_its_schema_is_refused_naming_the_field(aws: None) -> None:
    detail = {key: value for key, value in DELETED.items() if key != "correlation_id"}
    with pytest.raises(ValidationError, match="correlation_id: Field required"):
        EventPublisher("maas", boto3.client("events")).publish("EndpointDeleted", detail)


def test_an_entry_eventbridge_refuses_raises_event_not_published() -> None:
    events = boto3.client("events", region_name="us-east-1")
    with Stubber(events) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}],
            },
        )
        with pytest.raises(EventNotPublished, match="EndpointDeleted: ThrottlingException"):
            EventPublisher("maas", events).publish("EndpointDeleted", DELETED)


def test_the_detail_is_sent_as_the_models_json() -> None:
    events = boto3.client("events", region_name="us-east-1")
    with Stubber(events) as stub:
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]},
            {
                "Entries": [
                    {
                        "Source": "maas",
                        "DetailType": "EndpointDeleted",
                        "Detail": json.dumps(DELETED, separators=(",", ":")),
                        "Resources": [],
                        "EventBusName": "maas",
                    }
                ]
            },
        )
        assert EventPublisher("maas", events).publish("EndpointDeleted", DELETED) == "e-1"
