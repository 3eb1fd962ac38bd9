"""Models from the Hugging Face Hub, pinned to a commit and checked file by file.

The request names a branch, tag or commit; the job resolves it to a commit once, at the
start, and downloads every file at that commit, so a push to the branch mid-download cannot
mix two versions of a model. Only what serving needs is downloaded (see
:mod:`maas.packaging.selection`), one file at a time with ``hf_hub_download`` into a local
folder. ``hf_hub_download`` itself resumes a file whose transfer breaks off (a ``Range``
request on the same partial file, a few times); what still fails with a transient error (a
connection that cannot be made, a 5xx, a 429) is tried again here with exponential backoff,
from the start of that file. Each file is then checked against the Hub's metadata: its size,
and its SHA-256 (LFS files) or git blob id (small files).

The token for gated and private models comes from Secrets Manager when the request names a
secret (one of the tenant's own: :func:`hub_token`), else from ``HF_TOKEN``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
import huggingface_hub
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    DisabledRepoError,
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils.tqdm import tqdm as hub_tqdm

from maas.aws import client, error_code
from maas.exceptions import (
    IntegrityError,
    MaasError,
    SourceAccessDenied,
    SourceNotFound,
    SourceUnavailable,
    ValidationError,
)
from maas.packaging.files import (
    READ_CHUNK,
    disk_full_as_insufficient_storage,
    ensure_free_space,
    format_size,
)
from maas.packaging.reporting import Stage
from maas.packaging.selection import serving_files, split_weights
from maas.packaging.sources.fetched import FetchedSource
from maas.tenancy import owns_secret

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from huggingface_hub.hf_api import ModelInfo, RepoSibling

    from maas.packaging.reporting import Progress
    from schemas.packaging import HuggingFaceSource

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: The environment variable with a Hub token, when the request names no secret.
TOKEN_VARIABLE = "HF_TOKEN"

#: HTTP statuses the Hub answers when it is busy or briefly down.
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, a transient Hub error is tried again.

    Examples
    --------
    >>> list(RetryPolicy(attempts=5, first_delay=2.0, max_delay=10.0).delays())
    [2.0, 4.0, 8.0, 10.0]
    """

    attempts: int = 6
    first_delay: float = 2.0
    max_delay: float = 60.0

    def delays(self) -> Iterator[float]:
        """The waits between attempts: one fewer than the attempts."""
        for attempt in range(self.attempts - 1):
            yield min(self.first_delay * 2**attempt, self.max_delay)


def hub_token(source: HuggingFaceSource, *, tenant_id: str) -> str | None:
    """The token to send: the secret's, when the request names one, else ``HF_TOKEN``'s.

    A secret holds the token itself, or a JSON object with it under ``token``. It is read
    only when it is ``tenant_id``'s (:func:`maas.tenancy.owns_secret`, from
    ``DescribeSecret``): another tenant's secret is refused exactly as a missing one is,
    before ``GetSecretValue``, so the job reads no other tenant's token whatever its role may.
    """
    if source.token_secret_arn is None:
        return os.environ.get(TOKEN_VARIABLE) or None
    arn = source.token_secret_arn
    secrets = client("secretsmanager")
    try:
        if not owns_secret(secrets.describe_secret(SecretId=arn), tenant_id):
            raise _no_secret(arn)
        secret = secrets.get_secret_value(SecretId=arn)
    except MaasError:
        raise
    except Exception as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            raise _no_secret(arn) from None
        if code == "AccessDeniedException":
            raise SourceAccessDenied(
                f"the packaging job may not read the Hub token's secret {arn}"
            ) from None
        raise
    text = str(secret.get("SecretString") or "").strip()
    if text.startswith("{"):
        token = json.loads(text).get("token")
        if not isinstance(token, str):
            raise ValidationError(
                f"source.token_secret_arn: the secret's JSON has no 'token' string "
                f"({source.token_secret_arn})"
            )
        return token
    return text or None


def _no_secret(arn: str) -> ValidationError:
    """A missing secret's error, which another tenant's secret gets too."""
    return ValidationError(f"source.token_secret_arn: no secret {arn}")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, LocalEntryNotFoundError):
        # hf_hub_download's answer when the file's HEAD request failed and no local copy
        # exists; its cause says whether the Hub was unreachable or refused.
        return exc.__cause__ is not None and _transient(exc.__cause__)
    if isinstance(exc, HfHubHTTPError):
        return exc.response.status_code in _TRANSIENT_STATUSES
    # huggingface_hub speaks HTTP through httpx2 and lets its transport errors through.
    return isinstance(exc, (httpx2.TransportError, ConnectionError, TimeoutError))


def _access_error(exc: Exception, model: str, *, token: bool) -> MaasError | None:
    if isinstance(exc, GatedRepoError):
        if token:
            return SourceAccessDenied(
                f"{model} is a gated model and the Hub refused the token: the token's account "
                "must be granted access on the model's page"
            )
        return SourceAccessDenied(
            f"{model} is a gated model: a Hub token with access is needed "
            f"(source.token_secret_arn, or {TOKEN_VARIABLE} in the job's environment)"
        )
    if isinstance(exc, DisabledRepoError):
        return SourceAccessDenied(f"{model} has been disabled on the Hugging Face Hub")
    if isinstance(exc, HfHubHTTPError) and exc.response.status_code in (401, 403):
        refused = "refused the token" if token else "needs a token"
        return SourceAccessDenied(f"the Hub {refused} for {model}: {exc}")
    return None


def _not_found_error(exc: Exception, source: HuggingFaceSource, *, token: bool) -> MaasError | None:
    model = source.model_id
    if isinstance(exc, RepositoryNotFoundError):
        hint = "the token has no access to it" if token else "give a token"
        return SourceNotFound(
            f"model {model} not found on the Hugging Face Hub (if it is private, {hint})"
        )
    if isinstance(exc, RevisionNotFoundError):
        return SourceNotFound(f"revision {source.revision!r} of {model} not found")
    if isinstance(exc, EntryNotFoundError) and not isinstance(exc, LocalEntryNotFoundError):
        return SourceNotFound(f"a file of {model} at {source.revision!r} not found: {exc}")
    return None


def _typed_error(exc: Exception, source: HuggingFaceSource, *, token: bool) -> MaasError | None:
    """The ``Maas.*`` error a Hub error means, or None for one this module cannot name."""
    # Gated and disabled repositories are RepositoryNotFoundErrors too: access comes first.
    return _access_error(exc, source.model_id, token=token) or _not_found_error(
        exc, source, token=token
    )


def _call_hub(
    call: Callable[[], _T],
    source: HuggingFaceSource,
    what: str,
    *,
    token: bool,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
) -> _T:
    """``call()``, tried again on transient errors; Hub errors become ``Maas.*`` errors."""
    delays = retry.delays()
    while True:
        try:
            return call()
        except Exception as exc:
            typed = _typed_error(exc, source, token=token)
            if typed is not None:
                raise typed from exc
            if not _transient(exc):
                raise
            delay = next(delays, None)
            if delay is None:
                raise SourceUnavailable(
                    f"the Hugging Face Hub did not answer for {what} after {retry.attempts} "
                    f"attempts: {exc}"
                ) from exc
            logger.warning("%s: %s; trying again in %.0f s", what, exc, delay)
            sleep(delay)


def _progress_bar(progress: Progress, done_before: int) -> type[hub_tqdm]:
    """A progress bar class for ``hf_hub_download`` that counts into ``progress``."""

    class Bar(hub_tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
            # A download resumed within hf_hub_download starts at the bytes it kept.
            self.received = int(kwargs.get("initial") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            self.received += int(n or 0)
            progress.update(done_before + self.received)
            return None

    return Bar


def _verify(path: Path, sibling: RepoSibling) -> str:
    """Check a downloaded file against the Hub's metadata; return its SHA-256."""
    name = sibling.rfilename
    size = path.stat().st_size
    if sibling.size is not None and size != sibling.size:
        raise IntegrityError(f"{name}: downloaded {size} bytes, the Hub lists {sibling.size}")
    sha256 = hashlib.sha256()
    # A small file's blob id is git's: SHA-1 over a header and the content.
    blob = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(READ_CHUNK):
            sha256.update(chunk)
            blob.update(chunk)
    if sibling.lfs is not None and sha256.hexdigest() != sibling.lfs.sha256:
        raise IntegrityError(
            f"{name}: SHA-256 {sha256.hexdigest()} differs from the Hub's {sibling.lfs.sha256}"
        )
    if sibling.lfs is None and sibling.blob_id and blob.hexdigest() != sibling.blob_id:
        raise IntegrityError(
            f"{name}: git blob id {blob.hexdigest()} differs from the Hub's {sibling.blob_id}"
        )
    return sha256.hexdigest()


def fetch_huggingface(
    source: HuggingFaceSource,
    destination: Path,
    progress: Progress,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    before_weights: Callable[[Path], None] | None = None,
    tenant_id: str,
) -> FetchedSource:
    """Download what serving needs of a Hub model into ``destination``, pinned and checked.

    Small files come first; ``before_weights(destination)`` is called before the weights.
    The token's secret, if the source names one, must be ``tenant_id``'s (:func:`hub_token`).

    Raises
    ------
    SourceNotFound
        The model, the revision or a file does not exist.
    SourceAccessDenied
        A gated or private model, with no token or a refused one.
    SourceUnavailable
        The Hub did not answer after retries.
    IntegrityError
        A file's size or checksum differs from the Hub's.
    InsufficientStorage
        ``destination``'s disk cannot hold the files.
    """
    retry = retry or RetryPolicy()
    token = hub_token(source, tenant_id=tenant_id)
    progress.stage(Stage.RESOLVING, message=f"{source.model_id} at {source.revision}")
    info: ModelInfo = _call_hub(
        lambda: HfApi().model_info(
            source.model_id, revision=source.revision, files_metadata=True, token=token
        ),
        source,
        f"{source.model_id} at {source.revision}",
        token=token is not None,
        retry=retry,
        sleep=sleep,
    )
    commit = info.sha
    if commit is None:
        raise SourceUnavailable(f"the Hub named no commit for {source.model_id}")
    siblings = {sibling.rfilename: sibling for sibling in info.siblings or []}
    small, weights = split_weights(serving_files(siblings))
    # Small files first: the model can be sized from its config before its weights move.
    wanted = [siblings[name] for name in [*small, *weights]]
    if not weights:
        raise ValidationError(
            f"source: {source.model_id} at {commit} has no safetensors or PyTorch weights "
            "at its top level"
        )
    total = sum(sibling.size or 0 for sibling in wanted)
    destination.mkdir(parents=True, exist_ok=True)
    ensure_free_space(destination, total)
    progress.stage(
        Stage.DOWNLOADING,
        total_bytes=total,
        message=f"{len(wanted)} files of {source.model_id} at {commit[:12]}",
    )
    digests: dict[str, str] = {}
    done = 0
    for index, sibling in enumerate(wanted):
        name = sibling.rfilename
        if index == len(small) and before_weights is not None:
            before_weights(destination)
        download = partial(
            huggingface_hub.hf_hub_download,
            source.model_id,
            name,
            revision=commit,
            local_dir=destination,
            token=token,
            tqdm_class=_progress_bar(progress, done),
        )
        with disk_full_as_insufficient_storage(destination, total):
            _call_hub(
                download,
                source,
                f"{name} of {source.model_id}",
                token=token is not None,
                retry=retry,
                sleep=sleep,
            )
        digests[name] = _verify(destination / name, sibling)
        done += sibling.size or 0
        progress.update(done)
        logger.info("downloaded %s (%s)", name, format_size(sibling.size or 0))
    return FetchedSource(path=destination, revision=commit, sha256=digests)


__all__ = ["TOKEN_VARIABLE", "RetryPolicy", "fetch_huggingface", "hub_token"]
