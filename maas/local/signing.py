"""Calls answered in this process carry SigV4's header without computing its signature.

Why this exists: every AWS call the runtime's process makes (the handlers', the workflows',
the runtime's own) is answered in the process by moto, which verifies no signature: it
reads the access key and the region from the ``Authorization`` header's ``Credential`` (to
pick the account), and nothing else of it. Computing SigV4 (the canonical request, the
payload's SHA-256 and four HMACs, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)
was about 0.2 ms of CPU a call, some 5% of a read through the local API, for a signature
no one reads. Here the header keeps SigV4's form and its ``Credential`` scope, with a
signature of zeros.

What stays as it was:

- who a call is from: :mod:`maas.local.iam_enforcement` evaluates the credentials botocore
  holds for the client, never the header, so enforcement is unchanged (its tests pin it);
- S3's signing (``S3SigV4Auth``) and presigned URLs (query signing): a presigned URL
  leaves the process, and S3 reads the payload hash header;
- every process other than the runtime's: only this process's botocore is patched, only
  while the runtime is up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore import auth
from botocore.compat import get_current_datetime
from botocore.exceptions import NoCredentialsError

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

#: In place of the signature: as long as SigV4's (64 hex digits), and never a valid one.
UNSIGNED = "0" * 64


def install(stack: ExitStack) -> None:
    """Leave the signature of header-signed SigV4 calls uncomputed until ``stack`` closes."""
    original: Callable[[Any, Any], None] = auth.SigV4Auth.add_auth

    def add_auth(signer: Any, request: Any) -> None:
        if signer.__class__ is not auth.SigV4Auth:
            # S3's and query signing (subclasses) are computed as before.
            original(signer, request)
            return
        header_signer: Any = signer  # botocore's private helpers below are not in its stubs
        if header_signer.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = get_current_datetime().strftime(auth.SIGV4_TIMESTAMP)
        # The date and session token headers, as botocore sets them before it signs.
        header_signer._modify_request_before_signing(request)
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={header_signer.scope(request)}, "
            f"SignedHeaders=host;x-amz-date, Signature={UNSIGNED}"
        )

    stack.enter_context(replace(auth.SigV4Auth, "add_auth", add_auth))


__all__ = ["UNSIGNED", "install"]
