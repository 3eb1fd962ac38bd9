"""The fixture the conformance tests deploy their functions with (``conformance_handlers``)."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

import pytest

from maas.local.awslambda import LocalFunction
from tests.local.support import unique

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime

HANDLERS = "tests.local.conformance_handlers"


def _package() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("README.txt", "Runs from the local checkout.\n")
    return archive.getvalue()


@pytest.fixture(scope="module")
def deploy(runtime: LocalRuntime) -> Callable[[str], LocalFunction]:
    """Create a function served by ``handler`` (a name, or a dotted path of its own)."""

    def create(handler: str) -> LocalFunction:
        path = handler if "." in handler else f"{HANDLERS}.{handler}"
        name = unique(handler.rsplit(".", 1)[-1].replace("_", "-"))
        created = runtime.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=runtime.resources.roles["FunctionRole"],
            Handler=path,
            Code={"ZipFile": _package()},
            Timeout=5,
        )
        function = LocalFunction(
            name=name,
            handler=path,
            environment={},
            timeout_seconds=5,
            memory_mb=128,
            arn=created["FunctionArn"],
        )
        runtime.lambda_.register(function)
        return function

    return create


__all__ = ["HANDLERS", "deploy"]
