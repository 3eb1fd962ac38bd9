"""A streamed answer: the endpoint's events read as they come, and the guardrail in windows.

The endpoint streams a chat completion as server-sent events (``data: {chunk}``, then
``data: [DONE]``), carried by ``InvokeEndpointWithResponseStream`` in ``PayloadPart`` events
whose bytes need not end on an event's boundary: :func:`server_sent_events` reassembles them.

The answer is checked as Bedrock checks a streamed answer in its synchronous mode
(https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-streaming.html): the text is
held back until a window of it has gathered, the window goes to the guardrail
(``source=OUTPUT``), and only what the guardrail lets through (or masks) is released.
Once a window is blocked, the guardrail's message is released in its place and nothing the
model writes after it is. A finding that spans two windows is seen by neither: the price of
releasing text before the answer is whole.

Examples
--------
>>> list(server_sent_events([b'data: {"a"', b': 1}\\n\\ndata: [DONE]\\n\\n']))
[{'a': 1}]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maas.guardrails import GuardrailVerdict
from maas.pipeline.exceptions import ModelCallFailed

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from maas.pipeline.pipeline import Guard
    from maas.pipeline.results import PipelineAnswer

#: How many characters of the answer gather before the guardrail checks them.
OUTPUT_WINDOW_CHARACTERS = 100


@dataclass(frozen=True)
class StreamedText:
    """Text of the answer the client may see now."""

    text: str


@dataclass(frozen=True)
class StreamedAnswer:
    """The end of a streamed request: the whole answer as :meth:`RagPipeline.run` gives it.

    ``finish_reason`` is the engine's (``stop``, ``length``), or ``content_filter`` when the
    guardrail held content back.
    """

    answer: PipelineAnswer
    finish_reason: str


def server_sent_events(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The JSON documents of the ``data:`` events in ``chunks``, up to ``[DONE]``.

    Raises
    ------
    ModelCallFailed
        An event is not JSON, or is an ``error`` event.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        while b"\n\n" in pending:
            event, pending = pending.split(b"\n\n", 1)
            data = b"".join(
                line.removeprefix(b"data:").strip()
                for line in event.splitlines()
                if line.startswith(b"data:")
            )
            if not data:
                continue
            if data == b"[DONE]":
                return
            try:
                document = json.loads(data)
            except ValueError:
                raise ModelCallFailed(
                    f"the endpoint streamed what is not JSON: {data[:200]!r}"
                ) from None
            if isinstance(document, dict) and "error" in document:
                raise ModelCallFailed(f"the endpoint's stream failed: {document['error']}")
            yield document


class OutputWindows:
    """The answer's text released window by window, as the guardrail passes it.

    Parameters
    ----------
    guard
        The guardrail, which checks each window as ``OUTPUT``.
    window
        Characters gathered before a check.
    """

    def __init__(self, guard: Guard, window: int = OUTPUT_WINDOW_CHARACTERS) -> None:
        self._guard = guard
        self._window = window
        self._pending = ""
        self._verdicts: list[GuardrailVerdict] = []
        self.released = ""

    @property
    def blocked(self) -> bool:
        """Whether a window was blocked: nothing more is released."""
        return any(verdict.blocked for verdict in self._verdicts)

    @property
    def checks(self) -> int:
        """How many windows the guardrail checked."""
        return len(self._verdicts)

    def add(self, text: str) -> str:
        """What may be released now that the model wrote ``text`` ('' while it gathers)."""
        if self.blocked:
            return ""
        self._pending += text
        if len(self._pending) < self._window:
            return ""
        return self._check()

    def finish(self) -> str:
        """What is left to release once the model is done: the last window, checked."""
        if self.blocked or not self._pending:
            return ""
        return self._check()

    def verdict(self) -> GuardrailVerdict:
        """The windows' verdicts as one, on the whole released answer."""
        intervened = any(verdict.intervened for verdict in self._verdicts)
        return GuardrailVerdict(
            action="GUARDRAIL_INTERVENED" if intervened else "NONE",
            source="OUTPUT",
            text=self.released,
            intervened=intervened,
            blocked=self.blocked,
            reasons=tuple(reason for verdict in self._verdicts for reason in verdict.reasons),
            assessments=[item for verdict in self._verdicts for item in verdict.assessments],
        )

    def _check(self) -> str:
        checked = self._guard.check(self._pending, "OUTPUT")
        self._verdicts.append(checked)
        self._pending = ""
        self.released += checked.text
        return checked.text


__all__ = [
    "OUTPUT_WINDOW_CHARACTERS",
    "OutputWindows",
    "StreamedAnswer",
    "StreamedText",
    "server_sent_events",
]
