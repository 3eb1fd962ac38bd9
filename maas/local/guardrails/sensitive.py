"""Sensitive information: PII entities found by Presidio, custom regexes, and masking.

Presidio's analyzer finds the entities with its pattern recognizers, each of which checks
what a pattern alone cannot: the Luhn digit of a card (``CreditCardRecognizer``), the IBAN
checksum, a phone number's validity in its region (Google's ``phonenumbers``), the reserved
ranges of an SSN. A few Bedrock types Presidio has no recognizer for are added here as
Presidio recognizers validated by ``python-stdnum`` (SWIFT/BIC, UK taxpayer reference) or
matched on their published format (AWS access keys). Masking is Presidio's anonymizer,
replacing each match with ``{TYPE}`` (``{name}`` for a regex) as Bedrock does.

Why no named-entity model: Presidio's default NLP engine loads a spaCy model that has to be
downloaded at run time, which neither this project's machines nor a Lambda can do. The
engine below is a blank English spaCy pipeline: it tokenizes, so context words ("ssn",
"phone", "iban") still raise a match's confidence, but it finds no names or addresses.
``NAME``, ``ADDRESS`` and the other types in :data:`UNSUPPORTED_PII_TYPES` are therefore
not detected locally; :func:`unsupported_pii_types` names them for a policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import spacy
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import SlimSpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    AbaRoutingRecognizer,
    CaSinRecognizer,
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    NhsRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig
from presidio_anonymizer.entities import RecognizerResult as MaskedSpan
from spacy.language import Language
from stdnum import bic
from stdnum.gb import utr

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from presidio_analyzer import EntityRecognizer
    from spacy.tokens import Doc

    from schemas.guardrail import (
        GuardrailPolicy,
        PiiEntityConfig,
        PiiEntityType,
        SensitiveAction,
        SensitiveInformationPolicyConfig,
        Source,
    )

LANGUAGE = "en"

#: Presidio's score at or above which a match counts. A pattern with a checksum scores 1.0;
#: a bare phone number scores 0.4 and a weak pattern needs a context word to get there.
SCORE_THRESHOLD = 0.4

#: A blank pipeline's tokens have no lemma; Presidio's context enhancer compares lemmas.
_NORM_AS_LEMMA = "maas_norm_as_lemma"


@Language.component(_NORM_AS_LEMMA)
def _norm_as_lemma(doc: Doc) -> Doc:
    # The tokenizer's norm (lower case, "n't" -> "not") is the closest a blank pipeline
    # has to a lemma, and enough to find "ssn" or "phone" next to a match.
    for token in doc:
        token.lemma_ = token.norm_
    return doc


class BlankSpacyNlpEngine(SlimSpacyNlpEngine):
    """Presidio's slim engine on ``spacy.blank("en")``: tokens and norms, nothing downloaded."""

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": "blank"}])

    def load(self) -> None:
        """Build the blank pipeline instead of loading a packaged model."""
        nlp = spacy.blank(LANGUAGE)
        nlp.add_pipe(_NORM_AS_LEMMA)
        # The slim engine declares ``nlp`` as None until loaded; loaded, it maps languages.
        self.nlp = {LANGUAGE: nlp}  # type: ignore[assignment]


#: The public-suffix list as the package ships it: tldextract would otherwise fetch it.
_OFFLINE_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer with the shipped public-suffix list, never a download."""

    def validate_result(self, pattern_text: str) -> bool:
        """A match is an address when its domain ends in a known public suffix."""
        return bool(_OFFLINE_SUFFIXES(pattern_text).fqdn)


class SwiftCodeRecognizer(PatternRecognizer):
    """SWIFT/BIC codes: eight or eleven characters, the country checked by ``stdnum.bic``."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="SWIFT_CODE",
            patterns=[Pattern("BIC", r"\b[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b", 0.3)],
            context=["swift", "bic", "bank", "wire", "transfer"],
            supported_language=LANGUAGE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """Reject unknown countries; a valid code keeps its score (capitals alone are weak)."""
        return None if bic.is_valid(pattern_text) else False


class UkTaxpayerReferenceRecognizer(PatternRecognizer):
    """UK Unique Taxpayer References: ten digits with a check digit (``stdnum.gb.utr``)."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
            patterns=[Pattern("UTR", r"\b\d{5}\s?\d{5}\b", 0.1)],
            context=["utr", "taxpayer", "self assessment", "hmrc"],
            supported_language=LANGUAGE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """A failed check digit rejects the match; a valid one still needs context."""
        return None if utr.is_valid(pattern_text) else False


def _aws_access_key_recognizer() -> PatternRecognizer:
    # AWS documents the shape: AKIA (long-term) or ASIA (temporary) and 16 more characters.
    return PatternRecognizer(
        supported_entity="AWS_ACCESS_KEY",
        patterns=[Pattern("access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0.9)],
        supported_language=LANGUAGE,
    )


def _aws_secret_key_recognizer() -> PatternRecognizer:
    # 40 base64 characters are too common to count alone; the context word makes it.
    return PatternRecognizer(
        supported_entity="AWS_SECRET_KEY",
        patterns=[
            Pattern("secret key", r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", 0.3)
        ],
        context=["secret", "aws_secret_access_key", "secretaccesskey"],
        supported_language=LANGUAGE,
    )


#: Bedrock's PII type -> the recognizers that find it (each built once per process).
_RECOGNIZERS: dict[str, Callable[[], list[EntityRecognizer]]] = {
    "EMAIL": lambda: [OfflineEmailRecognizer(supported_entity="EMAIL")],
    "PHONE": lambda: [PhoneRecognizer(supported_entity="PHONE")],
    "CREDIT_DEBIT_CARD_NUMBER": lambda: [
        CreditCardRecognizer(supported_entity="CREDIT_DEBIT_CARD_NUMBER")
    ],
    "US_SOCIAL_SECURITY_NUMBER": lambda: [
        UsSsnRecognizer(supported_entity="US_SOCIAL_SECURITY_NUMBER")
    ],
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER": lambda: [
        IbanRecognizer(supported_entity="INTERNATIONAL_BANK_ACCOUNT_NUMBER")
    ],
    "IP_ADDRESS": lambda: [IpRecognizer(supported_entity="IP_ADDRESS")],
    "URL": lambda: [UrlRecognizer(supported_entity="URL")],
    "MAC_ADDRESS": lambda: [MacAddressRecognizer(supported_entity="MAC_ADDRESS")],
    "US_PASSPORT_NUMBER": lambda: [UsPassportRecognizer(supported_entity="US_PASSPORT_NUMBER")],
    "US_BANK_ACCOUNT_NUMBER": lambda: [UsBankRecognizer(supported_entity="US_BANK_ACCOUNT_NUMBER")],
    "US_BANK_ROUTING_NUMBER": lambda: [
        AbaRoutingRecognizer(supported_entity="US_BANK_ROUTING_NUMBER")
    ],
    "DRIVER_ID": lambda: [UsLicenseRecognizer(supported_entity="DRIVER_ID")],
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER": lambda: [
        UsItinRecognizer(supported_entity="US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER")
    ],
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER": lambda: [
        NhsRecognizer(supported_entity="UK_NATIONAL_HEALTH_SERVICE_NUMBER")
    ],
    "UK_NATIONAL_INSURANCE_NUMBER": lambda: [
        UkNinoRecognizer(supported_entity="UK_NATIONAL_INSURANCE_NUMBER")
    ],
    "CA_SOCIAL_INSURANCE_NUMBER": lambda: [
        CaSinRecognizer(supported_entity="CA_SOCIAL_INSURANCE_NUMBER")
    ],
    "SWIFT_CODE": lambda: [SwiftCodeRecognizer()],
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER": lambda: [UkTaxpayerReferenceRecognizer()],
    "AWS_ACCESS_KEY": lambda: [_aws_access_key_recognizer()],
    "AWS_SECRET_KEY": lambda: [_aws_secret_key_recognizer()],
}

#: The PII types the local engine detects.
SUPPORTED_PII_TYPES = frozenset(_RECOGNIZERS)

#: Bedrock's PII types the local engine does not detect (no model for names, addresses,
#: ages, user names, passwords or PINs; no recognizer for the rest).
UNSUPPORTED_PII_TYPES = frozenset(
    {
        "ADDRESS",
        "AGE",
        "CA_HEALTH_NUMBER",
        "CREDIT_DEBIT_CARD_CVV",
        "CREDIT_DEBIT_CARD_EXPIRY",
        "LICENSE_PLATE",
        "NAME",
        "PASSWORD",
        "PIN",
        "USERNAME",
        "VEHICLE_IDENTIFICATION_NUMBER",
    }
)


def unsupported_pii_types(policy: GuardrailPolicy) -> list[PiiEntityType]:
    """The PII types ``policy`` names that the local engine cannot detect."""
    config = policy.sensitive_information_policy_config
    entries = (config.pii_entities_config or []) if config else []
    return [entry.type for entry in entries if entry.type in UNSUPPORTED_PII_TYPES]


@cache
def _analyzer() -> AnalyzerEngine:
    # Built once per process: loading the recognizers and phone metadata takes seconds.
    nlp_engine = BlankSpacyNlpEngine()
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for build in _RECOGNIZERS.values():
        for recognizer in build():
            registry.add_recognizer(recognizer)
    return AnalyzerEngine(
        nlp_engine=nlp_engine,
        registry=registry,
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
    )


@cache
def _anonymizer() -> AnonymizerEngine:
    return AnonymizerEngine()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class SensitiveMatch:
    """A piece of sensitive text: where it is, what it is, and what the policy does with it.

    ``label`` is the PII type, or the regex's name; ``regex`` is set for a regex match.
    """

    start: int
    end: int
    label: str
    match: str
    action: SensitiveAction
    regex: str | None = None


def _without_overlaps(results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    # An email also matches as a URL (its domain); keep the best-scored, then longest, span.
    kept: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: (-r.score, r.start - r.end)):
        if all(result.end <= other.start or result.start >= other.end for other in kept):
            kept.append(result)
    return sorted(kept, key=lambda r: r.start)


class SensitiveInformationDetector:
    """Finds a policy's PII entities and regexes in a text, and masks what it must."""

    def __init__(self, config: SensitiveInformationPolicyConfig) -> None:
        self._entities: dict[str, PiiEntityConfig] = {
            entry.type: entry for entry in config.pii_entities_config or []
        }
        self._regexes = [
            (entry, re.compile(entry.pattern)) for entry in config.regexes_config or []
        ]

    @property
    def has_pii_entities(self) -> bool:
        """Whether the policy names PII entities (billed) rather than only regexes (free)."""
        return bool(self._entities)

    def find(self, text: str, source: Source) -> list[SensitiveMatch]:
        """Every match in ``text`` of an entity or regex enabled for ``source``."""
        matches = self._find_entities(text, source)
        for entry, pattern in self._regexes:
            if not entry.enabled_for(source):
                continue
            matches.extend(
                SensitiveMatch(
                    start=found.start(),
                    end=found.end(),
                    label=entry.name,
                    match=found.group(),
                    action=entry.action_for(source),
                    regex=entry.pattern,
                )
                for found in pattern.finditer(text)
                if found.group()
            )
        return matches

    def _find_entities(self, text: str, source: Source) -> list[SensitiveMatch]:
        wanted: list[str] = [
            kind
            for kind, entry in self._entities.items()
            if entry.enabled_for(source) and kind in SUPPORTED_PII_TYPES
        ]
        if not wanted or not text.strip():
            return []
        results = _analyzer().analyze(text=text, language=LANGUAGE, entities=wanted)
        return [
            SensitiveMatch(
                start=result.start,
                end=result.end,
                label=result.entity_type,
                match=text[result.start : result.end],
                action=self._entities[result.entity_type].action_for(source),
            )
            for result in _without_overlaps(results)
        ]


def mask(text: str, matches: Sequence[SensitiveMatch]) -> str:
    """``text`` with every ANONYMIZE match replaced by ``{label}``.

    Examples
    --------
    >>> mask("mail bob@example.com now", [SensitiveMatch(5, 20, "EMAIL", "bob@example.com",
    ...                                                 "ANONYMIZE")])
    'mail {EMAIL} now'
    """
    masked = [match for match in matches if match.action == "ANONYMIZE"]
    if not masked:
        return text
    results = [
        MaskedSpan(entity_type=match.label, start=match.start, end=match.end, score=1.0)
        for match in masked
    ]
    operators = {
        match.label: OperatorConfig("replace", {"new_value": f"{{{match.label}}}"})
        for match in masked
    }
    return str(
        _anonymizer().anonymize(text=text, analyzer_results=results, operators=operators).text
    )


__all__ = [
    "SCORE_THRESHOLD",
    "SUPPORTED_PII_TYPES",
    "UNSUPPORTED_PII_TYPES",
    "BlankSpacyNlpEngine",
    "SensitiveInformationDetector",
    "SensitiveMatch",
    "mask",
    "unsupported_pii_types",
]
