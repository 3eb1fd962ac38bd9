"""The local guardrail: a policy document applied to a text, answered as ``ApplyGuardrail``.

On AWS the stacks create the policy as a Bedrock guardrail and a caller sends the text to
``ApplyGuardrail``; locally :class:`LocalGuardrail` reads the same document and returns the
same response shape, so code that guards a model's input and output does not change. The
local detectors are the modules beside this one; what each cannot do is in its docstring
and in ``docs/guardrails.md``.

Examples
--------
>>> from maas.local.guardrails import LocalGuardrail, parse_policy
>>> guardrail = LocalGuardrail(parse_policy({
...     "name": "support-bot",
...     "blockedInputMessaging": "Sorry, I cannot help with that.",
...     "blockedOutputsMessaging": "Sorry, I cannot share that.",
...     "wordPolicyConfig": {"wordsConfig": [{"text": "Project Falcon"}]},
... }))
>>> response = guardrail.apply_text("When does project falcon ship?", "INPUT")
>>> response.action, response.outputs[0].text
('GUARDRAIL_INTERVENED', 'Sorry, I cannot help with that.')
>>> response.assessments[0].word_policy.custom_words[0].match
'project falcon'
>>> guardrail.apply_text("When does the release ship?", "INPUT").action
'NONE'
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from maas.local.guardrails import content as content_filters
from maas.local.guardrails.grounding import grounding_score, relevance_score
from maas.local.guardrails.response import (
    Assessment,
    ContentBlock,
    ContentFilterFinding,
    ContentPolicyAssessment,
    ContextualGroundingPolicyAssessment,
    CustomWordFinding,
    GroundingFinding,
    GuardrailRequest,
    GuardrailResponse,
    ManagedWordFinding,
    OutputText,
    PiiEntityFinding,
    RegexFinding,
    SensitiveInformationPolicyAssessment,
    TextBlock,
    TopicFinding,
    TopicPolicyAssessment,
    Usage,
    WordPolicyAssessment,
)
from maas.local.guardrails.sensitive import (
    SensitiveInformationDetector,
    SensitiveMatch,
    mask,
    unsupported_pii_types,
)
from maas.local.guardrails.topics import TopicClassifier
from maas.local.guardrails.words import WordFilter
from maas.validation import parse

if TYPE_CHECKING:
    from collections.abc import Mapping

    from maas.local.guardrails.response import OutputScope, SensitivePolicyAction
    from schemas.guardrail import GuardrailPolicy, Source

logger = logging.getLogger(__name__)

#: Bedrock bills a text unit per 1,000 characters, per policy.
CHARACTERS_PER_UNIT = 1000

_SENSITIVE_ACTIONS: dict[str, SensitivePolicyAction] = {
    "BLOCK": "BLOCKED",
    "ANONYMIZE": "ANONYMIZED",
    "NONE": "NONE",
}


def _units(characters: int) -> int:
    return math.ceil(characters / CHARACTERS_PER_UNIT)


def _is_guarded(block: TextBlock) -> bool:
    # Unqualified text is guarded; a grounding source or a query only informs grounding.
    return "guard_content" in block.qualifiers or not block.qualifiers


@dataclass
class _Verdict:
    """What the policies decided about one request, gathered as they run."""

    assessment: dict[str, Any] = field(default_factory=dict)
    blocked_by: list[str] = field(default_factory=list)
    masked_by: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)


class LocalGuardrail:
    """A guardrail policy, applied locally to prompts and completions.

    The detectors are built once per guardrail (the topic vectors) or per process (the PII
    analyzer); a guardrail is meant to be kept and applied to many texts.
    """

    def __init__(self, policy: GuardrailPolicy) -> None:
        self.policy = policy
        self.unsupported = self._unsupported(policy)
        if self.unsupported:
            logger.warning(
                "guardrail %s: not evaluated locally: %s", policy.name, "; ".join(self.unsupported)
            )
        topics = policy.topic_policy_config
        words = policy.word_policy_config
        sensitive = policy.sensitive_information_policy_config
        self._topics = TopicClassifier(topics) if topics else None
        self._words = WordFilter(words) if words else None
        self._sensitive = SensitiveInformationDetector(sensitive) if sensitive else None

    @staticmethod
    def _unsupported(policy: GuardrailPolicy) -> list[str]:
        gaps = [
            f"PII entity {kind} (no local recognizer)" for kind in unsupported_pii_types(policy)
        ]
        content = policy.content_policy_config
        for config in content.filters_config if content else []:
            if "IMAGE" in (config.input_modalities or []) + (config.output_modalities or []):
                gaps.append(f"content filter {config.type} on images (text only)")
        return gaps

    def apply_text(
        self, text: str, source: Source, *, output_scope: OutputScope = "INTERVENTIONS"
    ) -> GuardrailResponse:
        """Apply the guardrail to one text from ``source`` (the prompt or the completion)."""
        request = GuardrailRequest(
            source=source,
            content=[ContentBlock(text=TextBlock(text=text))],
            output_scope=output_scope,
        )
        return self.apply(request)

    def apply(self, request: GuardrailRequest | Mapping[str, Any]) -> GuardrailResponse:
        """Apply the guardrail to an ``ApplyGuardrail`` request's content.

        Blocks qualified ``grounding_source`` or ``query`` feed the contextual grounding check;
        the others (unqualified, or ``guard_content``) are the texts guarded. Bad input raises
        ``Maas.ValidationError`` naming the field.
        """
        if not isinstance(request, GuardrailRequest):
            request = parse(GuardrailRequest, request)
        source = request.source
        blocks = [block.text for block in request.content]
        guarded = [block.text for block in blocks if _is_guarded(block)]
        full = request.output_scope == "FULL"
        verdict = _Verdict()
        characters = sum(len(text) for text in guarded)

        self._assess_topics(guarded, source, full, verdict)
        self._assess_content(guarded, source, full, verdict)
        self._assess_words(guarded, source, verdict)
        matches = self._assess_sensitive(guarded, source, verdict)
        self._assess_grounding(blocks, source, full, verdict)
        for policy in ("topic_policy", "content_policy", "word_policy"):
            if getattr(self.policy, f"{policy}_config") is not None:
                verdict.usage[f"{policy}_units"] = _units(characters)
        if self._sensitive:
            kind = (
                "sensitive_information_policy_units"
                if self._sensitive.has_pii_entities
                else "sensitive_information_policy_free_units"
            )
            verdict.usage[kind] = _units(characters)
        return self._response(source, guarded, matches, verdict)

    def _assess_topics(
        self, texts: list[str], source: Source, full: bool, verdict: _Verdict
    ) -> None:
        if self._topics is None:
            return
        findings: dict[str, TopicFinding] = {}
        for text in texts:
            for score in self._topics.score(text):
                topic = score.topic
                if not topic.enabled_for(source):
                    continue
                if score.detected:
                    action = "BLOCKED" if topic.blocks(source) else "NONE"
                    findings[topic.name] = TopicFinding(
                        name=topic.name, action=action, detected=True
                    )
                elif full and topic.name not in findings:
                    findings[topic.name] = TopicFinding(
                        name=topic.name, action="NONE", detected=False
                    )
        if findings:
            verdict.assessment["topic_policy"] = TopicPolicyAssessment(
                topics=list(findings.values())
            )
        verdict.blocked_by.extend(
            f"topicPolicy ({finding.name})"
            for finding in findings.values()
            if finding.action == "BLOCKED"
        )

    def _assess_content(
        self, texts: list[str], source: Source, full: bool, verdict: _Verdict
    ) -> None:
        config = self.policy.content_policy_config
        if config is None:
            return
        findings = []
        for entry in config.filters_config:
            strength = entry.strength_for(source)
            if strength == "NONE" and not full:
                continue
            level = content_filters.strongest(
                content_filters.confidence(entry.type, text) for text in texts
            )
            detected = content_filters.blocks(strength, level)
            if not detected and not full:
                continue
            action = "BLOCKED" if detected and entry.blocks(source) else "NONE"
            findings.append(
                ContentFilterFinding(
                    type=entry.type,
                    confidence=level,
                    filter_strength=strength,
                    action=action,
                    detected=detected,
                )
            )
            if action == "BLOCKED":
                verdict.blocked_by.append(f"contentPolicy ({entry.type})")
        if findings:
            verdict.assessment["content_policy"] = ContentPolicyAssessment(filters=findings)

    def _assess_words(self, texts: list[str], source: Source, verdict: _Verdict) -> None:
        if self._words is None:
            return
        matches = [match for text in texts for match in self._words.find(text, source)]
        if not matches:
            return
        custom = [
            CustomWordFinding(
                match=m.match, action="BLOCKED" if m.blocks else "NONE", detected=True
            )
            for m in matches
            if not m.managed
        ]
        managed = [
            ManagedWordFinding(
                match=m.match, action="BLOCKED" if m.blocks else "NONE", detected=True
            )
            for m in matches
            if m.managed
        ]
        verdict.assessment["word_policy"] = WordPolicyAssessment(
            custom_words=custom, managed_word_lists=managed
        )
        if any(m.blocks for m in matches if not m.managed):
            verdict.blocked_by.append("wordPolicy (custom words)")
        if any(m.blocks for m in matches if m.managed):
            verdict.blocked_by.append("wordPolicy (PROFANITY)")

    def _assess_sensitive(
        self, texts: list[str], source: Source, verdict: _Verdict
    ) -> list[list[SensitiveMatch]]:
        if self._sensitive is None:
            return [[] for _ in texts]
        matches = [self._sensitive.find(text, source) for text in texts]
        found = [match for per_text in matches for match in per_text]
        if not found:
            return matches
        verdict.assessment["sensitive_information_policy"] = SensitiveInformationPolicyAssessment(
            pii_entities=[
                PiiEntityFinding(
                    match=m.match,
                    type=m.label,
                    action=_SENSITIVE_ACTIONS[m.action],
                    detected=True,
                )
                for m in found
                if m.regex is None
            ],
            regexes=[
                RegexFinding(
                    name=m.label,
                    match=m.match,
                    regex=m.regex,
                    action=_SENSITIVE_ACTIONS[m.action],
                    detected=True,
                )
                for m in found
                if m.regex is not None
            ],
        )
        for action, into in (("BLOCK", verdict.blocked_by), ("ANONYMIZE", verdict.masked_by)):
            labels = sorted({m.label for m in found if m.action == action})
            if labels:
                into.append(f"sensitiveInformationPolicy ({', '.join(labels)})")
        return matches

    def _assess_grounding(
        self, blocks: list[TextBlock], source: Source, full: bool, verdict: _Verdict
    ) -> None:
        config = self.policy.contextual_grounding_policy_config
        sources = [b.text for b in blocks if "grounding_source" in b.qualifiers]
        queries = [b.text for b in blocks if "query" in b.qualifiers]
        completions = [b.text for b in blocks if _is_guarded(b)]
        # Grounding judges a completion against its source and query: without both, or on a
        # prompt, there is nothing to judge (Bedrock skips the check too).
        if config is None or source != "OUTPUT" or not sources or not queries:
            return
        grounding_source, query, completion = (
            " ".join(sources),
            " ".join(queries),
            " ".join(completions),
        )
        scores = {
            "GROUNDING": grounding_score(grounding_source, completion),
            "RELEVANCE": relevance_score(query, completion),
        }
        findings = []
        for entry in config.filters_config:
            if not entry.enabled:
                continue
            score = round(scores[entry.type], 2)
            detected = score < entry.threshold
            if not detected and not full:
                continue
            action = "BLOCKED" if detected and entry.action == "BLOCK" else "NONE"
            findings.append(
                GroundingFinding(
                    type=entry.type,
                    threshold=entry.threshold,
                    score=score,
                    action=action,
                    detected=detected,
                )
            )
            if action == "BLOCKED":
                verdict.blocked_by.append(f"contextualGroundingPolicy ({entry.type})")
        if findings:
            verdict.assessment["contextual_grounding_policy"] = ContextualGroundingPolicyAssessment(
                filters=findings
            )
        verdict.usage["contextual_grounding_policy_units"] = _units(
            len(grounding_source) + len(query) + len(completion)
        )

    def _response(
        self,
        source: Source,
        guarded: list[str],
        matches: list[list[SensitiveMatch]],
        verdict: _Verdict,
    ) -> GuardrailResponse:
        if verdict.blocked_by:
            action, reason = "GUARDRAIL_INTERVENED", f"Blocked by {', '.join(verdict.blocked_by)}."
            outputs = [OutputText(text=self.policy.blocked_messaging(source))]
        elif verdict.masked_by:
            action, reason = "GUARDRAIL_INTERVENED", f"Masked by {', '.join(verdict.masked_by)}."
            outputs = [
                OutputText(text=mask(text, found))
                for text, found in zip(guarded, matches, strict=True)
            ]
        else:
            action, reason, outputs = "NONE", "No action.", []
        return GuardrailResponse(
            usage=Usage(**verdict.usage),
            action=action,
            action_reason=reason,
            outputs=outputs,
            assessments=[Assessment(**verdict.assessment)],
        )


__all__ = ["CHARACTERS_PER_UNIT", "LocalGuardrail"]
