"""Signing in: a profile's tokens, kept beside the profile file and refreshed when they expire.

``maas login`` signs in and keeps what it got in ``credentials.json`` beside the profile
file (``~/.config/maas/credentials.json``; readable by its owner only, like
``~/.aws/credentials``), one entry per profile: the API's URL, the ID token the API wants,
when it expires, and what renews it. :func:`maas.sdk.resolve_connection` uses a profile's
entry when nothing earlier gives a token, and only for the URL it was issued for.

Against AWS the product's Cognito user pool signs users in (``stacks/api.py``): its app
client allows Secure Remote Password only (``USER_SRP_AUTH``: the password never leaves the
machine; :mod:`maas.sdk.srp`), requires a TOTP second factor, and lets a refresh token
(30 days) renew the one-hour ID token with ``REFRESH_TOKEN_AUTH``. Cognito's sign-in
operations are public and unsigned (no AWS credentials: the caller proves who it is with
the password), so they are plain JSON over HTTPS here, with the SDK's own ``httpx`` rather
than boto3, which a client install does not carry. The operations:
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RespondToAuthChallenge.html

A local login (``maas local up``) holds a token of the local user pool
(``maas.local.tokens``); it is issued again by signing in again, as it is a day at most.

Examples
--------
>>> cognito_endpoint("eu-west-1_AbCdEf123")
'https://cognito-idp.eu-west-1.amazonaws.com/'
>>> is_loopback("http://127.0.0.1:8000"), is_loopback("https://abc.execute-api.eu-west-1.amazonaws.com/prod")
(True, False)
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote, urlsplit

import httpx
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from maas.sdk.errors import MaasSdkError
from maas.sdk.srp import SrpSession

if TYPE_CHECKING:
    from collections.abc import Callable

#: The file of logins, in the profile file's directory.
CREDENTIALS_FILE_NAME = "credentials.json"

#: A token this close to its expiry is renewed before it is sent (a request may queue).
REFRESH_MARGIN = timedelta(minutes=2)

#: Seconds a call to Cognito may take.
COGNITO_TIMEOUT = 30.0

_TARGET_PREFIX = "AWSCognitoIdentityProviderService."


class LoginError(MaasSdkError):
    """Signing in or renewing a login failed: refused credentials, a challenge this client
    cannot answer, an expired login."""


class _Login(BaseModel):
    """What every login holds: the API it is for, its token and when that runs out."""

    model_config = ConfigDict(extra="forbid")

    api_url: str
    id_token: str
    expires_at: datetime


class CognitoLogin(_Login):
    """A login to a deployed API through its Cognito user pool."""

    kind: Literal["cognito"] = "cognito"
    user_pool_id: str
    client_id: str
    username: str
    refresh_token: str
    #: Where Cognito answers; ``None`` is the pool's region's public endpoint.
    cognito_endpoint: str | None = None


class LocalLogin(_Login):
    """A login to the local API (``maas local up``): a token of the local user pool."""

    kind: Literal["local"] = "local"
    tenant: str


Login = Annotated[CognitoLogin | LocalLogin, Field(discriminator="kind")]
_LOGINS = pydantic.TypeAdapter(dict[str, Login])


def credentials_path(profile_file: Path) -> Path:
    """The logins' file, beside the profile file ``profile_file``."""
    return profile_file.with_name(CREDENTIALS_FILE_NAME)


def load_logins(path: Path) -> dict[str, CognitoLogin | LocalLogin]:
    """Every profile's login in ``path``; none when there is no file."""
    try:
        return _LOGINS.validate_json(path.read_bytes())
    except FileNotFoundError:
        return {}
    except pydantic.ValidationError as exc:
        raise LoginError(f"{path}: not a file of logins: {exc}") from None


def save_login(path: Path, profile: str, login: CognitoLogin | LocalLogin) -> None:
    """Keep ``login`` as ``profile``'s in ``path`` (created readable by its owner only)."""
    logins = load_logins(path)
    logins[profile] = login
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole to a private file beside it, then renamed: a reader never sees half of
    # it, and the tokens are never readable by others, even for an instant.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(_LOGINS.dump_json(logins, indent=2))
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise


def is_loopback(api_url: str) -> bool:
    """Whether ``api_url`` is on this machine: the local API, whose tokens are local."""
    host = urlsplit(api_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cognito_endpoint(user_pool_id: str) -> str:
    """The public Cognito endpoint of the pool's region (the pool id's prefix)."""
    region = user_pool_id.split("_", 1)[0]
    return f"https://cognito-idp.{region}.amazonaws.com/"


def token_expiry(token: str) -> datetime:
    """The ``exp`` of a JWT, read without checking its signature (the API checks it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise LoginError(f"the identity provider answered a token that is not a JWT: {exc}") from (
            None
        )


class CognitoClient:
    """Cognito's public sign-in operations, as JSON over HTTPS (see the module docstring).

    Parameters
    ----------
    endpoint
        The service's URL (default: the public endpoint of the pool's region).
    transport
        An httpx transport, for tests.
    """

    def __init__(self, endpoint: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(timeout=COGNITO_TIMEOUT, transport=transport)
        self._endpoint = endpoint

    def __enter__(self) -> CognitoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """One operation; an error's ``__type`` and message become a :class:`LoginError`."""
        try:
            response = self._http.post(
                self._endpoint,
                content=json.dumps(body),
                headers={
                    "Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": _TARGET_PREFIX + operation,
                },
            )
        except httpx.HTTPError as exc:
            raise LoginError(f"Cognito ({self._endpoint}) could not be reached: {exc}") from None
        try:
            document: dict[str, Any] = response.json()
        except ValueError:
            document = {}
        if response.status_code != 200:
            kind = str(document.get("__type", f"HTTP {response.status_code}")).split("#")[-1]
            message = document.get("message") or document.get("Message") or response.text[:300]
            raise LoginError(f"Cognito refused {operation}: {kind}: {message}")
        return document


def _authenticated(answer: dict[str, Any]) -> dict[str, Any]:
    result = answer.get("AuthenticationResult")
    if not isinstance(result, dict) or "IdToken" not in result:
        raise LoginError(f"Cognito answered no tokens: {sorted(answer)}")
    return result


#: Challenges after the password, answered in turn; a pool asks a few at most.
_MAX_CHALLENGES = 4


@dataclass(frozen=True)
class _SignIn:
    """What answering the challenges after the password needs."""

    client_id: str
    internal: str  # the pool's own name for the user
    username: str  # as the user typed it, for messages
    user_pool_id: str
    mfa_code: Callable[[], str]
    new_password: Callable[[], str] | None


def _answer_challenges(
    idp: CognitoClient,
    answer: dict[str, Any],
    user: _SignIn,
    mfa_setup: Callable[[str, str], str] | None,
) -> dict[str, Any]:
    """Answer the challenges that follow the password until Cognito answers tokens."""
    for _ in range(_MAX_CHALLENGES):
        challenge = answer.get("ChallengeName")
        if not challenge:
            return answer
        responses: dict[str, str] = {"USERNAME": user.internal}
        session = answer.get("Session")
        if challenge == "SOFTWARE_TOKEN_MFA":
            responses["SOFTWARE_TOKEN_MFA_CODE"] = user.mfa_code()
        elif challenge == "NEW_PASSWORD_REQUIRED":
            if user.new_password is None:
                raise LoginError(
                    f"{user.username} still has the temporary password an administrator gave "
                    "it: the pool requires a new one first (maas login asks for it at a "
                    "terminal)"
                )
            responses["NEW_PASSWORD"] = user.new_password()
        elif challenge == "MFA_SETUP":
            if mfa_setup is None:
                raise LoginError(
                    f"{user.username} has no authenticator app yet and the pool requires one "
                    "(maas login sets one up at a terminal)"
                )
            session = _associate_authenticator(idp, session, user, mfa_setup)
        else:
            raise LoginError(f"Cognito asked {challenge!r}, which maas login cannot answer")
        answer = idp.call(
            "RespondToAuthChallenge",
            {
                "ChallengeName": challenge,
                "ClientId": user.client_id,
                "ChallengeResponses": responses,
                **({"Session": session} if session else {}),
            },
        )
    raise LoginError(f"Cognito kept asking challenges ({answer.get('ChallengeName')!r} last)")


def _associate_authenticator(
    idp: CognitoClient,
    session: str | None,
    user: _SignIn,
    mfa_setup: Callable[[str, str], str],
) -> str:
    """Associate an authenticator app during sign-in; the session that completes it.

    https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AssociateSoftwareToken.html
    """
    associated = idp.call("AssociateSoftwareToken", {"Session": session})
    secret = str(associated["SecretCode"])
    verified = idp.call(
        "VerifySoftwareToken",
        {
            "Session": associated.get("Session", session),
            "UserCode": mfa_setup(secret, totp_uri(secret, user.username, user.user_pool_id)),
            "FriendlyDeviceName": "maas login",
        },
    )
    if verified.get("Status") != "SUCCESS":
        raise LoginError(f"Cognito did not verify the authenticator's code: {verified}")
    return str(verified["Session"])


def totp_uri(secret: str, username: str, user_pool_id: str) -> str:
    """The ``otpauth://`` URI an authenticator app adds a TOTP secret from.

    >>> totp_uri("JBSWY3DPEHPK3PXP", "ada@example.com", "eu-west-1_AbC")
    'otpauth://totp/maas%20eu-west-1_AbC:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=maas%20eu-west-1_AbC'
    """
    issuer = quote(f"maas {user_pool_id}")
    return f"otpauth://totp/{issuer}:{quote(username)}?secret={secret}&issuer={issuer}"


def cognito_login(
    *,
    api_url: str,
    user_pool_id: str,
    client_id: str,
    username: str,
    password: str,
    mfa_code: Callable[[], str],
    new_password: Callable[[], str] | None = None,
    mfa_setup: Callable[[str, str], str] | None = None,
    endpoint: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> CognitoLogin:
    """Sign ``username`` in with SRP, answering a TOTP challenge with ``mfa_code()``.

    A first sign-in answers what the pool asks next
    (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RespondToAuthChallenge.html):
    ``NEW_PASSWORD_REQUIRED`` (a user an administrator created with a temporary password)
    with ``new_password()``, and ``MFA_SETUP`` (a pool that requires MFA, a user without an
    authenticator app) by associating one: ``mfa_setup(secret, uri)`` is shown the app's
    secret and its ``otpauth://`` URI and returns the app's first code, which
    ``VerifySoftwareToken`` checks.

    Raises
    ------
    LoginError
        When Cognito refuses, or asks for what the caller gave no answer to (no
        ``new_password`` or ``mfa_setup``), or for a challenge this client does not answer.
    """
    srp = SrpSession(user_pool_id)
    with CognitoClient(endpoint or cognito_endpoint(user_pool_id), transport=transport) as idp:
        answer = idp.call(
            "InitiateAuth",
            {
                "AuthFlow": "USER_SRP_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": username, "SRP_A": srp.srp_a},
            },
        )
        challenge = answer.get("ChallengeName")
        if challenge != "PASSWORD_VERIFIER":
            raise LoginError(f"Cognito asked {challenge!r} where SRP's PASSWORD_VERIFIER was due")
        parameters: dict[str, str] = answer["ChallengeParameters"]
        # The pool's own name for the user (an email signs in; the pool answers its id).
        internal = parameters.get("USERNAME", parameters["USER_ID_FOR_SRP"])
        responses = srp.answer(
            user_id=parameters["USER_ID_FOR_SRP"],
            password=password,
            srp_b=parameters["SRP_B"],
            salt=parameters["SALT"],
            secret_block=parameters["SECRET_BLOCK"],
        )
        answer = idp.call(
            "RespondToAuthChallenge",
            {
                "ChallengeName": "PASSWORD_VERIFIER",
                "ClientId": client_id,
                "ChallengeResponses": {"USERNAME": internal, **responses},
                **({"Session": answer["Session"]} if answer.get("Session") else {}),
            },
        )
        answer = _answer_challenges(
            idp,
            answer,
            _SignIn(client_id, internal, username, user_pool_id, mfa_code, new_password),
            mfa_setup,
        )
        result = _authenticated(answer)
    return CognitoLogin(
        api_url=api_url,
        id_token=result["IdToken"],
        expires_at=token_expiry(result["IdToken"]),
        user_pool_id=user_pool_id,
        client_id=client_id,
        username=internal,
        refresh_token=result["RefreshToken"],
        cognito_endpoint=endpoint,
    )


def refreshed(login: CognitoLogin, *, transport: httpx.BaseTransport | None = None) -> CognitoLogin:
    """``login`` with a new ID token from its refresh token (``REFRESH_TOKEN_AUTH``).

    Raises
    ------
    LoginError
        When Cognito refuses the refresh token (expired after 30 days, or revoked).
    """
    endpoint = login.cognito_endpoint or cognito_endpoint(login.user_pool_id)
    with CognitoClient(endpoint, transport=transport) as idp:
        try:
            answer = idp.call(
                "InitiateAuth",
                {
                    "AuthFlow": "REFRESH_TOKEN_AUTH",
                    "ClientId": login.client_id,
                    "AuthParameters": {"REFRESH_TOKEN": login.refresh_token},
                },
            )
        except LoginError as exc:
            raise LoginError(f"{exc}; the login cannot be renewed: run maas login again") from None
    result = _authenticated(answer)
    return login.model_copy(
        update={
            "id_token": result["IdToken"],
            "expires_at": token_expiry(result["IdToken"]),
            # Cognito sends a new refresh token only when the client rotates them.
            "refresh_token": result.get("RefreshToken") or login.refresh_token,
        }
    )


def current_token(
    path: Path,
    profile: str,
    login: CognitoLogin | LocalLogin,
    *,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """``login``'s ID token, renewed (and kept in ``path``) when it is about to expire.

    Raises
    ------
    LoginError
        When the token has expired and cannot be renewed here.
    """
    moment = now or datetime.now(UTC)
    if login.expires_at - REFRESH_MARGIN > moment:
        return login.id_token
    if isinstance(login, LocalLogin):
        raise LoginError(
            f"the local login of profile {profile!r} expired at "
            f"{login.expires_at:%Y-%m-%d %H:%M} UTC: run `maas login --tenant {login.tenant}` "
            "again"
        )
    renewed = refreshed(login, transport=transport)
    save_login(path, profile, renewed)
    return renewed.id_token


__all__ = [
    "CREDENTIALS_FILE_NAME",
    "CognitoClient",
    "CognitoLogin",
    "LocalLogin",
    "LoginError",
    "cognito_endpoint",
    "cognito_login",
    "credentials_path",
    "current_token",
    "is_loopback",
    "load_logins",
    "refreshed",
    "save_login",
    "token_expiry",
]
