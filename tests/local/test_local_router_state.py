"""Powertools' current event is each invocation's own, as each Lambda process's is on AWS."""

from __future__ import annotations

import threading
from contextlib import ExitStack

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from maas.local import router_state


def test_concurrent_invocations_each_read_the_event_they_resolve() -> None:
    app = APIGatewayRestResolver()
    seen: dict[str, object] = {}
    both_set = threading.Barrier(2)

    def invocation(name: str) -> None:
        BaseRouter.current_event = name  # as ApiGatewayResolver.resolve does
        both_set.wait()
        seen[name] = app.current_event

    with ExitStack() as stack:
        router_state.install(stack)
        threads = [threading.Thread(target=invocation, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert seen == {"a": "a", "b": "b"}
    # Without it, Powertools keeps the event on the class, for the whole process: the
    # 2,000-request test (test_local_api_concurrency.py) saw one tenant's list answered with
    # another's sessions.
