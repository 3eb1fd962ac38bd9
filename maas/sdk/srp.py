"""The client's half of Cognito's Secure Remote Password sign-in (``USER_SRP_AUTH``).

With SRP the password never leaves the machine: the client sends ``SRP_A`` (``g^a mod N``),
Cognito answers ``SRP_B``, a salt and a secret block, and the client proves it knows the
password by signing the secret block with a key both sides derive. Cognito's variant is the
one its own SDKs implement (``amazon-cognito-identity-js``'s ``AuthenticationHelper``): the
3072-bit group of RFC 3526 with ``g = 2``, SHA-256, ``k = H(N | g)``, ``x = H(salt |
H(pool | user | ":" | password))`` and an HKDF of the shared secret with the info
``"Caldera Derived Key"``. The flow: https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-authentication-flow-methods.html#amazon-cognito-user-pools-user-password-auth-srp

Examples
--------
>>> session = SrpSession("eu-west-1_AbCdEf123")
>>> len(session.srp_a) > 700  # g^a mod N in hex: about 3072 bits
True
>>> pad_hex("ab"), pad_hex("1ab"), pad_hex("7f")
('00ab', '01ab', '7f')
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

#: RFC 3526's 3072-bit MODP prime (https://www.rfc-editor.org/rfc/rfc3526#section-4), as
#: Cognito uses it; ``tests/sdk/test_sdk_login.py`` checks it against the RFC's formula.
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B"
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
_G_HEX = "2"

#: The HKDF's info string, fixed by Cognito.
_INFO = b"Caldera Derived Key"

# Cognito parses the timestamp in English, whatever the client's locale: names spelled out.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def hash_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def pad_hex(value: int | str) -> str:
    """A number as hex of whole bytes that reads as positive (a leading ``00`` when the top
    bit is set), the form both sides hash."""
    digits = value if isinstance(value, str) else f"{value:x}"
    if len(digits) % 2 == 1:
        return f"0{digits}"
    if digits[0] in "89abcdefABCDEF":
        return f"00{digits}"
    return digits


def _hkdf(secret: bytes, salt: bytes) -> bytes:
    # RFC 5869 with one block of output, of which Cognito keeps 16 bytes.
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    return hmac.new(prk, _INFO + b"\x01", hashlib.sha256).digest()[:16]


#: ``k = H(N | g)``, the multiplier of SRP-6a, with Cognito's padding.
K = int(hash_hex(bytes.fromhex("00" + N_HEX + "0" + _G_HEX)), 16)


def scrambler(big_a: int, big_b: int) -> int:
    """``u = H(A | B)``."""
    return int(hash_hex(bytes.fromhex(pad_hex(big_a) + pad_hex(big_b))), 16)


def private_key(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    """``x = H(salt | H(pool | user | ":" | password))``."""
    inner = hash_hex(f"{pool_name}{user_id}:{password}".encode())
    return int(hash_hex(bytes.fromhex(pad_hex(salt_hex) + inner)), 16)


def session_key(shared_secret: int, u: int) -> bytes:
    """The 16-byte key both sides derive from the shared secret ``S`` and ``u``."""
    return _hkdf(bytes.fromhex(pad_hex(shared_secret)), bytes.fromhex(pad_hex(u)))


def timestamp(now: datetime | None = None) -> str:
    """Cognito's ``TIMESTAMP``: ``Tue Dec 8 09:05:02 UTC 2026`` (the day not zero-padded)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day} "
        f"{moment:%H:%M:%S} UTC {moment.year}"
    )


def claim_signature(key: bytes, pool_name: str, user_id: str, secret_block: str, when: str) -> str:
    """``PASSWORD_CLAIM_SIGNATURE``: HMAC-SHA256 of pool, user, secret block and time."""
    message = pool_name.encode() + user_id.encode() + base64.b64decode(secret_block) + when.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


class SrpSession:
    """One sign-in's ephemeral ``a`` and ``A``, for the user pool ``user_pool_id``.

    Parameters
    ----------
    user_pool_id
        ``<region>_<name>``; the name part enters the hashes.
    """

    def __init__(self, user_pool_id: str) -> None:
        self.pool_name = user_pool_id.split("_", 1)[1]
        # 128 random bytes, as Cognito's SDKs draw; A = g^a must not be 0 mod N.
        while True:
            self._a = int.from_bytes(secrets.token_bytes(128), "big") % N
            self._big_a = pow(G, self._a, N)
            if self._big_a % N != 0:
                break

    @property
    def srp_a(self) -> str:
        """``SRP_A`` of ``InitiateAuth``: ``A`` in hex."""
        return f"{self._big_a:x}"

    def answer(
        self,
        *,
        user_id: str,
        password: str,
        srp_b: str,
        salt: str,
        secret_block: str,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The ``PASSWORD_VERIFIER`` answer's signature and timestamp for the challenge's
        ``USER_ID_FOR_SRP``, ``SRP_B``, ``SALT`` and ``SECRET_BLOCK``.

        Raises
        ------
        ValueError
            When ``B`` is 0 mod N or ``u`` is 0: a server that could learn the password.
        """
        big_b = int(srp_b, 16)
        if big_b % N == 0:
            raise ValueError("SRP_B is 0 mod N: refusing the challenge")
        u = scrambler(self._big_a, big_b)
        if u == 0:
            raise ValueError("SRP's u is 0: refusing the challenge")
        x = private_key(self.pool_name, user_id, password, salt)
        shared = pow(big_b - K * pow(G, x, N), self._a + u * x, N)
        when = timestamp(now)
        return {
            "TIMESTAMP": when,
            "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "PASSWORD_CLAIM_SIGNATURE": claim_signature(
                session_key(shared, u), self.pool_name, user_id, secret_block, when
            ),
        }


__all__ = ["G", "K", "N", "SrpSession", "claim_signature", "pad_hex", "session_key", "timestamp"]
