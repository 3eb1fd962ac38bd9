"""Micro-batching: waiting sequences share a generation call, at most the batch size at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from maas.serving.batching import MicroBatcher
from maas.serving.protocol import Completion, SamplingParams
from tests.local.support import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator


class HeldGenerator:
    """Generates on demand: each call waits until the test releases it."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[list[int]], SamplingParams]] = []
        self.release = threading.Semaphore(0)
        self.fail = False

    def __call__(self, prompts: list[list[int]], params: SamplingParams) -> list[Completion]:
        self.calls.append((prompts, params))
        self.release.acquire()
        if self.fail:
            raise RuntimeError("out of memory")
        return [Completion(f"{prompt}", "length", len(prompt), 1) for prompt in prompts]


@pytest.fixture
def generator() -> HeldGenerator:
    return HeldGenerator()


@pytest.fixture
def batcher(generator: HeldGenerator) -> Iterator[MicroBatcher]:
    running = MicroBatcher(generator, max_batch_size=2)
    yield running
    for _ in range(10):
        generator.release.release()
    running.close()


def test_sequences_that_wait_together_share_a_batch_up_to_its_size(
    generator: HeldGenerator, batcher: MicroBatcher
) -> None:
    greedy = SamplingParams()
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(batcher.submit, [[1]], greedy)
        wait_until(lambda: len(generator.calls) == 1)
        waiting = [pool.submit(batcher.submit, [[n]], greedy) for n in (2, 3, 4)]
        wait_until(lambda: batcher.waiting == 3)
        for _ in range(3):
            generator.release.release()

        assert first.result(timeout=5)[0].text == "[1]"
        assert sorted(future.result(timeout=5)[0].text for future in waiting) == [
            "[2]",
            "[3]",
            "[4]",
        ]
    assert list(batcher.batch_sizes) == [1, 2, 1]


def test_sequences_with_other_parameters_wait_for_their_own_batch(
    generator: HeldGenerator, batcher: MicroBatcher
) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        pool.submit(batcher.submit, [[1]], SamplingParams())
        wait_until(lambda: len(generator.calls) == 1)
        pool.submit(batcher.submit, [[2]], SamplingParams(max_new_tokens=5))
        pool.submit(batcher.submit, [[3]], SamplingParams())
        wait_until(lambda: batcher.waiting == 2)
        for _ in range(3):
            generator.release.release()

    assert [prompts for prompts, _ in generator.calls] == [[[1]], [[2]], [[3]]]


def test_a_failed_batch_fails_its_requests_and_the_next_batch_runs(
    generator: HeldGenerator, batcher: MicroBatcher
) -> None:
    generator.fail = True
    generator.release.release()
    with pytest.raises(RuntimeError, match="out of memory"):
        batcher.submit([[1], [2]], SamplingParams())

    generator.fail = False
    generator.release.release()
    assert [completion.text for completion in batcher.submit([[3]], SamplingParams())] == ["[3]"]


def test_a_closed_batcher_takes_no_more_requests(generator: HeldGenerator) -> None:
    batcher = MicroBatcher(generator, max_batch_size=2)
    batcher.close()

    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit([[1]], SamplingParams())
