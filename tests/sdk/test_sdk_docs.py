"""docs/sdk.md's Python examples, run as written against the served API.

It answered 422 ("Unable to extract tag using discriminator 'kind'"): the SDK sent only the
fields set, and the source's ``kind`` is a default. The block runs with the connection in
the environment (``MAAS_API_URL``, ``MAAS_TOKEN``), as the page resolves it.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.workflows.versions import register_version

if TYPE_CHECKING:
    import pytest

    from tests.sdk.conftest import ServedApi

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def python_blocks(text: str) -> list[str]:
    """The page's ``python`` code blocks."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_the_packaging_example_is_accepted(
    served: ServedApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (block,) = [code for code in python_blocks(DOC.read_text()) if "create_packaging_job" in code]
    monkeypatch.setenv("MAAS_API_URL", served.url)
    monkeypatch.setenv("MAAS_TOKEN", served.token)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(block, f"{DOC}:packaging", "exec"), {})  # the page's own code

    assert printed.getvalue().startswith("/v1/executions/package-model/acme_")


def test_the_sdk_example_deploys_lists_and_gets_a_404(
    served: ServedApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (block,) = [code for code in python_blocks(DOC.read_text()) if "create_endpoint" in code]
    # The page deploys version 1 of this model, which the tenant has registered.
    register_version(served.runtime, "smollm2-135m-instruct")
    monkeypatch.setenv("MAAS_API_URL", served.url)
    monkeypatch.setenv("MAAS_TOKEN", served.token)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(block, f"{DOC}:sdk", "exec"), {})  # the page's own code

    lines = printed.getvalue().splitlines()
    # Progress lines, then the endpoint in service, the listed endpoints, and the 404.
    assert lines[0].startswith("RUNNING")
    assert any(line.startswith("SUCCEEDED ") for line in lines), lines
    assert any(line.startswith("IN_SERVICE ml.") for line in lines), lines
    assert "chat IN_SERVICE" in lines
    assert lines[-1].startswith("404 ") and "'gone'" in lines[-1]
