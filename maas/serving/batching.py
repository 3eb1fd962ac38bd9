"""Micro-batching: concurrent requests share generation steps, a bounded number at a time.

The LMI container's rolling batch adds a request to the running batch at any step (continuous
batching). On a CPU one generation at a time already uses every core, so this server does the
simple thing: one worker thread generates; sequences that wait with the same sampling
parameters go together as one padded batch of at most ``max_batch_size``
(``option.max_rolling_batch_size``); the others wait for the next batch.

Examples
--------
>>> from maas.serving.protocol import Completion, SamplingParams
>>> def echo(prompts, params):
...     return [Completion(str(p), "length", len(p), 0) for p in prompts]
>>> batcher = MicroBatcher(echo, max_batch_size=2)
>>> [c.text for c in batcher.submit([[1], [2, 3], [4]], SamplingParams())]
['[1]', '[2, 3]', '[4]']
>>> list(batcher.batch_sizes)
[2, 1]
>>> batcher.close()
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.serving.protocol import Completion, SamplingParams


@dataclass
class _Sequence:
    prompt: list[int]
    params: SamplingParams
    result: Future[Completion] = field(default_factory=Future)
    #: Set for a streamed sequence, which is generated in a batch of its own.
    on_tokens: Callable[[list[int]], None] | None = None


class MicroBatcher:
    """One worker thread that runs ``generate`` on batches of waiting sequences.

    Parameters
    ----------
    generate
        Generates one completion per prompt (token ids), all with the same parameters.
    max_batch_size
        The most sequences in one call of ``generate``.
    generate_streamed
        Generates a batch of one, handing each step's tokens to a callback
        (:meth:`submit_streamed`); without it, streamed sequences fail.
    """

    def __init__(
        self,
        generate: Callable[[list[list[int]], SamplingParams], list[Completion]],
        max_batch_size: int,
        generate_streamed: Callable[
            [list[list[int]], SamplingParams, Callable[[list[int]], None]], list[Completion]
        ]
        | None = None,
    ) -> None:
        self._generate = generate
        self._generate_streamed = generate_streamed or _not_streamed
        self.max_batch_size = max_batch_size
        #: The sizes of the latest batches, oldest first.
        self.batch_sizes: deque[int] = deque(maxlen=1000)
        self._waiting: deque[_Sequence] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="generate", daemon=True)
        self._worker.start()

    @property
    def waiting(self) -> int:
        """How many sequences wait for a batch."""
        with self._ready:
            return len(self._waiting)

    def submit(self, prompts: list[list[int]], params: SamplingParams) -> list[Completion]:
        """Generate a completion for each prompt; blocks until all are done, in order."""
        sequences = [_Sequence(prompt, params) for prompt in prompts]
        with self._ready:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            self._waiting.extend(sequences)
            self._ready.notify()
        return [sequence.result.result() for sequence in sequences]

    def submit_streamed(
        self, prompt: list[int], params: SamplingParams, on_tokens: Callable[[list[int]], None]
    ) -> Completion:
        """Generate one completion, handing each step's new tokens to ``on_tokens``.

        A streamed sequence is a batch of its own: its steps are its own tokens, and an
        exception from ``on_tokens`` (the client went away) ends it without ending others.
        """
        sequence = _Sequence(prompt, params, on_tokens=on_tokens)
        with self._ready:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            self._waiting.append(sequence)
            self._ready.notify()
        return sequence.result.result()

    def close(self) -> None:
        """Stop the worker once the batch it runs is done; waiting sequences fail."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._worker.join()
        for sequence in self._waiting:
            sequence.result.set_exception(RuntimeError("the batcher is closed"))

    def _next_batch(self) -> list[_Sequence] | None:
        with self._ready:
            while not self._waiting and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            first = self._waiting.popleft()
            batch = [first]
            for sequence in list(self._waiting):
                if len(batch) == self.max_batch_size or first.on_tokens is not None:
                    break
                if sequence.params == first.params and sequence.on_tokens is None:
                    self._waiting.remove(sequence)
                    batch.append(sequence)
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            self.batch_sizes.append(len(batch))
            prompts = [sequence.prompt for sequence in batch]
            on_tokens = batch[0].on_tokens
            try:
                completions = (
                    self._generate(prompts, batch[0].params)
                    if on_tokens is None
                    else self._generate_streamed(prompts, batch[0].params, on_tokens)
                )
            except Exception as error:
                # Every request in the batch answers with the error; the worker goes on.
                for sequence in batch:
                    sequence.result.set_exception(error)
                continue
            for sequence, completion in zip(batch, completions, strict=True):
                sequence.result.set_result(completion)


def _not_streamed(
    prompts: list[list[int]], params: SamplingParams, on_tokens: Callable[[list[int]], None]
) -> list[Completion]:
    raise RuntimeError("this batcher was made without a streaming generator")


__all__ = ["MicroBatcher"]
