"""EventBridge ``TestEventPattern`` on the local runtime, as AWS documents it.

https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html:
the answer is ``{"Result": boolean}``; the event must carry the envelope's fields. The
patterns follow https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
and https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.local.support import unique

if TYPE_CHECKING:
    from maas.local import LocalRuntime

#: The API reference's own example event.
EVENT: dict[str, Any] = {
    "id": "e00c66cb-fe7a-4fcc-81ad-58eb60f5d96b",
    "detail-type": "myDetailType",
    "source": "com.mycompany.myapp",
    "account": "123456789012",
    "time": "2016-01-10T01:29:23Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:event-bus/default"],
    "detail": {"key1": "value1", "key2": "value2", "size": 12, "state": "running"},
}


def _test(runtime: LocalRuntime, pattern: dict[str, Any], event: dict[str, Any] = EVENT) -> Any:
    answer = runtime.client("events").test_event_pattern(
        EventPattern=json.dumps(pattern), Event=json.dumps(event)
    )
    return answer["Result"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["com.mycompany.myapp"]}, True),  # the API reference's example
        ({"source": ["com.mycompany.other"]}, False),
        ({"detail-type": ["myDetailType"], "detail": {"key1": ["value1"]}}, True),
        ({"detail": {"key1": ["value2"]}}, False),
        ({"detail": {"missing": ["x"]}}, False),
        ({"detail": {"size": [{"numeric": [">", 10, "<=", 12]}]}}, True),
        ({"detail": {"size": [{"numeric": [">", 12]}]}}, False),
        ({"detail": {"state": [{"prefix": "run"}]}}, True),
        ({"detail": {"state": [{"anything-but": "running"}]}}, False),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"resources": ["arn:aws:events:us-east-1:123456789012:event-bus/default"]}, True),
    ],
)
def test_test_event_pattern_answers_whether_the_pattern_matches(
    runtime: LocalRuntime, pattern: dict[str, Any], expected: bool
) -> None:
    assert _test(runtime, pattern) is expected


@pytest.mark.parametrize("field", ["id", "account", "source", "time", "region", "detail-type"])
def test_an_event_without_an_envelope_field_is_not_valid(runtime: LocalRuntime, field: str) -> None:
    event = {key: value for key, value in EVENT.items() if key != field}

    with pytest.raises(ClientError) as raised:
        _test(runtime, {"source": ["com.mycompany.myapp"]}, event)

    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        "Parameter Event is not valid.",
    )


def test_an_event_that_is_not_json_is_not_valid(runtime: LocalRuntime) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.client("events").test_event_pattern(
            EventPattern=json.dumps({"source": ["a"]}), Event="{not json"
        )

    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_a_pattern_put_rule_refuses_is_refused_the_same_way(runtime: LocalRuntime) -> None:
    events = runtime.client("events")
    bad = json.dumps({"source": "com.mycompany.myapp"})  # a value must be an array

    with pytest.raises(ClientError) as tested:
        events.test_event_pattern(EventPattern=bad, Event=json.dumps(EVENT))
    with pytest.raises(ClientError) as put:
        events.put_rule(Name=unique("bad-pattern"), EventPattern=bad)

    assert tested.value.response["Error"] == put.value.response["Error"]
    assert tested.value.response["Error"]["Code"] == "InvalidEventPatternException"


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": ["maas.conformance"], "detail": {"size": [{"numeric": [">", 10]}]}},
        {"source": ["maas.conformance"], "detail": {"size": [{"numeric": [">", 20]}]}},
        {"source": ["maas.conformance"], "detail": {"state": [{"prefix": "stop"}]}},
    ],
)
def test_a_pattern_tests_true_exactly_when_a_rule_with_it_delivers(
    runtime: LocalRuntime, pattern: dict[str, Any]
) -> None:
    """The answer comes from the matcher that decides local rules' deliveries."""
    events, logs = runtime.client("events"), runtime.client("logs")
    group = f"/aws/events/{unique('pattern')}"
    logs.create_log_group(logGroupName=group)
    rule = unique("pattern")
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    account, region = runtime.settings.account_id, runtime.settings.region
    events.put_targets(
        Rule=rule,
        Targets=[{"Id": "log", "Arn": f"arn:aws:logs:{region}:{account}:log-group:{group}"}],
    )
    detail = EVENT["detail"]
    # moto hands an event to a log group target before PutEvents answers.
    events.put_events(
        Entries=[{"Source": "maas.conformance", "DetailType": "x", "Detail": json.dumps(detail)}]
    )
    delivered = logs.filter_log_events(logGroupName=group)["events"]

    tested = _test(runtime, pattern, {**EVENT, "source": "maas.conformance", "detail": detail})
    assert tested is bool(delivered)
