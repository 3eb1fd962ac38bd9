"""Local tenant tokens: Cognito-shaped ID tokens, signed with a key in the state directory."""

from __future__ import annotations

import base64
import json
import stat
import time
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from maas.cli.main import app
from maas.exceptions import ValidationError
from maas.local.tokens import (
    CLIENT_ID,
    ISSUER,
    KEY_FILE_NAME,
    InvalidToken,
    LocalTokens,
    state_directory,
)

if TYPE_CHECKING:
    from pathlib import Path


def segments(token: str) -> list[str]:
    return token.split(".")


def decode_segment(segment: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def encode_segment(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.fixture
def tokens(tmp_path: Path) -> LocalTokens:
    return LocalTokens.from_state_dir(tmp_path)


def test_issued_token_carries_cognito_id_token_claims(tokens: LocalTokens) -> None:
    issued_at = time.time()

    claims = tokens.verify(tokens.issue("acme", hours=2, now=issued_at))

    assert claims["custom:tenant_id"] == "acme"
    assert claims["cognito:username"] == "acme"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == CLIENT_ID
    assert claims["token_use"] == "id"
    assert claims["iat"] == claims["auth_time"] == int(issued_at)
    assert claims["exp"] == int(issued_at) + 2 * 3600
    assert {"sub", "jti"} <= set(claims)


def test_token_is_signed_rs256_with_the_key_id_in_its_header(tokens: LocalTokens) -> None:
    header = decode_segment(segments(tokens.issue("acme"))[0])

    assert header["alg"] == "RS256"
    assert header["kid"]


def test_a_tenant_keeps_its_sub_and_each_token_its_own_jti(tokens: LocalTokens) -> None:
    first, second = (tokens.verify(tokens.issue("acme")) for _ in range(2))
    other = tokens.verify(tokens.issue("globex"))

    assert first["sub"] == second["sub"] != other["sub"]
    assert first["jti"] != second["jti"]


def test_key_is_created_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    token = LocalTokens.from_state_dir(tmp_path / "state").issue("acme")
    key_file = tmp_path / "state" / KEY_FILE_NAME

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Another process reading the same directory verifies what this one issued.
    assert (
        LocalTokens.from_state_dir(tmp_path / "state").verify(token)["custom:tenant_id"] == "acme"
    )


def test_expired_token_is_refused(tokens: LocalTokens) -> None:
    expired = tokens.issue("acme", hours=1, now=time.time() - 3601)

    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(expired)


def test_token_with_changed_claims_is_refused(tokens: LocalTokens) -> None:
    header, payload, signature = segments(tokens.issue("acme"))
    claims = decode_segment(payload)
    claims["custom:tenant_id"] = "globex"

    with pytest.raises(InvalidToken):
        tokens.verify(f"{header}.{encode_segment(claims)}.{signature}")


def test_unsigned_token_is_refused(tokens: LocalTokens) -> None:
    _, payload, _ = segments(tokens.issue("acme"))
    unsigned = f"{encode_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}."

    with pytest.raises(InvalidToken):
        tokens.verify(unsigned)


def test_token_of_another_key_is_refused(tokens: LocalTokens, tmp_path: Path) -> None:
    stranger = LocalTokens.from_state_dir(tmp_path / "elsewhere")

    with pytest.raises(InvalidToken):
        tokens.verify(stranger.issue("acme"))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_malformed_token_is_refused(tokens: LocalTokens, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        tokens.verify(garbage)


@pytest.mark.parametrize("tenant", ["Acme", "acme_corp", "-acme", "a" * 33, ""])
def test_tenant_must_match_the_tenant_id_pattern(tokens: LocalTokens, tenant: str) -> None:
    with pytest.raises(ValidationError, match="tenant_id"):
        tokens.issue(tenant)


@pytest.mark.parametrize("hours", [0, -1, 25])
def test_lifetime_is_more_than_nothing_and_at_most_a_day(tokens: LocalTokens, hours: float) -> None:
    with pytest.raises(ValidationError, match="hours"):
        tokens.issue("acme", hours=hours)


def test_state_directory_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MAAS_LOCAL_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_directory() == tmp_path / "xdg" / "maas"

    monkeypatch.setenv("MAAS_LOCAL_STATE_DIR", str(tmp_path / "explicit"))
    assert state_directory() == tmp_path / "explicit"


def test_cli_prints_only_the_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAAS_LOCAL_STATE_DIR", str(tmp_path))

    result = CliRunner().invoke(app, ["local", "token", "--tenant", "acme", "--hours", "1"])

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "\n" not in token
    claims = LocalTokens.from_state_dir(tmp_path).verify(token)
    assert claims["custom:tenant_id"] == "acme"
    assert claims["exp"] - claims["iat"] == 3600


def test_cli_refuses_a_bad_tenant(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAAS_LOCAL_STATE_DIR", str(tmp_path))

    result = CliRunner().invoke(app, ["local", "token", "--tenant", "Not A Tenant"])

    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    assert result.stdout == ""
