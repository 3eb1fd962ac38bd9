"""docs/sdk.md's Python examples, run as written against the served API.

It answered 422 ("Unable to extract tag using discriminator 'kind'"): the SDK sent only the
fields set, and the source's ``kind`` is a default. The block runs with the connection in
the environment (``MAAS_API_URL``, ``MAAS_TOKEN``), as the page resolves it.
"""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

from tests.docblocks import containing, runs
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.sdk.conftest import ServedApi

(PACKAGING,) = runs("docs/sdk.md", "python", containing("create_packaging_job"))
(ENDPOINTS,) = runs("docs/sdk.md", "python", containing("create_endpoint"))


def test_the_packaging_example_is_accepted(
    served: ServedApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    block = PACKAGING.text
    monkeypatch.setenv("MAAS_API_URL", served.url)
    monkeypatch.setenv("MAAS_TOKEN", served.token)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(block, PACKAGING.where, "exec"), {})  # the page's own code

    assert printed.getvalue().startswith("/v1/executions/package-model/acme_")


def test_the_sdk_example_deploys_lists_and_gets_a_404(
    served: ServedApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    block = ENDPOINTS.text
    # The page deploys version 1 of this model, which the tenant has registered.
    register_version(served.runtime, "smollm2-135m-instruct")
    monkeypatch.setenv("MAAS_API_URL", served.url)
    monkeypatch.setenv("MAAS_TOKEN", served.token)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(block, ENDPOINTS.where, "exec"), {})  # the page's own code

    lines = printed.getvalue().splitlines()
    # Progress lines, then the endpoint in service, the listed endpoints, and the 404.
    assert lines[0].startswith("RUNNING")
    assert any(line.startswith("SUCCEEDED ") for line in lines), lines
    assert any(line.startswith("IN_SERVICE ml.") for line in lines), lines
    assert "chat IN_SERVICE" in lines
    assert lines[-1].startswith("404 ") and "'gone'" in lines[-1]
