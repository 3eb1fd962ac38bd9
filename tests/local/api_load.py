"""Concurrent clients of the local API, each a tenant of its own, every answer checked.

Used by ``test_local_api_concurrency.py`` (2,000 requests from 50 clients) and by
``benchmarks/local_api_concurrency.py`` (requests/s against a no-op route). Each client is a
thread with its own ``httpx.Client`` (its own keep-alive connection) and token; its tenant
has one grading session, named after the tenant, created through the API beforehand. Each
client reads its session, and the list of its tenant's sessions, in turn; an answer is
right only if it names that client's own session and tenant and nothing of another's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from maas.local.tokens import LocalTokens


@dataclass
class LoadResult:
    """What the clients got back: answers by kind, wrong ones described, and the time."""

    requests: int = 0
    right: int = 0
    server_errors: int = 0
    wrong: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        """Requests answered per second of the run."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """The latency (seconds) that ``share`` of the requests did not exceed."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def tenant_names(clients: int) -> list[str]:
    """One tenant per client."""
    return [f"load-{index:02d}" for index in range(clients)]


def session_name(tenant: str) -> str:
    """The one grading session of ``tenant``."""
    return f"session-of-{tenant}"


def create_sessions(url: str, tokens: LocalTokens, tenants: list[str]) -> None:
    """Create each tenant's session through the API (a 201 each)."""
    with httpx.Client(timeout=60) as client:
        for tenant in tenants:
            answer = client.post(
                f"{url}/v1/evalgen/sessions",
                headers={"Authorization": f"Bearer {tokens.issue(tenant)}"},
                json={
                    "name": session_name(tenant),
                    "task": f"the task of {tenant}",
                    "outputs": [{"id": "o1", "input": "q", "output": f"the answer of {tenant}"}],
                },
            )
            if answer.status_code != 201:
                raise AssertionError(f"{tenant}: {answer.status_code} {answer.text}")


def _check(tenant: str, path: str, answer: httpx.Response) -> str | None:
    """None if ``answer`` is right for ``tenant``'s request of ``path``, else what is wrong."""
    if answer.status_code != 200:
        return f"{tenant} {path}: {answer.status_code} {answer.text[:200]}"
    body: Any = answer.json()
    own = session_name(tenant)
    if path.endswith("/sessions"):
        items = body.get("items", body) if isinstance(body, dict) else body
        names = sorted(item["name"] for item in items)
        return None if names == [own] else f"{tenant} {path}: the sessions {names}"
    if body.get("name") != own or body.get("task") != f"the task of {tenant}":
        return f"{tenant} {path}: {body.get('name')!r} {body.get('task')!r}"
    return None


def run_clients(
    url: str, tokens: LocalTokens, tenants: list[str], requests_per_client: int
) -> LoadResult:
    """Each tenant's client sends ``requests_per_client`` reads at once with the others."""
    result = LoadResult()
    lock = threading.Lock()
    start = threading.Barrier(len(tenants) + 1)

    def client(tenant: str) -> None:
        paths = [f"/v1/evalgen/sessions/{session_name(tenant)}", "/v1/evalgen/sessions"]
        headers = {"Authorization": f"Bearer {tokens.issue(tenant)}"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            start.wait()
            for index in range(requests_per_client):
                path = paths[index % 2]
                began = time.monotonic()
                try:
                    answer = http.get(path)
                except httpx.HTTPError as error:
                    problem: str | None = f"{tenant} {path}: {error!r}"
                    status = 0
                else:
                    problem, status = _check(tenant, path, answer), answer.status_code
                with lock:
                    result.requests += 1
                    result.latencies.append(time.monotonic() - began)
                    result.server_errors += status >= 500
                    if problem is None:
                        result.right += 1
                    else:
                        result.wrong.append(problem)

    threads = [threading.Thread(target=client, args=(tenant,)) for tenant in tenants]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - began
    return result


__all__ = ["LoadResult", "create_sessions", "run_clients", "session_name", "tenant_names"]
