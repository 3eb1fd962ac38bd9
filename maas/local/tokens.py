"""Tenant tokens for the local API: what a Cognito user pool issues on AWS.

On AWS a tenant signs in to the product's Cognito user pool and sends the ID token it gets
to API Gateway, whose Cognito authorizer verifies it and hands its claims to the API
function. Locally, :class:`LocalTokens` plays the user pool: :meth:`LocalTokens.issue`
signs an ID token shaped like Cognito's (``sub``, ``iss``, ``aud``, ``token_use``,
``auth_time``, ``iat``, ``exp``, ``jti``, ``cognito:username``, ``custom:tenant_id``) and
:meth:`LocalTokens.verify` checks it as the authorizer does: signature, issuer, audience,
``token_use``, expiry.

Why a key file and not moto's cognito-idp: moto's user pools live in the memory of the
process that runs the emulation, so a token would need ``maas local up`` running to be
issued and would die with it; and moto signs every pool's tokens with one private key that
ships inside moto, so its tokens prove nothing. Here the signing key (RSA, RS256 as
Cognito's) is created on first use in the state directory, readable by its owner only, and
shared by ``maas local token`` and ``maas local up``: tokens survive restarts, can be issued
before the runtime starts, and cannot be forged by anyone who cannot read the file.

The state directory is ``$MAAS_LOCAL_STATE_DIR``, else ``$XDG_STATE_HOME/maas``, else
``~/.local/state/maas``.

Examples
--------
.. code-block:: python

    tokens = LocalTokens.from_state_dir()
    token = tokens.issue("acme", hours=12)
    tokens.verify(token)["custom:tenant_id"]  # 'acme'
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pydantic
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from maas.exceptions import ValidationError
from maas.validation import parse_as
from schemas.common import TenantId

#: Where the signing key and other local state live, when set.
STATE_DIR_VARIABLE = "MAAS_LOCAL_STATE_DIR"

#: The file, in the state directory, that holds the signing key (a private JWK).
KEY_FILE_NAME = "token-signing-key.json"

#: The local user pool's id, as Cognito names pools (``<region>_<id>``).
USER_POOL_ID = "local_maas"

#: The issuer of local tokens; Cognito's is ``https://cognito-idp.<region>.amazonaws.com/<pool>``.
ISSUER = f"https://cognito-idp.local/{USER_POOL_ID}"

#: The app client the tokens are issued to: an ID token's ``aud``.
CLIENT_ID = "maas-local-client"

#: The claim that carries the tenant, a custom attribute of the user pool.
TENANT_CLAIM = "custom:tenant_id"

_ALGORITHM = "RS256"
_KEY_BITS = 2048
# Cognito's ID tokens live 5 minutes to 1 day; a day is the longest the pool would allow.
_MAX_HOURS = 24.0
_TENANT = pydantic.TypeAdapter(TenantId)


class InvalidToken(Exception):
    """A token the local authorizer refuses: malformed, forged, expired or not ours."""


def state_directory() -> Path:
    """The directory of the local runtime's lasting state (see the module docstring)."""
    configured = os.environ.get(STATE_DIR_VARIABLE)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "maas"


def _load_or_create_key(path: Path) -> RSAKey:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(
        _KEY_BITS, parameters={"use": "sig", "alg": _ALGORITHM}, private=True, auto_kid=True
    )
    document = json.dumps(key.as_dict(private=True))
    try:
        # O_EXCL: two processes creating the key at once must end up sharing one of them.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _wait_for_key(path)
    with os.fdopen(descriptor, "w") as file:
        file.write(document)
    return key


def _wait_for_key(path: Path) -> RSAKey:
    # The other process created the file an instant ago and may still be writing it.
    deadline = time.monotonic() + 5
    while True:
        try:
            return RSAKey.import_key(json.loads(path.read_text()))
        except (ValueError, JoseError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class LocalTokens:
    """Issue and verify the local user pool's ID tokens with one signing key.

    Parameters
    ----------
    key
        The RSA key that signs (and whose public half verifies) the tokens.
    """

    def __init__(self, key: RSAKey) -> None:
        self._key = key

    @classmethod
    def from_state_dir(cls, directory: Path | None = None) -> LocalTokens:
        """The tokens of the key in ``directory`` (default :func:`state_directory`).

        The key is created, readable by its owner only, when the directory has none.
        """
        return cls(_load_or_create_key((directory or state_directory()) / KEY_FILE_NAME))

    def issue(self, tenant_id: str, hours: float = 12.0, *, now: float | None = None) -> str:
        """A signed ID token for ``tenant_id`` that expires in ``hours``.

        Raises
        ------
        ValidationError
            When ``tenant_id`` is not a valid tenant id or ``hours`` is out of range.
        """
        try:
            tenant = parse_as(_TENANT, tenant_id)
        except ValidationError as exc:
            raise ValidationError(f"tenant_id: {exc.message.removeprefix('request: ')}") from None
        if not 0 < hours <= _MAX_HOURS:
            raise ValidationError(f"hours: must be more than 0 and at most {_MAX_HOURS:g}")
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            # One local user per tenant: the same sub in every token the tenant gets.
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ISSUER}/{tenant}")),
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "token_use": "id",
            "auth_time": issued,
            "iat": issued,
            "exp": issued + int(hours * 3600),
            "jti": str(uuid.uuid4()),
            "cognito:username": tenant,
            TENANT_CLAIM: tenant,
        }
        header = {"alg": _ALGORITHM, "kid": self._key.kid}
        return jwt.encode(header, claims, self._key, algorithms=[_ALGORITHM])

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of ``token`` once it passes the checks Cognito's authorizer makes.

        Raises
        ------
        InvalidToken
            When the token is malformed, not signed by this key, expired, not an ID token
            of the local pool's client, or carries no valid tenant.
        """
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": CLIENT_ID},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
        )
        try:
            decoded = jwt.decode(token, self._key, algorithms=[_ALGORITHM])
            if decoded.header.get("kid") != self._key.kid:
                raise InvalidToken("the token was signed by another key")
            registry.validate(decoded.claims)
            parse_as(_TENANT, decoded.claims.get(TENANT_CLAIM))
        except (JoseError, ValueError, ValidationError) as exc:
            raise InvalidToken(str(exc) or type(exc).__name__) from exc
        return dict(decoded.claims)


__all__ = [
    "CLIENT_ID",
    "ISSUER",
    "KEY_FILE_NAME",
    "STATE_DIR_VARIABLE",
    "TENANT_CLAIM",
    "USER_POOL_ID",
    "InvalidToken",
    "LocalTokens",
    "state_directory",
]
