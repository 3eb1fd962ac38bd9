"""Reads per second of the local API at 50 concurrent clients, each a tenant of its own.

Prints, measured in this run on one local runtime (no model served):

- the product's API: ``GET /v1/evalgen/sessions/{name}`` and ``GET /v1/evalgen/sessions``
  in turn, every answer checked to be the client's own tenant's
  (:mod:`tests.local.api_load`); requests/s, p50 and p99, wrong answers and 5xx;
- the baseline, a no-op route: the same gateway, authorizer and Lambda adapter in front of
  a function that answers its event back (``tests.local.handlers.api_echo``), each answer
  checked to carry the client's own tenant; requests/s;
- the ratio of the two: how much of the cost is the API function's own work (its
  DynamoDB reads through moto, Powertools' validation) rather than the local gateway's.

Target (issue 17): reads at 200 requests/s or more on two cores.

Run: ``python benchmarks/local_api_concurrency.py [--clients 50] [--requests 2000]``
(``--strict`` exits 1 when the target is missed or an answer is wrong).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.local import LocalRuntime, LocalSettings
from maas.local.apigateway import LocalApiGateway
from maas.local.awslambda import LocalFunction
from maas.local.tokens import LocalTokens
from tests.local.api_load import create_sessions, run_clients, tenant_names

TARGET_PER_SECOND = 200.0


def noop_per_second(url: str, tokens: LocalTokens, tenants: list[str], each: int) -> float:
    """Requests/s of the no-op route; raises if an answer is not its own tenant's."""
    wrong: list[str] = []

    def client(tenant: str) -> None:
        headers = {"Authorization": f"Bearer {tokens.issue(tenant)}"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            for _ in range(each):
                answer = http.get(f"/noop/{tenant}")
                claims = answer.json()["event"]["requestContext"]["authorizer"]["claims"]
                if answer.status_code != 200 or tenant not in str(claims):
                    wrong.append(f"{tenant}: {answer.status_code}")

    threads = [threading.Thread(target=client, args=(tenant,)) for tenant in tenants]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    if wrong:
        raise AssertionError(f"no-op route: {len(wrong)} wrong answers, e.g. {wrong[:3]}")
    return len(tenants) * each / seconds


def main() -> int:
    """Measure both, print them and the ratio; with --strict, 1 if the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--strict", action="store_true")
    options = parser.parse_args()
    each = max(1, options.requests // options.clients)
    tenants = tenant_names(options.clients)
    with (
        tempfile.TemporaryDirectory() as state,
        LocalRuntime(LocalSettings(serve_models=False)) as runtime,
    ):
        tokens = LocalTokens.from_state_dir(Path(state))
        url = runtime.serve_api(tokens=tokens)
        create_sessions(url, tokens, tenants)
        # Warm: the sandboxes' cold starts are not what is measured.
        run_clients(url, tokens, tenants, 2)
        product = run_clients(url, tokens, tenants, each)

        arn = runtime.client("lambda").create_function(
            FunctionName="bench-noop",
            Runtime="python3.12",
            Role=runtime.resources.roles["FunctionRole"],
            Handler="tests.local.handlers.api_echo",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            Timeout=30,
        )["FunctionArn"]
        runtime.lambda_.register(
            LocalFunction(
                name="bench-noop",
                handler="tests.local.handlers.api_echo",
                environment={},
                timeout_seconds=30,
                memory_mb=128,
                arn=arn,
            )
        )
        noop = LocalApiGateway(
            runtime.lambda_.invoke, arn, tokens, account_id=runtime.settings.account_id
        )
        noop_url = noop.start()
        try:
            noop_per_second(noop_url, tokens, tenants, 2)
            baseline = noop_per_second(noop_url, tokens, tenants, each)
        finally:
            noop.stop()

    print(f"local API, {options.clients} clients, {product.requests} reads (each tenant its own)")
    print(
        f"  product API: {product.per_second:7.1f} requests/s  p50 "
        f"{product.percentile(0.5) * 1000:6.0f} ms  p99 {product.percentile(0.99) * 1000:6.0f} ms"
        f"  wrong {len(product.wrong)}  5xx {product.server_errors}"
    )
    print(f"  no-op route: {baseline:7.1f} requests/s (same gateway and adapter, echo function)")
    print(f"  ratio product / no-op: {product.per_second / baseline:.2f}")
    met = product.per_second >= TARGET_PER_SECOND
    print(f"  target {TARGET_PER_SECOND:.0f} requests/s: {'met' if met else 'missed'}")
    for problem in product.wrong[:5]:
        print(f"  wrong: {problem}")
    failed = bool(product.wrong) or product.server_errors > 0 or not met
    return 1 if options.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
