"""``maas login``: sign in and keep the token in a profile, for the CLI and the SDK.

The API's URL decides how (:mod:`maas.sdk.login`): a URL on this machine is the local API,
whose tokens the local user pool's key issues (``maas.local.tokens``, as ``maas local
token`` does; its tenants have no passwords); any other is a deployed API, whose Cognito
user pool signs the user in with SRP and a TOTP code. The password is read without echo,
or from stdin with ``--password-stdin``; it is never an argument (arguments are visible to
every user of the machine, and kept in shell history).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from maas.cli.api_common import ApiUrl, ProfileName, err_console, exit_code_of
from maas.cli.exit_codes import ExitCode
from maas.sdk import login as logins
from maas.sdk.errors import MaasSdkError
from maas.sdk.profiles import DEFAULT_PROFILE, PROFILE_VARIABLE, config_path, load_profiles

if TYPE_CHECKING:
    from maas.sdk.login import CognitoLogin, LocalLogin

#: The user pool and its app client: the API stack's outputs ``UserPoolId`` and
#: ``UserPoolClientId``.
USER_POOL_VARIABLE = "MAAS_USER_POOL_ID"
CLIENT_VARIABLE = "MAAS_USER_POOL_CLIENT_ID"


def login(
    *,
    api_url: ApiUrl = None,
    profile: ProfileName = None,
    username: Annotated[
        str | None,
        typer.Option(help="The user pool's user (an email); asked when not given."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (one line).")
    ] = False,
    mfa_code: Annotated[
        str | None,
        typer.Option(help="The authenticator app's current code; asked when the pool asks."),
    ] = None,
    user_pool_id: Annotated[
        str | None,
        typer.Option(
            envvar=USER_POOL_VARIABLE,
            help="The Cognito user pool (the API stack's UserPoolId output).",
        ),
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            envvar=CLIENT_VARIABLE,
            help="The pool's app client (the API stack's UserPoolClientId output).",
        ),
    ] = None,
    cognito_endpoint: Annotated[
        str | None,
        typer.Option(
            envvar="MAAS_COGNITO_ENDPOINT",
            help="Cognito's URL, where not the pool's region's public endpoint.",
        ),
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Local API only: the tenant to sign in as.")
    ] = None,
    hours: Annotated[
        float, typer.Option(help="Local API only: how long the token lasts (at most 24).")
    ] = 24.0,
) -> None:
    """Sign in to the API and keep the token in the profile (--profile, else $MAAS_PROFILE,
    else 'default'); later commands and the SDK use it, renewed as it expires."""
    name = profile or os.environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE
    file = config_path()
    credentials = logins.credentials_path(file)
    try:
        chosen = load_profiles(file).get(name)
        earlier = logins.load_logins(credentials).get(name)
        url = (
            api_url
            or os.environ.get("MAAS_API_URL")
            or (chosen.api_url if chosen else None)
            or (earlier.api_url if earlier else None)
        )
        if not url:
            err_console.print(
                f"[bold red]error[/]: no API URL: give --api-url or set MAAS_API_URL "
                f"(profile {name!r} has none)"
            )
            raise typer.Exit(ExitCode.USAGE)
        url = url.rstrip("/")
        signed: CognitoLogin | LocalLogin
        if logins.is_loopback(url):
            signed = _local_login(url, tenant or _earlier_tenant(earlier), hours)
        else:
            previous = earlier if isinstance(earlier, logins.CognitoLogin) else None
            pool = user_pool_id or (previous.user_pool_id if previous else None)
            client = client_id or (previous.client_id if previous else None)
            if not pool or not client:
                err_console.print(
                    "[bold red]error[/]: give --user-pool-id and --client-id (the API stack's "
                    f"UserPoolId and UserPoolClientId outputs; or ${USER_POOL_VARIABLE}, "
                    f"${CLIENT_VARIABLE})"
                )
                raise typer.Exit(ExitCode.USAGE)
            user = username or typer.prompt("Username", err=True)
            signed = logins.cognito_login(
                api_url=url,
                user_pool_id=pool,
                client_id=client,
                username=user,
                password=_password(from_stdin=password_stdin),
                mfa_code=lambda: mfa_code or typer.prompt("Authenticator code", err=True),
                new_password=_new_password,
                mfa_setup=_set_up_authenticator,
                endpoint=cognito_endpoint or (previous.cognito_endpoint if previous else None),
            )
        logins.save_login(credentials, name, signed)
    except MaasSdkError as error:
        err_console.print(f"[bold red]error[/]: {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(exit_code_of(error)) from None
    err_console.print(
        f"logged in to {url} (profile {name!r}), token valid until "
        f"{signed.expires_at:%Y-%m-%d %H:%M} UTC; kept in {credentials}",
        highlight=False,
        soft_wrap=True,
    )


def _earlier_tenant(earlier: CognitoLogin | LocalLogin | None) -> str | None:
    return getattr(earlier, "tenant", None)


def _password(*, from_stdin: bool) -> str:
    if from_stdin:
        # One line, as `docker login --password-stdin`: the newline is not the password's.
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, err=True)
    if not password:
        err_console.print("[bold red]error[/]: no password given")
        raise typer.Exit(ExitCode.USAGE)
    return password


def _new_password() -> str:
    """The password that replaces an administrator's temporary one (asked twice)."""
    err_console.print("The pool requires a new password in place of the temporary one.")
    password: str = typer.prompt(
        "New password", hide_input=True, confirmation_prompt=True, err=True
    )
    return password


def _set_up_authenticator(secret: str, uri: str) -> str:
    """Show the authenticator app's secret; the first code the app then shows."""
    err_console.print(
        "The pool requires an authenticator app: add this account to yours (scan or paste the "
        f"URI, or type the secret), then give the code it shows.\n  secret: {secret}\n  {uri}",
        highlight=False,
        soft_wrap=True,
    )
    code: str = typer.prompt("Authenticator code", err=True)
    return code


def _local_login(url: str, tenant: str | None, hours: float) -> LocalLogin:
    if not tenant:
        err_console.print(
            "[bold red]error[/]: the local API's users are its tenants: give --tenant"
        )
        raise typer.Exit(ExitCode.USAGE)
    try:
        # The local runtime's key issues local tokens; a client install may lack it.
        from maas.local.tokens import LocalTokens  # noqa: PLC0415
    except ImportError as exc:
        err_console.print(
            f"[bold red]error[/]: signing in to the local API needs the local runtime "
            f"(pip install 'maas[local]'): {exc}"
        )
        raise typer.Exit(ExitCode.USAGE) from None
    from maas.exceptions import ValidationError  # noqa: PLC0415 - the runtime's, as above

    try:
        token = LocalTokens.from_state_dir().issue(tenant, hours=hours)
    except ValidationError as error:
        err_console.print(f"[bold red]error[/]: {error.message}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    return logins.LocalLogin(
        api_url=url, id_token=token, expires_at=logins.token_expiry(token), tenant=tenant
    )


def register(app: typer.Typer) -> None:
    """Add ``maas login`` to ``app``."""
    app.command("login")(login)


__all__ = ["login", "register"]
