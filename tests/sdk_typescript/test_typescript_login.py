"""The TypeScript SDK finds and uses the login ``maas login`` saved, as the Python SDK does.

``maas login`` (the Python command) writes ``credentials.json`` beside the profile file; a
Node script using ``@maas/client/login``'s ``connect`` with only ``MAAS_CONFIG`` set then
calls the API with that login's token:

- a local login (``maas login --tenant acme``) against a local runtime's API;
- a Cognito login whose ID token has expired: the client renews it with the refresh token
  (``REFRESH_TOKEN_AUTH``, moto's Cognito over HTTP), writes it back in the file (which the
  Python SDK then reads), and sends the new token to the API it was issued for (a stand-in
  that records what it was sent);
- an expired local login is refused with the command that renews it, and a login is never
  sent to another API than its own.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from typer.testing import CliRunner

from maas.cli.main import app
from maas.local import LocalRuntime
from maas.local.tokens import STATE_DIR_VARIABLE, LocalTokens
from maas.sdk import login as logins
from tests.docblocks import containing, runs
from tests.sdk.test_sdk_login import PASSWORD, Cognito
from tests.sdk_typescript.test_typescript_sdk import (
    NODE,
    NPM,
    SDK,
    _environment,
    installed,  # noqa: F401 - the fixture
)
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are needed (the cdk extra installs them: `make setup`)",
)

#: docs/sdk.md's block: connect as the saved login says, list the endpoints' names.
(CONNECT,) = runs("docs/sdk.md", "ts", containing("@maas/client/login"))


def on_the_sources(folder: Path) -> Path:
    """The page's block as a module of ``folder`` whose imports name the SDK's sources."""
    script = folder / "use-login.mts"
    sources = {"@maas/client/login": "login.ts", "@maas/client": "client.ts"}
    text = CONNECT.text
    for package, source in sources.items():
        text = text.replace(f'"{package}"', json.dumps(str(SDK / "src" / source)))
    script.write_text(text)
    return script


@pytest.mark.usefixtures("installed")
def test_the_pages_block_type_checks(tmp_path: Path) -> None:
    tsc = SDK / "node_modules" / "typescript" / "bin" / "tsc"
    options = ["--noEmit", "--strict", "--allowImportingTsExtensions", "--skipLibCheck"]
    options += ["--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2023"]
    options += ["--lib", "es2023,dom", "--types", "node"]
    options += ["--typeRoots", str(SDK / "node_modules" / "@types")]
    checked = subprocess.run(
        [str(NODE), str(tsc), *options, str(on_the_sources(tmp_path))],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def run_node(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The page's block, run by Node 23.6+ on the SDK's sources, with only ``MAAS_CONFIG``
    set (and ``env``)."""
    script = on_the_sources(config.parent)
    environment = {
        key: value
        for key, value in _environment().items()
        if key not in {"MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"}
    }
    return subprocess.run(
        [str(NODE), str(script)],
        env={**environment, "MAAS_CONFIG": str(config), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def api_url(state_dir: Path) -> Iterator[str]:
    with LocalRuntime(FAST) as runtime:
        yield runtime.serve_api(0, tokens=LocalTokens.from_state_dir(state_dir))


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> Path:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "profiles.toml"))
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(state_dir))
    return tmp_path / "profiles.toml"


@pytest.mark.usefixtures("installed")
def test_the_client_uses_the_local_login_maas_login_saved(api_url: str, config: Path) -> None:
    logged_in = CliRunner().invoke(app, ["login", "--api-url", api_url, "--tenant", "acme"])
    assert logged_in.exit_code == 0, logged_in.output

    ran = run_node(config)

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == []  # the tenant's endpoints: none yet


@pytest.mark.usefixtures("installed")
def test_an_expired_local_login_is_refused_with_what_renews_it(api_url: str, config: Path) -> None:
    path = logins.credentials_path(config)
    token = LocalTokens.from_state_dir(config.parent).issue("acme")
    expired = datetime.now(UTC) - timedelta(minutes=1)
    logins.save_login(
        path,
        "default",
        logins.LocalLogin(api_url=api_url, id_token=token, expires_at=expired, tenant="acme"),
    )

    ran = run_node(config)

    assert ran.returncode != 0
    assert "run `maas login --tenant acme` again" in ran.stderr


class _Api(BaseHTTPRequestHandler):
    """A stand-in API: answers an empty list and records the tokens it was sent."""

    tokens: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Api.tokens.append(self.headers.get("Authorization", ""))
        body = json.dumps({"items": [], "next_token": None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass  # no request log in the test's output


@pytest.fixture
def stand_in() -> Iterator[str]:
    """The stand-in's URL, by this machine's host name (a loopback URL is the local API's,
    to which ``maas login`` signs in locally)."""
    server = ThreadingHTTPServer(("0.0.0.0", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Api.tokens.clear()
    yield f"http://{socket.gethostname()}:{server.server_address[1]}"
    server.shutdown()


def _expired_cognito_login(pool: Cognito, api_url: str, config: Path) -> logins.CognitoLogin:
    """``maas login`` as a new Cognito user, then its ID token aged past its expiry."""
    username = pool.user(f"ada-{secrets.token_hex(4)}@example.com")
    logged_in = CliRunner().invoke(
        app,
        [
            "login",
            "--api-url",
            api_url,
            "--user-pool-id",
            pool.pool_id,
            "--client-id",
            pool.client_id,
            "--cognito-endpoint",
            pool.endpoint,
            "--username",
            username,
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n",
    )
    assert logged_in.exit_code == 0, logged_in.output
    path = logins.credentials_path(config)
    saved = logins.load_logins(path)["default"]
    assert isinstance(saved, logins.CognitoLogin)
    aged = saved.model_copy(
        update={"id_token": "expired", "expires_at": datetime.now(UTC) - timedelta(seconds=5)}
    )
    logins.save_login(path, "default", aged)
    return aged


@pytest.mark.usefixtures("installed")
def test_an_expired_cognito_login_is_renewed_kept_and_sent(
    pool: Cognito, stand_in: str, config: Path
) -> None:
    aged = _expired_cognito_login(pool, stand_in, config)

    ran = run_node(config)

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == []
    renewed = logins.load_logins(logins.credentials_path(config))["default"]
    assert isinstance(renewed, logins.CognitoLogin)
    assert renewed.id_token != aged.id_token
    assert renewed.expires_at > datetime.now(UTC)
    assert renewed.refresh_token == aged.refresh_token
    assert _Api.tokens == [f"Bearer {renewed.id_token}"]
    assert oct(logins.credentials_path(config).stat().st_mode & 0o777) == "0o600"


@pytest.mark.usefixtures("installed")
def test_a_login_is_not_sent_to_another_api(pool: Cognito, stand_in: str, config: Path) -> None:
    _expired_cognito_login(pool, "https://abc123.execute-api.eu-west-1.amazonaws.com/prod", config)

    ran = run_node(config, MAAS_API_URL=stand_in)

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == []
    assert _Api.tokens == [""]  # no Authorization header: the login is another API's


@pytest.fixture(scope="module")
def pool() -> Iterator[Cognito]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield Cognito(f"http://{host}:{port}", mfa=False)
    server.stop()


def test_the_package_exports_the_login_module() -> None:
    manifest: dict[str, Any] = json.loads((SDK / "package.json").read_text())
    assert manifest["exports"]["./login"]["default"] == "./dist/login.js"
    assert (SDK / "src" / "login.ts").is_file()
