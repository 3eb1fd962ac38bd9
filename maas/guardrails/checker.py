"""Checking a prompt or a completion with ``ApplyGuardrail``, answered as a verdict.

The client is a boto3 ``bedrock-runtime`` client: on AWS it reaches Bedrock, on the local
runtime (``AWS_ENDPOINT_URL``, or in-process) the emulation in ``maas.local.bedrock``, which
answers with the local engine. Nothing here knows which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from maas import aws
from maas.exceptions import MaasError, NotFound, QuotaExceeded, ValidationError
from maas.guardrails.models import GuardrailVerdict

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from maas.guardrails.models import GuardrailRef, Source

#: Bedrock's error codes a caller must tell apart, as the project's errors. Throttling is
#: not here: botocore's standard retry mode retries it.
_ERRORS: dict[str, type[MaasError]] = {
    "ResourceNotFoundException": NotFound,
    "ValidationException": ValidationError,
    "ServiceQuotaExceededException": QuotaExceeded,
}

_DONE = {"BLOCKED": "blocked", "ANONYMIZED": "anonymized", "NONE": "detected"}


def _findings(policy: Mapping[str, Any], key: str) -> Iterator[Mapping[str, Any]]:
    # A finding without "detected" predates the field, when only detections were listed.
    for finding in policy.get(key) or []:
        if finding.get("detected", True):
            yield finding


def _reasons(assessment: Mapping[str, Any]) -> Iterator[str]:
    topics = assessment.get("topicPolicy") or {}
    for topic in _findings(topics, "topics"):
        done = "denied" if topic.get("action") == "BLOCKED" else "detected"
        yield f"topic '{topic.get('name')}' {done}"
    content = assessment.get("contentPolicy") or {}
    for entry in _findings(content, "filters"):
        yield (
            f"content filter {entry.get('type')} {_DONE.get(entry.get('action', ''), 'detected')}"
            f" ({entry.get('confidence')} confidence)"
        )
    words = assessment.get("wordPolicy") or {}
    for word in _findings(words, "customWords"):
        yield f"word '{word.get('match')}' {_DONE.get(word.get('action', ''), 'detected')}"
    for word in _findings(words, "managedWordLists"):
        yield f"profanity '{word.get('match')}' {_DONE.get(word.get('action', ''), 'detected')}"
    sensitive = assessment.get("sensitiveInformationPolicy") or {}
    for entity in _findings(sensitive, "piiEntities"):
        yield f"{entity.get('type')} {_DONE.get(entity.get('action', ''), 'detected')}"
    for regex in _findings(sensitive, "regexes"):
        yield f"regex '{regex.get('name')}' {_DONE.get(regex.get('action', ''), 'detected')}"
    grounding = assessment.get("contextualGroundingPolicy") or {}
    for entry in _findings(grounding, "filters"):
        yield (
            f"{str(entry.get('type')).lower()} score {entry.get('score')} below threshold "
            f"{entry.get('threshold')}: {_DONE.get(entry.get('action', ''), 'detected')}"
        )


def _blocks(value: Any) -> bool:
    # Any policy, including ones added to Bedrock after this was written, says BLOCKED the
    # same way: an "action" next to its finding.
    if isinstance(value, dict):
        return value.get("action") == "BLOCKED" or any(_blocks(each) for each in value.values())
    if isinstance(value, list):
        return any(_blocks(each) for each in value)
    return False


def verdict(response: Mapping[str, Any], source: Source, text: str) -> GuardrailVerdict:
    """The verdict on ``text`` from an ``ApplyGuardrail`` response (boto3's dict).

    Examples
    --------
    >>> verdict({"action": "NONE", "outputs": [], "assessments": [{}]}, "INPUT", "Hi").text
    'Hi'
    """
    intervened = response["action"] == "GUARDRAIL_INTERVENED"
    assessments: list[dict[str, Any]] = list(response.get("assessments") or [])
    outputs = [output["text"] for output in response.get("outputs") or [] if "text" in output]
    reasons = dict.fromkeys(reason for each in assessments for reason in _reasons(each))
    return GuardrailVerdict(
        action=response["action"],
        source=source,
        text="\n".join(outputs) if intervened and outputs else text,
        intervened=intervened,
        blocked=intervened and _blocks(assessments),
        reasons=tuple(reasons),
        assessments=assessments,
    )


class GuardrailChecker:
    """Applies one guardrail to prompts and completions.

    Parameters
    ----------
    ref
        The guardrail and version (see ``maas.guardrails.resolve_guardrail``).
    client
        A boto3 ``bedrock-runtime`` client; default: the process-wide one
        (``maas.aws.client``), taken when a check runs.

    Examples
    --------
    .. code-block:: python

        checker = GuardrailChecker(GuardrailRef(identifier="a1b2c3d4e5f6", version="1"))
        prompt = checker.check("Mail me at jane@example.com", "INPUT")
        if prompt.blocked:
            return prompt.text  # the blocked message; the model is not called
    """

    def __init__(self, ref: GuardrailRef, *, client: Any | None = None) -> None:
        self.ref = ref
        self._client = client

    def check(self, text: str, source: Source) -> GuardrailVerdict:
        """Apply the guardrail to ``text``, the prompt (``INPUT``) or a completion (``OUTPUT``).

        Raises
        ------
        NotFound
            The guardrail or its version does not exist.
        ValidationError
            Bedrock refused the request (the message says why).
        QuotaExceeded
            The account's ApplyGuardrail quota is used up (throttling is retried first).
        """
        client = self._client if self._client is not None else aws.client("bedrock-runtime")
        try:
            response = client.apply_guardrail(
                guardrailIdentifier=self.ref.identifier,
                guardrailVersion=self.ref.version,
                source=source,
                content=[{"text": {"text": text}}],
            )
        except ClientError as exc:
            error = _ERRORS.get(aws.error_code(exc) or "")
            if error is None:
                raise
            message = exc.response.get("Error", {}).get("Message", str(exc))
            raise error(
                f"guardrail {self.ref.identifier} version {self.ref.version}: {message}"
            ) from None
        return verdict(response, source, text)


__all__ = ["GuardrailChecker", "verdict"]
