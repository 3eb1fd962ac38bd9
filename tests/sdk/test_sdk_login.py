"""``maas login`` against a Cognito user pool: SRP, the TOTP challenge, refresh, refusals.

Cognito is moto's, served over HTTP (``ThreadedMotoServer``): the login speaks Cognito's JSON
protocol with httpx, as it does to AWS, so the wire format is exercised too. moto does not
check an SRP proof (it sends random ``SRP_B`` and accepts any signature), so the SRP
arithmetic is checked on its own against a verifier written from the server's side of
SRP-6a (``S = (A * v^u)^b``), which agrees with the client's ``S = (B - k*g^x)^(a + u*x)``
only when both are right.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.sdk import login as logins
from maas.sdk import srp
from maas.sdk.profiles import resolve_connection
from tests.docblocks import containing, runs

if TYPE_CHECKING:
    from collections.abc import Iterator

    from typer.testing import Result

(COGNITO_LOGIN,) = runs("docs/sdk.md", "console", containing("--username"))
MAAS = Path(sys.executable).with_name("maas")
#: moto answers unsigned Cognito requests from this region's backend.
REGION = "us-east-1"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
PASSWORD = "Correct-Horse-9-battery"
NEW_PASSWORD = "Staple-7-Correct-horse"


class Cognito:
    """moto's Cognito over HTTP, with one pool and its SDK app client (SRP only, as the
    stack's)."""

    def __init__(self, endpoint: str, *, mfa: bool) -> None:
        self.endpoint = endpoint
        self.idp = boto3.client(
            "cognito-idp",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.pool_id = self.idp.create_user_pool(
            PoolName=f"maas-test-{secrets.token_hex(4)}",
            MfaConfiguration="ON" if mfa else "OFF",
        )["UserPool"]["Id"]
        if mfa:
            self.idp.set_user_pool_mfa_config(
                UserPoolId=self.pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration="ON",
            )
        self.client_id = self.idp.create_user_pool_client(
            UserPoolId=self.pool_id,
            ClientName="maas-test-sdk",
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]

    def user(self, name: str, *, temporary: bool = False, totp: bool = False) -> str:
        self.idp.admin_create_user(
            UserPoolId=self.pool_id,
            Username=name,
            TemporaryPassword=PASSWORD,
            UserAttributes=[{"Name": "custom:tenant_id", "Value": "acme"}],
        )
        if not temporary:
            self.idp.admin_set_user_password(
                UserPoolId=self.pool_id, Username=name, Password=PASSWORD, Permanent=True
            )
        if totp:
            # The user's authenticator app, set up as a user does: signed in, associate the
            # app's secret, verify a code, make it the preferred second factor.
            signed_in = self.idp.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                AuthFlow="ADMIN_NO_SRP_AUTH",
                AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
            )
            access = signed_in["AuthenticationResult"]["AccessToken"]
            assert self.idp.associate_software_token(AccessToken=access)["SecretCode"]
            self.idp.verify_software_token(AccessToken=access, UserCode="123456")
            self.idp.admin_set_user_mfa_preference(
                UserPoolId=self.pool_id,
                Username=name,
                SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
            )
        return name


@pytest.fixture(scope="module")
def cognito_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def pool(cognito_endpoint: str) -> Cognito:
    return Cognito(cognito_endpoint, mfa=False)


@pytest.fixture(autouse=True)
def config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE", "MAAS_USER_POOL_ID"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("MAAS_USER_POOL_CLIENT_ID", raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "profiles.toml"))
    return tmp_path / "profiles.toml"


def login(pool: Cognito, username: str, *extra: str, stdin: str = f"{PASSWORD}\n") -> Result:
    arguments = ["login", "--api-url", API_URL, "--user-pool-id", pool.pool_id]
    arguments += ["--client-id", pool.client_id, "--cognito-endpoint", pool.endpoint]
    return CliRunner().invoke(
        app, [*arguments, "--username", username, "--password-stdin", *extra], input=stdin
    )


def sign_in_unanswered(pool: Cognito, username: str) -> logins.CognitoLogin:
    """The SDK's sign-in with an authenticator code but no answer to a first sign-in's
    challenges (a new password, an authenticator to set up)."""
    return logins.cognito_login(
        api_url=API_URL,
        user_pool_id=pool.pool_id,
        client_id=pool.client_id,
        username=username,
        password=PASSWORD,
        mfa_code=lambda: "123456",
        endpoint=pool.endpoint,
    )


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    document: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "==="))
    return document


# --- SRP ------------------------------------------------------------------------------------


def test_the_group_is_rfc_3526s_3072_bit_prime() -> None:
    # p = 2^3072 - 2^3008 - 1 + 2^64 * (floor(2^2942 pi) + 1690314): the top and bottom 64
    # bits are ones, and p and (p - 1) / 2 are prime (a safe prime; Fermat's test to base 2).
    assert srp.N.bit_length() == 3072
    assert srp.N >> 3008 == 2**64 - 1
    assert srp.N & (2**64 - 1) == 2**64 - 1
    assert pow(2, srp.N - 1, srp.N) == 1
    half = (srp.N - 1) // 2
    assert pow(2, half - 1, half) == 1


def _verifier_signature(
    session: srp.SrpSession, *, password: str, b: int, salt: str, secret_block: str, when: str
) -> str:
    """What Cognito computes from its stored verifier ``v = g^x`` and its secret ``b``."""
    user_id = "user-id-1"
    x = srp.private_key(session.pool_name, user_id, password, salt)
    v = pow(srp.G, x, srp.N)
    big_b = (srp.K * v + pow(srp.G, b, srp.N)) % srp.N
    big_a = int(session.srp_a, 16)
    u = srp.scrambler(big_a, big_b)
    shared = pow(big_a * pow(v, u, srp.N), b, srp.N)
    return srp.claim_signature(
        srp.session_key(shared, u), session.pool_name, user_id, secret_block, when
    )


@pytest.mark.parametrize("given", [PASSWORD, "not-the-password"])
def test_the_password_claim_matches_the_servers_only_with_the_password(given: str) -> None:
    session = srp.SrpSession("eu-west-1_AbCdEf123")
    b = secrets.randbelow(srp.N)
    salt = secrets.token_hex(16)
    secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
    x = srp.private_key(session.pool_name, "user-id-1", PASSWORD, salt)
    big_b = (srp.K * pow(srp.G, x, srp.N) + pow(srp.G, b, srp.N)) % srp.N
    now = datetime(2026, 12, 8, 9, 5, 2, tzinfo=UTC)

    answer = session.answer(
        user_id="user-id-1",
        password=given,
        srp_b=f"{big_b:x}",
        salt=salt,
        secret_block=secret_block,
        now=now,
    )
    expected = _verifier_signature(
        session,
        password=PASSWORD,
        b=b,
        salt=salt,
        secret_block=secret_block,
        when=answer["TIMESTAMP"],
    )

    assert answer["TIMESTAMP"] == "Tue Dec 8 09:05:02 UTC 2026"
    assert (answer["PASSWORD_CLAIM_SIGNATURE"] == expected) is (given == PASSWORD)


def test_a_b_of_zero_mod_n_is_refused() -> None:
    session = srp.SrpSession("eu-west-1_AbCdEf123")
    with pytest.raises(ValueError, match="SRP_B"):
        session.answer(
            user_id="u", password="p", srp_b=f"{srp.N:x}", salt="ab", secret_block="AAAA"
        )


# --- Cognito --------------------------------------------------------------------------------


def test_login_keeps_the_id_token_for_its_url_only(pool: Cognito, config: Path) -> None:
    user = pool.user("ada")

    result = login(pool, user)

    assert result.exit_code == 0, result.output
    credentials = config.with_name("credentials.json")
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    (stored,) = logins.load_logins(credentials).values()
    assert isinstance(stored, logins.CognitoLogin)
    assert claims(stored.id_token)["token_use"] == "id"
    assert claims(stored.id_token)["cognito:username"] == "ada"
    assert stored.expires_at > datetime.now(UTC)
    assert PASSWORD not in credentials.read_text()
    connection = resolve_connection()
    assert (connection.api_url, connection.token, connection.profile) == (
        API_URL,
        stored.id_token,
        "default",
    )
    # Another API named on the command line does not get this login's token.
    assert resolve_connection(api_url="https://elsewhere.example").token is None


def test_an_expired_id_token_is_refreshed_and_kept(pool: Cognito, config: Path) -> None:
    user = pool.user("grace")
    assert login(pool, user, "--profile", "prod").exit_code == 0
    credentials = config.with_name("credentials.json")
    stored = logins.load_logins(credentials)["prod"]
    logins.save_login(
        credentials,
        "prod",
        stored.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(minutes=1)}),
    )

    connection = resolve_connection(profile="prod")

    renewed = logins.load_logins(credentials)["prod"]
    assert connection.token == renewed.id_token
    assert renewed.expires_at > datetime.now(UTC)
    assert claims(renewed.id_token)["cognito:username"] == "grace"


def test_a_revoked_refresh_token_says_to_log_in_again(pool: Cognito, config: Path) -> None:
    user = pool.user("linus")
    assert login(pool, user).exit_code == 0
    credentials = config.with_name("credentials.json")
    stored = logins.load_logins(credentials)["default"]
    assert isinstance(stored, logins.CognitoLogin)
    logins.save_login(
        credentials,
        "default",
        stored.model_copy(
            update={
                "expires_at": datetime.now(UTC) - timedelta(minutes=1),
                "refresh_token": "revoked",
            }
        ),
    )

    with pytest.raises(logins.LoginError, match="run maas login again"):
        resolve_connection()


def test_a_wrong_password_is_cognitos_refusal(pool: Cognito) -> None:
    pool.user("alan")

    # moto does not check an SRP proof, so a wrong password is an unknown user here: the
    # refusal Cognito words is printed either way, and nothing is kept.
    result = login(pool, "nobody")

    assert result.exit_code == ExitCode.FAILED
    assert "Cognito refused InitiateAuth" in result.output


def test_a_temporary_password_is_replaced_at_the_first_login(pool: Cognito, config: Path) -> None:
    user = pool.user("barbara", temporary=True)

    result = login(pool, user, stdin=f"{PASSWORD}\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "requires a new password" in result.output
    stored = logins.load_logins(config.with_name("credentials.json"))["default"]
    assert claims(stored.id_token)["cognito:username"] == user
    # The new password is the user's now: no longer one to change.
    status = pool.idp.admin_get_user(UserPoolId=pool.pool_id, Username=user)["UserStatus"]
    assert status == "CONFIRMED"
    again = login(pool, user, stdin=f"{NEW_PASSWORD}\n")
    assert again.exit_code == 0, again.output
    assert "requires a new password" not in again.output


def test_without_an_answer_a_temporary_password_is_a_clear_refusal(pool: Cognito) -> None:
    user = pool.user("annie", temporary=True)

    with pytest.raises(logins.LoginError, match="temporary password"):
        sign_in_unanswered(pool, user)


def test_the_password_is_never_an_argument(pool: Cognito) -> None:
    result = CliRunner().invoke(app, ["login", "--api-url", API_URL, "--password", PASSWORD])

    assert result.exit_code == ExitCode.USAGE


def test_no_user_pool_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["login", "--api-url", API_URL, "--username", "ada"])

    assert result.exit_code == ExitCode.USAGE
    assert "--user-pool-id" in result.output


@pytest.fixture(scope="module")
def mfa_pool(cognito_endpoint: str) -> Cognito:
    return Cognito(cognito_endpoint, mfa=True)


def test_the_authenticator_code_answers_the_mfa_challenge(mfa_pool: Cognito, config: Path) -> None:
    user = mfa_pool.user("katherine", totp=True)

    result = login(mfa_pool, user, stdin=f"{PASSWORD}\n123456\n")

    assert result.exit_code == 0, result.output
    assert "Authenticator code" in result.output
    stored = logins.load_logins(config.with_name("credentials.json"))["default"]
    assert claims(stored.id_token)["cognito:username"] == user


def test_a_user_without_an_authenticator_sets_one_up_at_the_first_login(
    mfa_pool: Cognito, config: Path
) -> None:
    user = mfa_pool.user("margaret")

    result = login(mfa_pool, user, stdin=f"{PASSWORD}\n123456\n")

    assert result.exit_code == 0, result.output
    assert "requires an authenticator app" in result.output
    assert f"otpauth://totp/maas%20{mfa_pool.pool_id}:margaret?secret=" in result.output
    stored = logins.load_logins(config.with_name("credentials.json"))["default"]
    assert claims(stored.id_token)["cognito:username"] == user
    # Set up once: the next login asks the app's code, not to set one up again.
    again = login(mfa_pool, user, stdin=f"{PASSWORD}\n654321\n")
    assert again.exit_code == 0, again.output
    assert "requires an authenticator app" not in again.output
    assert "Authenticator code" in again.output


def test_a_first_login_answers_a_new_password_then_the_authenticator(
    mfa_pool: Cognito, config: Path
) -> None:
    user = mfa_pool.user("hedy", temporary=True)
    answers = f"{PASSWORD}\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n123456\n"

    result = login(mfa_pool, user, stdin=answers)

    assert result.exit_code == 0, result.output
    output = result.output
    assert output.index("requires a new password") < output.index("requires an authenticator")
    assert logins.load_logins(config.with_name("credentials.json"))["default"].id_token


def test_without_an_answer_the_authenticator_setup_is_a_clear_refusal(mfa_pool: Cognito) -> None:
    user = mfa_pool.user("radia")

    with pytest.raises(logins.LoginError, match="no authenticator app"):
        sign_in_unanswered(mfa_pool, user)


# --- docs/sdk.md ----------------------------------------------------------------------------


class _Api(BaseHTTPRequestHandler):
    """A stand-in for the deployed API: answers an empty list of endpoints and records the
    ``Authorization`` it got."""

    seen: list[str | None] = []  # noqa: RUF012 - the test reads what the server saw

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        body = json.dumps({"items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet: the test's output holds only what it checks."""


def test_the_pages_cognito_login_runs(mfa_pool: Cognito, config: Path) -> None:
    """The page's deployed-API block, with the pool, its client and Cognito's URL replaced by
    moto's, and the API's URL by a stand-in that checks the token (served on this machine's
    host name: a URL the login takes for a deployed API)."""
    block = COGNITO_LOGIN.examples
    mfa_pool.user("ada@example.com", totp=True)
    # On every interface: the stand-in is reached by this machine's host name.
    server = ThreadingHTTPServer(("0.0.0.0", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stand_in = f"http://{socket.gethostname()}:{server.server_address[1]}"
    environment = {
        **os.environ,
        "PATH": f"{MAAS.parent}{os.pathsep}{os.environ['PATH']}",
        "MAAS_CONFIG": str(config),
        "MAAS_COGNITO_ENDPOINT": mfa_pool.endpoint,
    }
    replacements = {
        "eu-west-1_AbCdEf123": mfa_pool.pool_id,
        "1example23456789abcdefghij": mfa_pool.client_id,
        API_URL: stand_in,
    }
    script = "set -e\n" + "\n".join(example.command for example in block)
    for documented, actual in replacements.items():
        assert documented in script
        script = script.replace(documented, actual)
    try:
        # No terminal (a new session): the prompts read the password and code from stdin.
        ran = subprocess.run(
            ["bash", "-c", script],
            input=f"{PASSWORD}\n123456\n",
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            start_new_session=True,
            check=False,
        )
    finally:
        server.shutdown()

    assert ran.returncode == 0, ran.stderr
    stored = logins.load_logins(config.with_name("credentials.json"))["prod"]
    assert _Api.seen == [f"Bearer {stored.id_token}"]
