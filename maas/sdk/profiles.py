"""Where the API is and who calls it: options, environment, or a named profile in a file.

The profile file is TOML, ``$MAAS_CONFIG`` or else ``~/.config/maas/profiles.toml``; each
table is one profile, with the API's URL and either a token or a command that prints one
(run without a shell, each time a connection is resolved)::

    [default]
    api_url = "http://127.0.0.1:8000"
    token_command = "maas local token --tenant acme"

    [ci]
    api_url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    token_command = "cat /run/secrets/maas-token"

A profile may also be only a login (``maas login --profile prod ...``), kept beside the file.

Each of the URL and the token is resolved on its own, first found wins: the command line's
option (``--api-url``, ``--token``), then the environment (``MAAS_API_URL``,
``MAAS_TOKEN``), then the profile named by ``--profile``, else ``MAAS_PROFILE``, else
``default``, then that profile's login (``maas login``, :mod:`maas.sdk.login`: its token,
renewed when it expires, sent only to the URL it was issued for). A profile named
explicitly must exist, in the file or as a login; ``default`` need not.

Examples
--------
>>> connection = resolve_connection(
...     api_url="http://127.0.0.1:8000",
...     environ={"MAAS_TOKEN": "t0ken", "MAAS_CONFIG": "/nonexistent/profiles.toml"},
... )
>>> connection.api_url, connection.token
('http://127.0.0.1:8000', 't0ken')
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from maas.sdk import login as logins_
from maas.sdk.errors import MaasSdkError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Environment variables, as the module docstring orders them.
CONFIG_VARIABLE = "MAAS_CONFIG"
API_URL_VARIABLE = "MAAS_API_URL"
TOKEN_VARIABLE = "MAAS_TOKEN"
PROFILE_VARIABLE = "MAAS_PROFILE"

DEFAULT_PROFILE = "default"

#: Seconds a token command may take (it may ask an identity provider over the network).
TOKEN_COMMAND_TIMEOUT = 60.0


class ProfileError(MaasSdkError):
    """The connection cannot be resolved: a missing or malformed profile, no URL, a failing
    token command."""


class Profile(BaseModel):
    """One named profile of the file."""

    model_config = ConfigDict(extra="forbid")

    api_url: str | None = Field(default=None, min_length=1)
    token: str | None = Field(default=None, min_length=1)
    token_command: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_token_source(self) -> Self:
        if self.token is not None and self.token_command is not None:
            raise ValueError("give token or token_command, not both")
        return self


@dataclass(frozen=True)
class Connection:
    """Where the API is, the token to send, and the profile they came from (if any)."""

    api_url: str
    token: str | None
    profile: str | None = None


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The profile file: ``$MAAS_CONFIG``, else ``~/.config/maas/profiles.toml``."""
    environ = os.environ if environ is None else environ
    configured = environ.get(CONFIG_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".config" / "maas" / "profiles.toml"


def load_profiles(path: Path) -> dict[str, Profile]:
    """Every profile of the file at ``path``; none when there is no file."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not a TOML file: {exc}") from None
    profiles: dict[str, Profile] = {}
    for name, table in document.items():
        try:
            profiles[name] = Profile.model_validate(table)
        except pydantic.ValidationError as exc:
            raise ProfileError(f"{path}: profile {name!r} is not valid: {exc}") from None
    return profiles


def resolve_connection(
    *,
    api_url: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Connection:
    """The connection from options, environment and profile, in that order (module docs).

    ``path`` is the profile file (default: :func:`config_path`); it need not exist.
    """
    environ = os.environ if environ is None else environ
    file = path or config_path(environ)
    name = profile or environ.get(PROFILE_VARIABLE) or None
    profiles = load_profiles(file)
    chosen = profiles.get(name or DEFAULT_PROFILE)
    credentials = logins_.credentials_path(file)
    login = logins_.load_logins(credentials).get(name or DEFAULT_PROFILE)
    if chosen is None and login is None and name is not None:
        known = ", ".join(sorted(profiles)) or "none"
        raise ProfileError(f"no profile {name!r} in {file} (profiles: {known})")
    url = (
        api_url
        or environ.get(API_URL_VARIABLE)
        or (chosen.api_url if chosen else None)
        or (login.api_url if login else None)
    )
    if not url:
        raise ProfileError(
            f"no API URL: give --api-url, set {API_URL_VARIABLE}, set api_url in a "
            f"profile of {file}, or run maas login"
        )
    found = token or environ.get(TOKEN_VARIABLE) or (chosen.token if chosen else None)
    if found is None and chosen is not None and chosen.token_command is not None:
        found = run_token_command(chosen.token_command)
    # A login's token goes only where it was issued: never to another API named by an option.
    if found is None and login is not None and login.api_url.rstrip("/") == url.rstrip("/"):
        found = logins_.current_token(credentials, name or DEFAULT_PROFILE, login)
    used = (name or DEFAULT_PROFILE) if chosen is not None or login is not None else None
    return Connection(api_url=url.rstrip("/"), token=found, profile=used)


def run_token_command(command: str) -> str:
    """Run a profile's ``token_command`` (no shell) and return what it printed, stripped.

    Examples
    --------
    >>> run_token_command("echo abc")
    'abc'
    """
    try:
        finished = subprocess.run(  # the user's own command, from their own file
            shlex.split(command),
            capture_output=True,
            text=True,
            timeout=TOKEN_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise ProfileError(f"token_command {command!r} could not run: {exc}") from None
    if finished.returncode != 0:
        raise ProfileError(
            f"token_command {command!r} exited {finished.returncode}: "
            f"{finished.stderr.strip()[:500]}"
        )
    token = finished.stdout.strip()
    if not token:
        raise ProfileError(f"token_command {command!r} printed no token")
    return token


__all__ = [
    "API_URL_VARIABLE",
    "CONFIG_VARIABLE",
    "DEFAULT_PROFILE",
    "PROFILE_VARIABLE",
    "TOKEN_VARIABLE",
    "Connection",
    "Profile",
    "ProfileError",
    "config_path",
    "load_profiles",
    "resolve_connection",
    "run_token_command",
]
