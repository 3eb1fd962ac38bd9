"""``DELETE``s of one endpoint at once: one teardown, which succeeds, answered to each.

Each ``DELETE`` carries its own Idempotency-Key, as the SDK sends a fresh one per call. Before,
each started a teardown; the later one took the record over and the first failed ("owned by
execution ..."), so a deleted endpoint was reported as a failed teardown.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tests.local.support import wait_until
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from maas.local import LocalRuntime
    from tests.api.caller import Answer, ApiCaller

RACERS = 3


def _deployed(runtime: LocalRuntime, api: ApiCaller, name: str) -> None:
    version = register_version(runtime, f"{name}-model").version
    body = {"endpoint_name": name, "model": {"model_name": f"{name}-model", "version": version}}
    assert api("POST", "/v1/endpoints", body=body).status == 202
    wait_until(
        lambda: api("GET", f"/v1/endpoints/{name}").body.get("status") == "IN_SERVICE",
        timeout=60,
        interval=0.2,
    )


def _finished(api: ApiCaller, answer: Answer) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        execution: dict[str, Any] = api("GET", answer.headers["location"]).body
        return execution if execution["status"] != "RUNNING" else None

    finished: dict[str, Any] = wait_until(done, timeout=60, interval=0.2)
    return finished


def test_deletes_at_once_share_one_teardown_that_succeeds(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    _deployed(runtime, api, "raced")

    def delete(index: int) -> Answer:
        return api("DELETE", "/v1/endpoints/raced", headers={"Idempotency-Key": f"delete-{index}"})

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(delete, range(RACERS)))

    assert [answer.status for answer in answers] == [202] * RACERS, [a.body for a in answers]
    assert len({answer.body["execution_name"] for answer in answers}) == 1
    assert sum(answer.body["started"] for answer in answers) >= 1
    execution = _finished(api, answers[0])
    assert execution["status"] == "SUCCEEDED", execution
    record = api("GET", "/v1/endpoints/raced").body
    assert record["status"] == "DELETED"
    assert record.get("failure_reason") is None
    teardowns = runtime.client("stepfunctions").list_executions(
        stateMachineArn=runtime.state_machine_arn("Teardown")
    )["executions"]
    assert [item["status"] for item in teardowns] == ["SUCCEEDED"]
    assert api("DELETE", "/v1/endpoints/raced").status == 404


def test_a_delete_while_the_teardown_runs_answers_that_teardown(
    runtime: LocalRuntime, api: ApiCaller
) -> None:
    _deployed(runtime, api, "twice")

    first = api("DELETE", "/v1/endpoints/twice")
    # Once the teardown holds the record, as a later DELETE finds it.
    wait_until(
        lambda: api("GET", "/v1/endpoints/twice").body["status"] in {"DELETING", "DELETED"},
        timeout=30,
        interval=0.05,
    )
    second = api("DELETE", "/v1/endpoints/twice")

    assert first.status == 202
    if second.status == 202:  # the teardown still ran: the second is answered with it
        assert second.body["execution_name"] == first.body["execution_name"]
        assert second.body["started"] is False
    else:  # it had finished: the endpoint is gone
        assert second.status == 404, second.body
    assert _finished(api, first)["status"] == "SUCCEEDED"
