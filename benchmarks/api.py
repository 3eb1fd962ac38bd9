"""How fast the REST API answers under load, and how long its Lambda takes to import.

Prints, each measured in this run:

- the import time of ``functions.api.app`` (the API function's cold start before its first
  event), in a fresh interpreter with the function's own environment, median of several
  runs, against ``import json`` in the same kind of interpreter;
- p50 and p99 latency of ``GET /v1/endpoints`` and ``GET /v1/endpoints/{name}`` with 50
  concurrent clients (threads, one ``httpx.Client`` each) against the local API (the same
  handler behind the local API Gateway), against the same requests from one client. Every
  answer is checked: a 200 that names the endpoint asked for. Wrong answers are counted and
  printed, as a latency figure means nothing if the answers are wrong.

Targets: import under 500 ms. The local API serves every request in this one Python
process, so at 50 clients the requests queue for the interpreter: the figures say how the
local API behaves, not API Gateway and Lambda, which run one event per environment at once.

Run: ``make bench`` (or ``python benchmarks/api.py``; ``--strict`` exits 1 when a target is
missed or an answer is wrong).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.executions import wait_for_execution
from maas.local import LocalRuntime, LocalSettings
from tests.api.served import ServedApi, serve
from tests.workflows.versions import register_version

ROOT = Path(__file__).resolve().parent.parent
IMPORT_RUNS = 7
IMPORT_TARGET_MS = 500.0
CLIENTS = 50
ENDPOINTS = ("bench-a", "bench-b", "bench-c")
MODEL = "bench-chat"
API_MODULE = "functions.api.app"
TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str, environment: dict[str, str]) -> float:
    """Seconds to import ``module`` in a fresh interpreter (its start-up not counted)."""
    completed = subprocess.run(
        [sys.executable, "-c", TIMER.format(module=module)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def measure_imports(environment: dict[str, str]) -> tuple[list[float], list[float]]:
    """Import times of ``json`` and of the API module, the two alternating."""
    baseline, api = [], []
    for _ in range(IMPORT_RUNS):
        baseline.append(import_seconds("json", environment))
        api.append(import_seconds(API_MODULE, environment))
    return baseline, api


@dataclass
class Samples:
    """Latencies (seconds) by kind of request, and the answers that were wrong."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"list": [], "describe": []})
    wrong: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_run(served: ServedApi, requests: int, samples: Samples, start: threading.Event) -> None:
    """One client: ``requests`` lists and as many describes, alternating."""
    with httpx.Client(base_url=served.url, headers=served.headers, timeout=120) as client:
        start.wait()
        for index in range(requests):
            name = ENDPOINTS[index % len(ENDPOINTS)]
            for kind, path in (("list", "/v1/endpoints"), ("describe", f"/v1/endpoints/{name}")):
                began = time.perf_counter()
                answer = client.get(path)
                elapsed = time.perf_counter() - began
                problem = _wrong(kind, name, answer)
                with samples.lock:
                    samples.latencies[kind].append(elapsed)
                    if problem:
                        samples.wrong.append(problem)


def _wrong(kind: str, name: str, answer: httpx.Response) -> str | None:
    if answer.status_code != 200:
        return f"{answer.request.url.path}: {answer.status_code} {answer.text[:200]}"
    body = answer.json()
    if kind == "list":
        listed = sorted(item["endpoint_name"] for item in body["items"])
        return None if listed == sorted(ENDPOINTS) else f"list answered {listed}"
    return None if body["endpoint_name"] == name else f"{name} answered {body['endpoint_name']}"


def measure_latency(served: ServedApi, clients: int, requests: int) -> Samples:
    samples, start = Samples(), threading.Event()
    threads = [
        threading.Thread(target=client_run, args=(served, requests, samples, start))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()
    return samples


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def deploy_endpoints(runtime: LocalRuntime, served: ServedApi) -> None:
    """Deploy :data:`ENDPOINTS` through the API and wait until each is in service."""
    version = register_version(runtime, MODEL).version
    sfn = runtime.client("stepfunctions")
    with httpx.Client(base_url=served.url, headers=served.headers) as client:
        for name in ENDPOINTS:
            body = {"endpoint_name": name, "model": {"model_name": MODEL, "version": version}}
            accepted = client.post("/v1/endpoints", json=body)
            accepted.raise_for_status()
            snapshot = wait_for_execution(sfn, accepted.json()["execution_arn"], poll_seconds=0.1)
            if snapshot.status != "SUCCEEDED":
                raise RuntimeError(f"deploying {name}: {snapshot.status} {snapshot.cause}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--requests", type=int, default=8, help="list+describe pairs per client")
    arguments = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as state,
        LocalRuntime(LocalSettings(serve_models=False)) as runtime,
    ):
        served = serve(runtime, Path(state))
        function = runtime.lambda_.get(runtime.resources.functions["Api"])
        assert function is not None
        environment = {**os.environ, **runtime.aws_environment(), **function.environment}
        json_runs, api_runs = measure_imports(environment)
        deploy_endpoints(runtime, served)
        measure_latency(served, 1, 2)  # warm: the function's module is loaded once
        # The same number of requests at 1 and at 50 clients.
        single = measure_latency(served, 1, CLIENTS * arguments.requests)
        started = time.perf_counter()
        loaded = measure_latency(served, CLIENTS, arguments.requests)
        loaded_seconds = time.perf_counter() - started

    json_ms, api_ms = 1000 * statistics.median(json_runs), 1000 * statistics.median(api_runs)
    verdict = "ok" if api_ms <= IMPORT_TARGET_MS else "MISSED"
    print(f"{'import (ms, median of ' + str(IMPORT_RUNS) + ')':40} {'json':>10} {'api':>10}")
    print(f"{API_MODULE + ' vs json':40} {json_ms:10.1f} {api_ms:10.1f}  x{api_ms / json_ms:.0f}")
    print(f"  target <= {IMPORT_TARGET_MS:.0f} ms: {verdict}")
    print()
    print(f"{'latency (ms)':40} {'1 client':>18} {str(CLIENTS) + ' clients':>18}")
    print(f"{'':40} {'p50':>8} {'p99':>9} {'p50':>8} {'p99':>9}")
    for kind, label in (("list", "GET /v1/endpoints"), ("describe", "GET /v1/endpoints/{name}")):
        one, many = single.latencies[kind], loaded.latencies[kind]
        print(
            f"{label:40} {1000 * percentile(one, 0.5):8.1f} {1000 * percentile(one, 0.99):9.1f}"
            f" {1000 * percentile(many, 0.5):8.1f} {1000 * percentile(many, 0.99):9.1f}"
        )
    total = sum(len(values) for values in loaded.latencies.values())
    print(f"({total} requests per setup; {total / loaded_seconds:.0f}/s at {CLIENTS} clients)")
    wrong = single.wrong + loaded.wrong
    print(f"wrong answers: {len(single.wrong)} at 1 client, {len(loaded.wrong)} at {CLIENTS}")
    for problem in sorted(set(wrong))[:5]:
        print(f"  {problem}")
    missed = verdict == "MISSED" or bool(wrong)
    return 1 if missed and arguments.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
