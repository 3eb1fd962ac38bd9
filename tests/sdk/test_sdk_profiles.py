"""Resolving the connection: options, then environment, then the named profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.sdk.profiles import ProfileError, config_path, resolve_connection

if TYPE_CHECKING:
    from pathlib import Path

PROFILES = """
[default]
api_url = "http://default.test"
token = "default-token"

[prod]
api_url = "https://prod.test/prod/"
token_command = "echo prod-token"

[broken]
api_url = "https://broken.test"
token_command = "sh -c 'exit 3'"
"""


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(PROFILES)
    return path


def test_the_default_profile_applies_when_nothing_else_is_given(profiles: Path) -> None:
    connection = resolve_connection(environ={}, path=profiles)

    assert (connection.api_url, connection.token, connection.profile) == (
        "http://default.test",
        "default-token",
        "default",
    )


def test_a_named_profile_runs_its_token_command(profiles: Path) -> None:
    connection = resolve_connection(profile="prod", environ={}, path=profiles)

    assert connection.api_url == "https://prod.test/prod"
    assert connection.token == "prod-token"


def test_maas_profile_names_the_profile(profiles: Path) -> None:
    connection = resolve_connection(environ={"MAAS_PROFILE": "prod"}, path=profiles)

    assert connection.profile == "prod"


def test_environment_overrides_the_profile_and_options_override_both(profiles: Path) -> None:
    environ = {"MAAS_API_URL": "http://env.test", "MAAS_TOKEN": "env-token"}

    from_env = resolve_connection(profile="prod", environ=environ, path=profiles)
    from_options = resolve_connection(
        api_url="http://option.test", token="option-token", environ=environ, path=profiles
    )

    assert (from_env.api_url, from_env.token) == ("http://env.test", "env-token")
    assert (from_options.api_url, from_options.token) == ("http://option.test", "option-token")


def test_an_unknown_profile_is_an_error_naming_the_known_ones(profiles: Path) -> None:
    with pytest.raises(ProfileError, match=r"no profile 'staging' .*broken, default, prod"):
        resolve_connection(profile="staging", environ={}, path=profiles)


def test_a_failing_token_command_is_an_error(profiles: Path) -> None:
    with pytest.raises(ProfileError, match="exited 3"):
        resolve_connection(profile="broken", environ={}, path=profiles)


def test_no_url_anywhere_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no API URL"):
        resolve_connection(environ={}, path=tmp_path / "missing.toml")


def test_a_profile_with_token_and_token_command_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text('[default]\napi_url = "http://x.test"\ntoken = "a"\ntoken_command = "b"\n')

    with pytest.raises(ProfileError, match="token or token_command"):
        resolve_connection(environ={}, path=path)


def test_the_file_is_maas_config_else_under_the_home_config(tmp_path: Path) -> None:
    assert config_path({"MAAS_CONFIG": str(tmp_path / "p.toml")}) == tmp_path / "p.toml"
    assert config_path({}).parts[-3:] == (".config", "maas", "profiles.toml")
