"""docs/sdk.md's CLI walk-through, command by command, against the served API.

The commands run in this process (``maas``'s Typer app, as ``typer.testing`` runs it), with
the page's connection in the environment. Three lines are replaced, each for a reason:
``maas local up &`` and the ``export`` are the served runtime and its token (the module's
fixture); ``maas packaging start --hf ...`` and ``maas lifecycles start --request
lifecycle.json`` need the Hugging Face Hub, which tests do not reach: the two versions the
walk-through deploys are registered as packaging would leave them
(``tests.workflows.versions``). The last line names an execution of the page's; it is given
the one the page's deploy started (it showed a name of the wrong shape, ``acme-``: names
are ``<tenant>_<24 hex digits>``). Every other line runs as written and must exit 0.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from maas.cli.main import app
from tests.docblocks import runs
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.sdk.conftest import ServedApi

MODEL = "smollm2-135m-instruct"
#: The lines not run as written (see the module docstring).
REPLACED = ("maas local up &", "export MAAS_API_URL", "--hf ", "--request lifecycle.json")
DOCUMENTED_EXECUTION = "acme_dccd202b1c130f1eb60e885b"
(WALK_THROUGH,) = runs(
    "docs/sdk.md",
    "console",
    lambda block: any(e.command.startswith("maas local up &") for e in block.examples),
)


def test_the_cli_walk_through_runs(
    served: ServedApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    block = WALK_THROUGH.examples
    for variable in ("MAAS_PROFILE",):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_API_URL", served.url)
    monkeypatch.setenv("MAAS_TOKEN", served.token)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))
    register_version(served.runtime, MODEL)
    register_version(served.runtime, MODEL)
    replaced = [e.command for e in block if any(part in e.command for part in REPLACED)]
    assert len(replaced) == len(REPLACED), replaced

    executions: list[str] = []
    ran = 0
    for example in block:
        if example.command in replaced:
            continue
        for command in example.command.split("&&"):
            arguments = shlex.split(command, comments=True)
            assert arguments[0] == "maas"
            arguments = [
                executions[0] if argument == DOCUMENTED_EXECUTION else argument
                for argument in arguments[1:]
            ]
            result = CliRunner().invoke(app, arguments)
            assert result.exit_code == 0, f"line {example.line}: {command}\n{result.output}"
            executions += re.findall(r"acme_[0-9a-f]{24}", result.output)
            ran += 1

    assert ran == 12
    # The walk-through ends with the endpoint deleted: its record says so.
    shown = CliRunner().invoke(app, ["endpoints", "show", "chat", "--json"])
    assert '"status": "DELETED"' in shown.stdout, shown.output
