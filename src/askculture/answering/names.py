"""What a proper name names — a person, a place, or neither — from a morphological dictionary.

A run of capitalised words (:func:`askculture.answering.text.find_names`) can be a person
("Аида Балаева"), a place ("Республики Казахстан") or an organisation; a question asking *who*
wants the first. Russian has a well-kept morphological dictionary that marks given names,
surnames, patronymics and geographical names (pymorphy3 with the OpenCorpora dictionary); so a
word in Cyrillic is looked up there (a word it does not know counts as a person's name when
the dictionary's guesser reads it as one). Other unknown words (most Kazakh words, names it
cannot place) and words in Latin script are ``UNKNOWN``: nothing is claimed of them, and the
short answer among them is chosen as before (nearest to the question's words).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from askculture.answering.question import Kind

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer

_CYRILLIC = re.compile(r"^[а-яё-]+$")
_PERSON_TAGS = frozenset({"Name", "Surn", "Patr"})


class Names(StrEnum):
    """What the dictionary says a capitalised word is."""

    PERSON = "person"
    PLACE = "place"
    OTHER = "other"  # a word the dictionary knows as neither (a common noun or adjective)
    UNKNOWN = "unknown"


@functools.cache
def _analyzer() -> MorphAnalyzer:
    from pymorphy3 import MorphAnalyzer

    return MorphAnalyzer()


@functools.lru_cache(maxsize=65536)
def word_names(word: str) -> Names:
    """What ``word`` names by the Russian dictionary: a person when any reading of it is a given
    name, surname or patronymic; a place when a known word reads as a geographical name; other
    when the word is known as neither; unknown when it is not Cyrillic, not in the dictionary,
    or a single letter (an initial).
    """
    w = word.lower().replace("ё", "е")
    if len(w) < 2 or not _CYRILLIC.match(w):
        return Names.UNKNOWN
    morph = _analyzer()
    parses = morph.parse(w)
    if any(_PERSON_TAGS & p.tag.grammemes for p in parses):
        return Names.PERSON
    if not morph.word_is_known(w):
        return Names.UNKNOWN
    return Names.PLACE if any("Geox" in p.tag.grammemes for p in parses) else Names.OTHER


def fit(words: Sequence[str], kind: Kind) -> int:
    """How well a name made of ``words`` fits a question asking for ``kind`` (0 best, 2 worst):
    for a person, 0 when a word is a person's name, 1 when some word is unknown, else 2; for a
    place, the same with a geographical name. Other kinds: 0."""
    want = {Kind.PERSON: Names.PERSON, Kind.PLACE: Names.PLACE}.get(kind)
    if want is None:
        return 0
    said = {word_names(w) for w in words}
    return 0 if want in said else 1 if Names.UNKNOWN in said else 2


def person_core(words: Sequence[str]) -> tuple[int, int]:
    """The words ``[i, j)`` of a name that remain when the known non-person words at its ends
    are dropped ("Республики Казахстан Асхат Оралов" → "Асхат Оралов"); the whole name when it
    holds no person's name."""
    kinds = [word_names(w) for w in words]
    if Names.PERSON not in kinds:
        return 0, len(words)
    i, j = 0, len(words)
    while kinds[i] in (Names.PLACE, Names.OTHER):
        i += 1
    while kinds[j - 1] in (Names.PLACE, Names.OTHER):
        j -= 1
    return i, j
