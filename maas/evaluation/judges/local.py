"""A judge in this process: SmolLM2-135M-Instruct whose decoding is held to the answer's schema.

A model this small rarely writes the JSON a metric's prompt asks for when left to itself, so
its decoding is constrained: at each step `llguidance <https://github.com/guidance-ai/llguidance>`_
computes, from the requested pydantic model's JSON Schema, which tokens may come next, and the
others are masked out before the greedy choice. The answer is then always JSON of the right
shape, unless it runs out of tokens first (a long list, a string that never closes): that
attempt is retried with a growing repetition penalty, so a retry is not the same answer again,
and after the retries the call is a :class:`~maas.evaluation.judging.JudgeAnswerError`.
A yes/no answer can also be read as a probability (:meth:`LocalJudge.probability`, one
forward pass), which makes this judge a :class:`~maas.evaluation.judging.ProbabilityJudge`.

The weights come from the demo model's GGUF file (:mod:`maas.local.demo_model`), converted once
to a Hugging Face folder (:func:`~maas.packaging.series.convert_gguf`, tens of seconds) and kept
in the model cache under the file's SHA-256 (:mod:`maas.packaging.series.conversion_cache`,
which the packaging of the same file shares): reading the GGUF file on every start would take
that time each time, the folder loads in about a second. Calls that share a prompt's start (a
metric's instructions and examples, a retry) reuse its keys and values (:class:`PrefixCache`).
torch, transformers and llguidance are imported when a judge is made.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError

from maas.evaluation.judging import JudgeAnswerError
from maas.evaluation.records import JudgeUsage
from maas.packaging.series.conversion_cache import (
    CACHE_VARIABLE,
    cached_conversion,
    model_cache_directory,
)

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

    from maas.evaluation.judging import AnswerT

#: What the demo model is, for reports.
MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_RETRIES = 2
#: Bounds the grammar puts on strings and lists the schema leaves open, so that an answer
#: closes within its token budget instead of rambling past it (a reason, a list of statements).
MAX_STRING_CHARS = 160
MAX_LIST_ITEMS = 8
#: Repetition penalty of the first attempt and each retry: a greedy retry must differ.
_PENALTIES = (1.0, 1.15, 1.3, 1.45)


def demo_judge_model_dir(cache: Path | None = None) -> Path:
    """The demo model as a Hugging Face folder, converted from its GGUF file once per cache
    (the packaging of the same file shares it: :mod:`maas.packaging.series.conversion_cache`).

    Raises
    ------
    maas.local.demo_model.DemoModelMissing
        The demo model's package is not installed.
    """
    from maas.local.demo_model import demo_model_path  # noqa: PLC0415 - only the demo's model
    from maas.packaging.series import convert_gguf  # noqa: PLC0415 - torch behind it

    return cached_conversion(demo_model_path(), convert_gguf, cache)


class LocalJudge:
    """A causal LM in this process, answering with JSON its decoding cannot leave.

    Parameters
    ----------
    model_dir
        A Hugging Face folder (config, safetensors, tokenizer with a chat template); the demo
        model (:func:`demo_judge_model_dir`) when omitted.
    retries
        Attempts after the first when an answer does not parse.
    name
        The judge's name in reports; ``local:<folder name>`` or ``local:SmolLM2-135M-Instruct``.

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class Verdict(BaseModel):
    ...     verdict: int
    >>> judge = LocalJudge()  # doctest: +SKIP
    >>> judge.ask("Is 2 + 2 = 4? Answer 1 for yes, 0 for no.", Verdict)  # doctest: +SKIP
    Verdict(verdict=1)
    """

    def __init__(
        self, model_dir: Path | None = None, *, retries: int = DEFAULT_RETRIES, name: str = ""
    ) -> None:
        if not 0 <= retries < len(_PENALTIES):
            raise ValueError(f"retries must be between 0 and {len(_PENALTIES) - 1}")
        import llguidance.hf  # noqa: PLC0415 - the evaluation extra
        import torch  # noqa: PLC0415
        from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

        folder = model_dir or demo_judge_model_dir()
        self._name = name or f"local:{MODEL_NAME if model_dir is None else folder.name}"
        self.retries = retries
        self._tokenizer: Any = cast(
            "Any", AutoTokenizer.from_pretrained(folder, local_files_only=True)
        )
        # float32: a CPU multiplies it faster than bf16, and 135M parameters fit either way.
        self._model: Any = cast(
            "Any",
            AutoModelForCausalLM.from_pretrained(
                folder, dtype=torch.float32, local_files_only=True
            ),
        )
        self._model.eval()
        self._eos = self._tokenizer.eos_token_id
        self._context = int(getattr(self._model.config, "max_position_embeddings", 2048))
        self._ll_tokenizer = llguidance.hf.from_tokenizer(self._tokenizer)
        self._usage = JudgeUsage()
        self._prefixes = PrefixCache()
        # One generation at a time: the model is not thread-safe, and the usage counts must add.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``local:SmolLM2-135M-Instruct`` for the demo model."""
        return self._name

    @property
    def usage(self) -> JudgeUsage:
        """Calls, retries and parse failures so far."""
        return self._usage

    def ask(self, prompt: str, answer: type[AnswerT], *, max_new_tokens: int = 256) -> AnswerT:
        """Answer ``prompt`` as an ``answer``, decoding greedily within its JSON Schema.

        Raises
        ------
        JudgeAnswerError
            No attempt produced a valid ``answer`` (it ran out of tokens, or broke a
            constraint the grammar does not hold, such as a number's range).
        """
        with self._lock:
            self._usage = self._usage + JudgeUsage(calls=1)
            ids = self._fitting_prompt_ids(prompt, max_new_tokens)
            grammar = self._grammar(answer)
            problem = ""
            for attempt in range(self.retries + 1):
                if attempt:
                    self._usage = self._usage + JudgeUsage(retries=1)
                text = self._generate(ids, grammar, max_new_tokens, _PENALTIES[attempt])
                try:
                    return answer.model_validate_json(text)
                except ValidationError as error:
                    problem = f"{error.error_count()} error(s), first: {error.errors()[0]['msg']}"
            self._usage = self._usage + JudgeUsage(parse_failures=1)
            raise JudgeAnswerError(
                f"{self.name}: no {answer.__name__} after {self.retries + 1} attempt(s): {problem}"
            )

    def probability(self, prompt: str, answer: type[BaseModel]) -> float:
        """The probability that the answer to ``prompt`` starts with its first field true.

        One forward pass, no generation: the grammar forces the answer's opening (``{"passed":
        ``) and then allows only the tokens that begin ``true`` or ``false``; the model's
        probability mass on the first kind, among the allowed tokens, is the answer. Greedy
        decoding (:meth:`ask`) takes the likeliest token, so it says true when this is above
        one half unless a word's mass is split over several tokens: the same verdict, with
        its confidence kept. One to a few seconds on two CPU cores, against tens for a generated
        answer with its reason.

        Raises
        ------
        JudgeAnswerError
            The prompt does not fit the context, or the answer's first field is not a boolean.
        """
        import llguidance  # noqa: PLC0415
        import torch  # noqa: PLC0415

        first = next(iter(answer.model_fields.values()), None)
        if first is None or first.annotation is not bool:
            raise JudgeAnswerError(
                f"{self.name}: {answer.__name__}'s first field is not a boolean to read"
            )
        with self._lock:
            self._usage = self._usage + JudgeUsage(calls=1)
            ids = self._fitting_prompt_ids(prompt, 0)
            matcher = llguidance.LLMatcher(self._ll_tokenizer, self._grammar(answer), log_level=0)
            opening = matcher.compute_ff_tokens()
            if matcher.is_error() or not matcher.consume_tokens(opening):
                raise JudgeAnswerError(f"{self.name}: the answer's schema: {matcher.get_error()}")
            allowed = torch.frombuffer(
                bytearray(matcher.compute_logit_bias()), dtype=torch.uint8
            ).bool()
            with torch.inference_mode():
                logits = self._model(
                    input_ids=torch.tensor([ids + opening]), logits_to_keep=1
                ).logits[0, -1]
            width = min(allowed.shape[0], logits.shape[0])
            candidates = allowed[:width].nonzero().flatten().tolist()
            starts = [self._tokenizer.decode([token]).lstrip()[:1] for token in candidates]
            if not {"t", "f"} <= set(starts):
                raise JudgeAnswerError(
                    f"{self.name}: {answer.__name__} does not open on a true/false choice"
                )
            odds = torch.softmax(logits[candidates].float(), dim=0)
            return sum(float(odd) for odd, start in zip(odds, starts, strict=True) if start == "t")

    def _fitting_prompt_ids(self, prompt: str, max_new_tokens: int) -> list[int]:
        """The prompt's tokens, when they and the answer's budget fit the model's context."""
        ids = self._prompt_ids(prompt)
        if len(ids) + max_new_tokens > self._context:
            self._usage = self._usage + JudgeUsage(parse_failures=1)
            raise JudgeAnswerError(
                f"{self.name}: the prompt ({len(ids)} tokens) and its answer "
                f"({max_new_tokens}) exceed the model's context of {self._context} tokens"
            )
        return ids

    def _prompt_ids(self, prompt: str) -> list[int]:
        conversation = [{"role": "user", "content": prompt}]
        text: str = self._tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=False
        )
        ids: list[int] = self._tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids

    def _grammar(self, answer: type[AnswerT]) -> str:
        import llguidance  # noqa: PLC0415

        grammar: str = llguidance.LLMatcher.grammar_from_json_schema(
            _bounded(answer.model_json_schema()),
            # Separators without optional whitespace: a small model left free to write spaces
            # and new lines can spend its whole budget on them.
            overrides={"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "},
        )
        return grammar

    def _generate(self, ids: list[int], grammar: str, max_new_tokens: int, penalty: float) -> str:
        """Greedy decoding within ``grammar``, with the KV cache, feeding forced tokens at once.

        Written out rather than ``generate`` with a logits processor: the tokens the grammar
        forces (a key's name, the punctuation between fields) are fed to the model together,
        one forward pass for all of them instead of one each, which on a CPU roughly halves
        the time of a structured answer.
        """
        import llguidance  # noqa: PLC0415
        import torch  # noqa: PLC0415

        matcher = llguidance.LLMatcher(self._ll_tokenizer, grammar, log_level=0)
        if matcher.is_error():
            raise JudgeAnswerError(f"{self.name}: the answer's schema: {matcher.get_error()}")
        generated: list[int] = []
        known, cache = self._prefixes.take(ids)
        pending = ids[known:]
        with torch.inference_mode():
            while len(generated) < max_new_tokens and not matcher.is_stopped():
                # Only the last position's logits choose the next token: the vocabulary's
                # projection for every other pending token would be a prompt's length times
                # the cost of one.
                output = self._model(
                    input_ids=torch.tensor([pending]), cache=cache, use_cache=True, logits_to_keep=1
                )
                cache = output.cache
                if not generated:
                    self._prefixes.keep(ids, cache)
                logits = output.logits[0, -1].float()
                if penalty != 1.0 and generated:
                    seen = torch.tensor(sorted(set(generated)))
                    picked = logits[seen]
                    logits[seen] = torch.where(picked > 0, picked / penalty, picked * penalty)
                allowed = torch.frombuffer(
                    bytearray(matcher.compute_logit_bias()), dtype=torch.uint8
                ).bool()
                width = min(allowed.shape[0], logits.shape[0])
                logits[width:] = float("-inf")
                logits[:width][~allowed[:width]] = float("-inf")
                token = int(logits.argmax())
                if token == self._eos or not matcher.consume_token(token):
                    break
                forced = matcher.compute_ff_tokens()[: max_new_tokens - len(generated) - 1]
                if forced and not matcher.consume_tokens(forced):
                    break
                generated += [token, *forced]
                pending = [token, *forced]
        text: str = self._tokenizer.decode(generated, skip_special_tokens=True)
        return text


class PrefixCache:
    """The model's keys and values for the last few prompts, to start a new prompt from.

    A metric asks the judge the same long prompt (its instructions and examples, hundreds of
    tokens) with a different sample at the end, and a retry asks the very same prompt: the
    tokens a new prompt shares with a kept one are not computed again. On a CPU reading the
    prompt is a third or more of a judge call.

    Parameters
    ----------
    size
        How many prompts are kept (a few metrics' prompts interleave).
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._kept: list[tuple[list[int], Any]] = []

    def take(self, ids: list[int]) -> tuple[int, Any]:
        """How many of ``ids``' first tokens are known, and a cache of them (a copy) or None.

        At least the last token is left to compute: its logits choose the first new token.
        """
        best, found = 0, None
        for kept, cache in self._kept:
            shared = _shared_length(kept, ids)
            if shared > best:
                best, found = shared, cache
        best = min(best, len(ids) - 1)
        if found is None or best <= 0:
            return 0, None
        cache = copy.deepcopy(found)
        surplus = cache.get_seq_length() - best
        if surplus > 0:
            # A negative count removes that many tokens from the end (transformers 4 and 5).
            cache.crop(-surplus)
        return best, cache

    def keep(self, ids: list[int], cache: Any) -> None:
        """Remember ``cache`` (a copy) as the keys and values of ``ids``."""
        self._kept = [(kept, held) for kept, held in self._kept if kept != ids]
        self._kept.append((list(ids), copy.deepcopy(cache)))
        del self._kept[: max(0, len(self._kept) - self._size)]


def _shared_length(first: list[int], second: list[int]) -> int:
    """How many tokens the two sequences share at their start.

    Examples
    --------
    >>> _shared_length([1, 2, 3], [1, 2, 4, 5])
    2
    """
    shared = 0
    for one, other in zip(first, second, strict=False):
        if one != other:
            break
        shared += 1
    return shared


def _bounded(schema: Any) -> Any:
    """``schema`` with a length on every string and list that has none, and no keys but its
    own in an object that names its keys and does not say (for the grammar only).

    JSON Schema lets an object carry keys it does not name unless it says otherwise, and the
    grammar follows it: a small model, its answer complete, went on writing keys of its own
    (``"statement": ...`` again after the list of verdicts closed), tens of tokens that the
    answer's model then ignored. Closing the object is the same answer, sooner.

    Examples
    --------
    >>> _bounded({"type": "array", "items": {"type": "string"}})
    {'type': 'array', 'items': {'type': 'string', 'maxLength': 160}, 'maxItems': 8}
    >>> _bounded({"type": "object", "properties": {"passed": {"type": "boolean"}}})
    {'type': 'object', 'properties': {'passed': {'type': 'boolean'}}, 'additionalProperties': False}
    """
    if isinstance(schema, list):
        return [_bounded(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    bounded = {key: _bounded(value) for key, value in schema.items()}
    if bounded.get("type") == "string" and not {"maxLength", "enum", "const"} & bounded.keys():
        bounded["maxLength"] = MAX_STRING_CHARS
    if bounded.get("type") == "array" and "maxItems" not in bounded:
        bounded["maxItems"] = MAX_LIST_ITEMS
    named = bounded.get("type") == "object" and "properties" in bounded
    if named and "additionalProperties" not in bounded:
        bounded["additionalProperties"] = False
    return bounded


__all__ = [
    "CACHE_VARIABLE",
    "DEFAULT_RETRIES",
    "MAX_LIST_ITEMS",
    "MAX_STRING_CHARS",
    "MODEL_NAME",
    "LocalJudge",
    "demo_judge_model_dir",
    "model_cache_directory",
]
