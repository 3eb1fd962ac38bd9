"""Hub sources: pinned to a commit, only what serving needs, checked, retried, errors typed."""

from __future__ import annotations

import errno
import json
from collections import namedtuple
from typing import TYPE_CHECKING

import httpx2
import pytest
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from maas.aws import client
from maas.exceptions import (
    InsufficientStorage,
    IntegrityError,
    SourceAccessDenied,
    SourceNotFound,
    SourceUnavailable,
    ValidationError,
)
from maas.packaging.sources import FetchedSource, RetryPolicy, fetch_huggingface, hub_token
from schemas.packaging import HuggingFaceSource
from tests.unit.packaging.hub import COMMIT, response

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging import Progress
    from tests.unit.packaging.conftest import RecordingReporter
    from tests.unit.packaging.hub import FakeHub

SOURCE = HuggingFaceSource(model_id="acme/model", revision="main")
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maas/acme/hub-token-AbCdEf"


def fetch(
    tmp_path: Path,
    progress: Progress,
    source: HuggingFaceSource = SOURCE,
    sleeps: list[float] | None = None,
) -> FetchedSource:
    return fetch_huggingface(
        source,
        tmp_path / "source",
        progress,
        retry=RetryPolicy(attempts=3, first_delay=1.0),
        sleep=(sleeps if sleeps is not None else []).append,
        tenant_id="acme",
    )


# -- pinning and selection --------------------------------------------------------------


def test_the_revision_is_resolved_once_and_every_file_is_downloaded_at_its_commit(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    fetched = fetch_huggingface(SOURCE, tmp_path / "source", progress, tenant_id="acme")

    assert hub.info_calls == [
        {"repo_id": "acme/model", "revision": "main", "files_metadata": True, "token": None}
    ]
    assert {call["revision"] for call in hub.downloads} == {COMMIT}
    assert fetched.revision == COMMIT
    assert fetched.path == tmp_path / "source"


def test_only_the_files_serving_needs_are_downloaded_safetensors_before_pytorch(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    fetch_huggingface(SOURCE, tmp_path / "source", progress, tenant_id="acme")

    assert sorted(call["filename"] for call in hub.downloads) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]


def test_pytorch_weights_are_downloaded_when_there_are_no_safetensors(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    del hub.files["model.safetensors"]

    fetch_huggingface(SOURCE, tmp_path / "source", progress, tenant_id="acme")

    assert "pytorch_model.bin" in {call["filename"] for call in hub.downloads}


def test_a_repository_without_weights_at_its_top_level_is_rejected(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    del hub.files["model.safetensors"], hub.files["pytorch_model.bin"]

    with pytest.raises(ValidationError, match=r"acme/model at 0123456789ab.* no safetensors"):
        fetch_huggingface(SOURCE, tmp_path / "source", progress, tenant_id="acme")


def test_downloads_report_their_bytes_and_the_digests_are_kept_for_the_manifest(
    hub: FakeHub, tmp_path: Path, progress: Progress, reporter: RecordingReporter
) -> None:
    fetched = fetch_huggingface(SOURCE, tmp_path / "source", progress, tenant_id="acme")

    downloading = [report for report in reporter.reports if report.stage == "downloading"]
    total = sum(len(hub.files[name]) for name in fetched.sha256)
    assert {report.total_bytes for report in downloading} == {total}
    assert downloading[-1].done_bytes == total
    assert reporter.stages() == ["resolving", "downloading"]
    assert set(fetched.sha256) == {
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    }


# -- tokens -----------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("secret", ["hf_secret", json.dumps({"token": "hf_secret"})])
def test_the_token_comes_from_the_named_secret_plain_or_json(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_environment")
    arn = tenant_secret("acme", secret)

    token = hub_token(
        HuggingFaceSource(model_id="acme/model", token_secret_arn=arn), tenant_id="acme"
    )

    assert token == "hf_secret"


def tenant_secret(
    tenant: str, value: str, *, name: str | None = None, tag: str | None = None
) -> str:
    """A Hub token secret as docs/packaging.md has one made for ``tenant``: named under
    ``maas/<tenant>/`` and tagged with the tenant, unless ``name`` or ``tag`` say otherwise."""
    created = client("secretsmanager").create_secret(
        Name=name or f"maas/{tenant}/hub-token",
        SecretString=value,
        Tags=[
            {"Key": "maas:tenant", "Value": tag or tenant},
            {"Key": "maas:purpose", "Value": "hub-token"},
        ],
    )
    return str(created["ARN"])


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("name", "tag"),
    [
        (None, None),  # acme-x's own secret
        ("maas/acme/hub-token", "acme-x"),  # named as acme's, but acme-x's by its tag
        ("maas/acme-x/hub-token", "acme"),  # tagged acme, named under acme-x's prefix
    ],
)
def test_another_tenants_secret_is_refused_as_a_missing_one_before_it_is_read(
    name: str | None, tag: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = tenant_secret("acme-x", "hf_acme_x", name=name, tag=tag)
    reads: list[str] = []
    secrets = client("secretsmanager")
    original = secrets.get_secret_value
    monkeypatch.setattr(
        secrets, "get_secret_value", lambda **kw: reads.append(kw["SecretId"]) or original(**kw)
    )

    with pytest.raises(ValidationError) as refused:
        hub_token(HuggingFaceSource(model_id="acme/model", token_secret_arn=arn), tenant_id="acme")

    assert str(refused.value) == f"source.token_secret_arn: no secret {arn}"
    assert reads == []
    assert original(SecretId=arn)["SecretString"] == "hf_acme_x"


def test_without_a_secret_the_token_comes_from_hf_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_environment")

    assert hub_token(SOURCE, tenant_id="acme") == "hf_environment"


@pytest.mark.usefixtures("aws")
def test_a_missing_secret_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"source\.token_secret_arn: no secret"):
        hub_token(
            HuggingFaceSource(model_id="acme/model", token_secret_arn=SECRET_ARN), tenant_id="acme"
        )


def test_the_token_is_sent_with_every_call(
    hub: FakeHub, tmp_path: Path, progress: Progress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_environment")

    fetch_huggingface(SOURCE, tmp_path / "source", progress, tenant_id="acme")

    assert hub.info_calls[0]["token"] == "hf_environment"
    assert {call["token"] for call in hub.downloads} == {"hf_environment"}


# -- errors -----------------------------------------------------------------------------

Case = namedtuple("Case", "error expected message")

RESOLUTION_ERRORS = [
    Case(
        RepositoryNotFoundError("404", response=response(404)),
        SourceNotFound,
        r"model acme/model not found on the Hugging Face Hub \(if it is private, give a token\)",
    ),
    Case(
        RevisionNotFoundError("404", response=response(404)),
        SourceNotFound,
        r"revision 'main' of acme/model not found",
    ),
    Case(
        GatedRepoError("403", response=response(403)),
        SourceAccessDenied,
        r"acme/model is a gated model: a Hub token with access is needed",
    ),
    Case(
        HfHubHTTPError("401", response=response(401)),
        SourceAccessDenied,
        r"the Hub needs a token for acme/model",
    ),
]


@pytest.mark.parametrize("case", RESOLUTION_ERRORS, ids=lambda case: type(case.error).__name__)
def test_hub_errors_while_resolving_become_typed_errors_that_name_the_model(
    case: Case, hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    hub.failures["model_info"] = [case.error]

    with pytest.raises(case.expected, match=case.message):
        fetch(tmp_path, progress)


def test_a_gated_model_that_refuses_the_token_says_the_token_was_refused(
    hub: FakeHub, tmp_path: Path, progress: Progress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_no_access")
    hub.failures["model_info"] = [GatedRepoError("403", response=response(403))]

    with pytest.raises(SourceAccessDenied, match="the Hub refused the token"):
        fetch(tmp_path, progress)


def test_a_file_missing_at_the_commit_is_source_not_found(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    hub.failures["config.json"] = [RemoteEntryNotFoundError("404", response=response(404))]

    with pytest.raises(SourceNotFound, match="a file of acme/model"):
        fetch(tmp_path, progress)


def test_a_connection_error_mid_download_is_retried_and_the_download_completes(
    hub: FakeHub, tmp_path: Path, progress: Progress, reporter: RecordingReporter
) -> None:
    hub.failures["model.safetensors"] = [httpx2.ReadError("connection reset by peer")]
    sleeps: list[float] = []

    fetched = fetch(tmp_path, progress, sleeps=sleeps)

    assert sleeps == [1.0]
    assert [call["filename"] for call in hub.downloads].count("model.safetensors") == 2
    assert (fetched.path / "model.safetensors").read_bytes() == hub.files["model.safetensors"]
    # The retried file counts once: the bytes before the failure are not counted twice.
    assert max(report.done_bytes for report in reporter.reports) == reporter.reports[-1].total_bytes


def test_a_hub_that_cannot_be_reached_is_retried_with_backoff_then_unavailable(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    unreachable = LocalEntryNotFoundError("cannot find the requested files in the local cache")
    unreachable.__cause__ = httpx2.ConnectError("name or service not known")
    hub.failures["config.json"] = [unreachable, unreachable, unreachable]
    sleeps: list[float] = []

    with pytest.raises(SourceUnavailable, match=r"config\.json of acme/model after 3 attempts"):
        fetch(tmp_path, progress, sleeps=sleeps)
    assert sleeps == [1.0, 2.0]


def test_a_busy_hub_answering_503_is_retried(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    hub.failures["model_info"] = [HfHubHTTPError("503", response=response(503))]

    assert fetch(tmp_path, progress).revision == COMMIT


# -- integrity and disk -----------------------------------------------------------------


def test_a_weights_file_whose_sha256_differs_from_the_hubs_is_an_integrity_error(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    hub.declared["model.safetensors"] = {"sha256": "0" * 64}

    with pytest.raises(IntegrityError, match=r"model\.safetensors: SHA-256 [0-9a-f]{64} differs"):
        fetch(tmp_path, progress)


def test_a_small_file_whose_git_blob_id_differs_is_an_integrity_error(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    hub.declared["config.json"] = {"blob_id": "0" * 40}

    with pytest.raises(IntegrityError, match=r"config\.json: git blob id"):
        fetch(tmp_path, progress)


def test_a_file_of_the_wrong_size_is_an_integrity_error(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    hub.declared["tokenizer.json"] = {"size": 3}

    with pytest.raises(
        IntegrityError, match=r"tokenizer\.json: downloaded 2 bytes, the Hub lists 3"
    ):
        fetch(tmp_path, progress)


def test_too_little_free_disk_is_refused_before_downloading(
    hub: FakeHub, tmp_path: Path, progress: Progress, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda path: usage(10**9, 10**9 - 100, 100))

    with pytest.raises(
        InsufficientStorage, match=r"needs 1.0 kB \(1046 bytes\), 100 B \(100 bytes\)"
    ):
        fetch(tmp_path, progress)
    assert hub.downloads == []


def test_a_disk_that_fills_up_mid_download_is_insufficient_storage(
    hub: FakeHub, tmp_path: Path, progress: Progress
) -> None:
    hub.failures["model.safetensors"] = [OSError(errno.ENOSPC, "No space left on device")]

    with pytest.raises(InsufficientStorage, match=r"needs 1.0 kB \(1046 bytes\)"):
        fetch(tmp_path, progress)
