"""The stage's throttle and usage plans on the local API, from the stack's own configuration.

What API Gateway answers, by its documentation:

- past a throttle (the stage's, or a usage plan's): ``429 {"message":"Too Many Requests"}``
  (THROTTLED; token buckets of rate and burst,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html);
- without a valid API key where a usage plan requires one: ``403 {"message":"Forbidden"}``
  (API_KEY_INVALID); past a plan's quota: ``429 {"message":"Limit Exceeded"}``
  (QUOTA_EXCEEDED,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html).

``maas local up`` reads the limits from the same ``cdk.json`` stage the stack deploys
(``stacks.config.StageConfig.api`` is :class:`maas.api_limits.ApiConfig`).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from typing import TYPE_CHECKING, Any

import pytest
import typer

from maas.api_limits import ApiConfig, TenantPlan, stage_api_config
from maas.cli.local_lifecycle import CDK_JSON_VARIABLE, stage_api
from maas.local.apigateway_limits import GatewayLimits
from stacks import config as stack_config
from tests.local.support import wait_until
from tests.local.test_conformance_local_up import MAAS, _environment, _free_port
from tests.local.test_local_apigateway import (  # noqa: F401 - the module's fixtures
    call,
    invocations,
    serve,
    token,
    tokens,
)
from tests.local.test_local_apigateway_routes import ROUTES

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from maas.local.apigateway import LocalApiGateway

#: A stage whose API is throttled hard, with one tenant's plan of 3 requests a day.
STAGE = {
    "api": {
        "rate_limit": 0.5,
        "burst_limit": 3,
        "tenant_plans": {"acme": {"rate_limit": 0.5, "burst_limit": 4, "requests_per_day": 3}},
    }
}


def _headers(token: str, key: str | None = None) -> list[tuple[str, str]]:  # noqa: F811
    headers = [("Authorization", f"Bearer {token}")]
    return [*headers, ("x-api-key", key)] if key is not None else headers


def test_the_stack_and_the_local_api_read_one_configuration() -> None:
    # One definition (no copy of the numbers): the stack's StageConfig.api is this model.
    assert stack_config.ApiConfig is ApiConfig
    assert stack_config.TenantPlan is TenantPlan
    stage = stack_config.StageConfig.resolve({"maas:stage": "t", "maas:stages": {"t": STAGE}}).api
    assert stage == stage_api_config({"maas:stage": "t", "maas:stages": {"t": STAGE}})
    assert stage_api_config({"maas:stages": {"dev": {}}}) == ApiConfig()


def test_local_up_reads_the_stage_of_cdk_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cdk_json = tmp_path / "cdk.json"
    context = {"maas:stage": "t", "maas:stages": {"t": STAGE, "dev": {}}}
    cdk_json.write_text(json.dumps({"context": context}))
    monkeypatch.setenv(CDK_JSON_VARIABLE, str(cdk_json))

    assert stage_api(None).rate_limit == 0.5
    assert stage_api("dev") == ApiConfig()
    with pytest.raises(typer.BadParameter, match="'prod' is not a stage"):
        stage_api("prod")
    monkeypatch.setenv(CDK_JSON_VARIABLE, str(tmp_path / "missing.json"))
    assert stage_api(None) == ApiConfig()  # no cdk.json: the defaults the stack gives


def test_the_stage_throttle_is_429_too_many_requests(
    serve: Callable[..., LocalApiGateway],  # noqa: F811
    token: str,  # noqa: F811
) -> None:
    limits = GatewayLimits.from_config(ApiConfig(rate_limit=0.5, burst_limit=2))
    url = serve("api_echo", routes=ROUTES, limits=limits).url

    statuses = [call(url, "GET", "/v1/things", _headers(token)).status for _ in range(3)]
    throttled = call(url, "GET", "/v1/things", _headers(token))

    assert statuses == [200, 200, 429]
    assert throttled.status == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    assert throttled.header("x-amzn-ErrorType") == ["TooManyRequestsException"]


def test_with_usage_plans_a_call_needs_a_tenant_s_api_key(
    serve: Callable[..., LocalApiGateway],  # noqa: F811
    token: str,  # noqa: F811
) -> None:
    limits = GatewayLimits.from_config(
        ApiConfig(tenant_plans={"acme": TenantPlan()}), keys={"acme": "k" * 40}
    )
    url = serve("api_echo", routes=ROUTES, limits=limits).url

    missing = call(url, "GET", "/v1/things", _headers(token))
    unknown = call(url, "GET", "/v1/things", _headers(token, "x" * 40))
    known = call(url, "GET", "/v1/things", _headers(token, "k" * 40))

    for refused in (missing, unknown):
        assert refused.status == 403
        assert refused.json() == {"message": "Forbidden"}
        assert refused.header("x-amzn-ErrorType") == ["ForbiddenException"]
    assert known.status == 200
    assert limits.api_keys == {"acme": "k" * 40}


def test_a_plan_s_throttle_and_daily_quota_are_its_own(
    serve: Callable[..., LocalApiGateway],  # noqa: F811
    token: str,  # noqa: F811
) -> None:
    plans = {
        "acme": TenantPlan(rate_limit=0.5, burst_limit=2),
        "beta": TenantPlan(rate_limit=100, burst_limit=100, requests_per_day=2),
    }
    limits = GatewayLimits.from_config(ApiConfig(tenant_plans=plans))
    keys = limits.api_keys
    url = serve("api_echo", routes=ROUTES, limits=limits).url

    acme = [call(url, "GET", "/v1/things", _headers(token, keys["acme"])) for _ in range(3)]
    beta = [call(url, "GET", "/v1/things", _headers(token, keys["beta"])) for _ in range(3)]

    assert [answer.status for answer in acme] == [200, 200, 429]
    assert acme[2].json() == {"message": "Too Many Requests"}
    # acme's throttle is not beta's; beta's quota of 2 a day is spent by its third call.
    assert [answer.status for answer in beta] == [200, 200, 429]
    assert beta[2].json() == {"message": "Limit Exceeded"}
    assert beta[2].header("x-amzn-ErrorType") == ["LimitExceededException"]
    assert all(re.fullmatch(r"[A-Za-z0-9]{40}", key) for key in keys.values())


def test_maas_local_up_applies_the_stage_s_throttle_and_plans(tmp_path: Path) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"maas:stages": {"t": STAGE}}}))
    api_port = _free_port()
    process = subprocess.Popen(
        [
            str(MAAS),
            "local",
            "up",
            "--port",
            str(_free_port()),
            "--api-port",
            str(api_port),
            "--no-serve-models",
            "--no-keep-state",
            "--stage",
            "t",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**_environment(), CDK_JSON_VARIABLE: str(cdk_json)},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("Ctrl-C stops it" in line for line in lines), timeout=120)
        printed = " ".join(" ".join(lines).split())
        key = re.search(r"tenant acme: x-api-key ([A-Za-z0-9]{40})", printed)
        assert key is not None, printed
        assert "throttle: 0.5 requests/s, burst 3" in printed
        url = f"http://127.0.0.1:{api_port}"

        # /docs is public (no token): the limits alone decide.
        without_key = call(url, "GET", "/docs")
        answers: list[Any] = [call(url, "GET", "/docs", [("x-api-key", key[1])]) for _ in range(4)]

        assert without_key.status == 403
        assert without_key.json() == {"message": "Forbidden"}
        # The stage's burst is 3: the fourth call is throttled (the plan's burst is 4).
        assert [answer.status for answer in answers] == [200, 200, 200, 429]
        assert answers[3].json() == {"message": "Too Many Requests"}
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=5)
