"""Word filters: the policy's own words and phrases, and the managed profanity list.

Custom words match whole and case-insensitively, as Bedrock matches them. The profanity
list is ``better-profanity``'s, which also catches the usual disguises (``sh1t``, ``f*ck``),
less :data:`ORDINARY_WORDS`: words of that list whose everyday sense is not a swear word
("kill" a process, a "pawn" in chess, a heart "stroke", "strip" whitespace). Violence, drugs,
sex and insults are the content filters' business, not the profanity list's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from better_profanity import Profanity

if TYPE_CHECKING:
    from schemas.guardrail import Source, WordPolicyConfig

#: better-profanity words left out of the managed list, by why.
ORDINARY_WORDS = frozenset(
    word
    for words in (
        # everyday and technical senses
        (
            "dummy foobar fubar pawn strip stroke pot organ facial slave revue seaman "
            "seamen flange maxi hump thrust woody willy knob wad whiz tinkle potty toots "
            "god omg lmao lmfao hell drunk fat ugly weirdo tramp thug hooch rum vodka "
            "hemp pasty pastie paddy massa souse soused racy steamy trashy tawdry vulgar "
            "prude prig sissy nappy punky undies panty pantie wedgie loin loins slope "
            "scum snatch snuff sleaze sleazy stoned virgin nude nudes naked lust lusty "
            "seduce erect junkie junky inbred leper lech"
        ),
        # anatomy and medicine
        (
            "anus ovary ovum ovums uterus womb urine urinal menses tampon pms hiv herpes "
            "rectal rectum rectus pubic pubis penis penile vagina vulva labia nipple "
            "semen sperm testis teste testes hymen glans gonad gonads crotch teat"
        ),
        # violence and weapons: the VIOLENCE filter
        "kill murder sniper napalm uzi",
        # drugs: the MISCONDUCT filter
        (
            "heroin meth pcp peyote opiate opium valium ganja weed reefer toke hookah "
            "skag scag extacy extasy viagra"
        ),
        # sex: the SEXUAL filter
        "sex sexual erotic orgasm oral orally kinky horny",
        # insults: the INSULTS filter
        (
            "stupid moron dopey doofus ninny nimrod jerk jerked suck sucked screw pee "
            "poop fart peepee weewee"
        ),
        # hate words that are also history or names: the HATE filter
        "nazi nazism hitler reich klan kkk gay gays homey hebe",
    )
    for word in words.split()
)


@cache
def _profanity() -> Profanity:
    listed = resources.files("better_profanity").joinpath("profanity_wordlist.txt").read_text()
    words = [word for word in listed.splitlines() if word.strip().lower() not in ORDINARY_WORDS]
    profanity = Profanity()
    profanity.load_censor_words(custom_words=words)
    return profanity


def profane_words(text: str) -> list[str]:
    """The words of ``text`` on the managed profanity list, in order, each once.

    Examples
    --------
    >>> profane_words("What the f*ck, kill that process")
    ['f*ck']
    """
    profanity = _profanity()
    if profanity.censor(text) == text:
        return []
    found: list[str] = []
    for token in re.findall(r"\S+", text):
        word = token.strip(".,;:!?\"'()[]{}")
        if word and word not in found and profanity.contains_profanity(word):
            found.append(word)
    return found


@dataclass(frozen=True)
class WordMatch:
    """A word the filter found: the text that matched, and whether it blocks."""

    match: str
    blocks: bool
    managed: bool


class WordFilter:
    """A policy's custom words and managed lists, for texts from either side."""

    def __init__(self, config: WordPolicyConfig) -> None:
        self._words = [
            (entry, re.compile(rf"(?<!\w){_phrase(entry.text)}(?!\w)", re.IGNORECASE))
            for entry in config.words_config or []
        ]
        self._managed = list(config.managed_word_lists_config or [])

    def find(self, text: str, source: Source) -> list[WordMatch]:
        """The custom words and profane words in ``text`` that the policy evaluates."""
        matches = [
            WordMatch(match=found.group(), blocks=entry.blocks(source), managed=False)
            for entry, pattern in self._words
            if entry.enabled_for(source)
            for found in pattern.finditer(text)
        ]
        for managed in self._managed:
            if managed.enabled_for(source):
                matches.extend(
                    WordMatch(match=word, blocks=managed.blocks(source), managed=True)
                    for word in profane_words(text)
                )
        return matches


def _phrase(text: str) -> str:
    # A phrase matches across any run of whitespace: "per  cent" is "per cent".
    return r"\s+".join(re.escape(part) for part in text.split())


__all__ = ["ORDINARY_WORDS", "WordFilter", "WordMatch", "profane_words"]
