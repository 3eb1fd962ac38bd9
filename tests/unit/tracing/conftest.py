"""A recorder of its own for each test, sending documents to a list instead of a daemon."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core.recorder import AWSXRayRecorder
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler

if TYPE_CHECKING:
    from collections.abc import Iterator


class CapturingEmitter:
    """The recorder's emitter interface; keeps each document it is given, decoded."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []

    def send_entity(self, entity: Any) -> None:
        self.documents.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address: str | None) -> None:
        del address

    @property
    def ip(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return 2000


@pytest.fixture
def emitter() -> CapturingEmitter:
    """Where the test's recorder sends its documents."""
    return CapturingEmitter()


@pytest.fixture(scope="session")
def _shared_recorder() -> AWSXRayRecorder:
    # Building a recorder creates botocore clients for centralized sampling (most of a
    # second); one is built per session and given each test's emitter.
    recorder = AWSXRayRecorder()
    recorder.configure(
        sampling=False, sampler=LocalSampler(), context_missing="RUNTIME_ERROR", plugins=()
    )
    return recorder


@pytest.fixture
def recorder(
    _shared_recorder: AWSXRayRecorder, emitter: CapturingEmitter
) -> Iterator[AWSXRayRecorder]:
    """A recorder that traces every request and raises when no segment is open.

    Any Powertools ``Tracer`` built outside Lambda earlier in this process switched the SDK
    off for all of it; the test switches it back on for its own duration.
    """
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    _shared_recorder.emitter = emitter
    yield _shared_recorder
    _shared_recorder.clear_trace_entities()
    global_sdk_config.set_sdk_enabled(was_enabled)
