"""``maas login`` against the local API: a tenant's token from the local user pool's key.

The runtime serves the API with the key of a temporary state directory, which the login
finds as ``maas local token`` does (``MAAS_LOCAL_STATE_DIR``); later commands send the
kept token with no ``--token``. docs/sdk.md's local block runs as written (port 8000
replaced by the served one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.local import LocalRuntime
from maas.local.tokens import STATE_DIR_VARIABLE, LocalTokens
from maas.sdk import login as logins
from maas.sdk.profiles import resolve_connection
from tests.docblocks import containing, runs
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator

(LOCAL_LOGIN,) = runs(
    "docs/sdk.md", "console", containing("maas login --api-url http://127.0.0.1:8000")
)
MAAS = Path(sys.executable).with_name("maas")


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def api_url(state_dir: Path) -> Iterator[str]:
    with LocalRuntime(FAST) as runtime:
        yield runtime.serve_api(0, tokens=LocalTokens.from_state_dir(state_dir))


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state_dir: Path) -> Path:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "profiles.toml"))
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(state_dir))
    return tmp_path / "profiles.toml"


def test_login_then_commands_need_no_token(api_url: str, environment: Path) -> None:
    logged_in = CliRunner().invoke(app, ["login", "--api-url", api_url, "--tenant", "acme"])
    listed = CliRunner().invoke(app, ["endpoints", "list", "--json"])

    assert logged_in.exit_code == 0, logged_in.output
    assert listed.exit_code == 0, listed.output
    assert isinstance(json.loads(listed.stdout), list)
    stored = logins.load_logins(environment.with_name("credentials.json"))["default"]
    assert isinstance(stored, logins.LocalLogin)
    assert stored.tenant == "acme"
    assert LocalTokens.from_state_dir()  # the same key the API verifies with
    assert resolve_connection().token == stored.id_token


def test_a_local_login_needs_a_tenant(api_url: str) -> None:
    result = CliRunner().invoke(app, ["login", "--api-url", api_url])

    assert result.exit_code == ExitCode.USAGE
    assert "--tenant" in result.output


def test_a_token_of_another_key_is_refused_by_the_api(
    api_url: str, environment: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Signed in with another state directory's key: the API refuses it (exit 5, a 401).
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(tmp_path / "other-state"))
    assert (
        CliRunner().invoke(app, ["login", "--api-url", api_url, "--tenant", "acme"]).exit_code == 0
    )

    result = CliRunner().invoke(app, ["endpoints", "list"])

    assert result.exit_code == ExitCode.INVALID


def test_an_expired_local_login_says_to_log_in_again(api_url: str, environment: Path) -> None:
    assert (
        CliRunner().invoke(app, ["login", "--api-url", api_url, "--tenant", "acme"]).exit_code == 0
    )
    credentials = environment.with_name("credentials.json")
    stored = logins.load_logins(credentials)["default"]
    logins.save_login(
        credentials,
        "default",
        stored.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(seconds=1)}),
    )

    with pytest.raises(logins.LoginError, match="maas login --tenant acme"):
        resolve_connection()


def test_the_pages_local_login_runs(api_url: str, environment: Path, state_dir: Path) -> None:
    block = LOCAL_LOGIN.examples
    port = api_url.rsplit(":", 1)[1]
    script = "set -e\n" + "\n".join(example.command for example in block)
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")

    ran = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PATH": f"{MAAS.parent}{os.pathsep}{os.environ['PATH']}",
            "MAAS_CONFIG": str(environment),
            STATE_DIR_VARIABLE: str(state_dir),
        },
        timeout=120,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr
    assert "logged in to" in ran.stderr
    assert "endpoint" in ran.stdout  # the table's header: the command answered
