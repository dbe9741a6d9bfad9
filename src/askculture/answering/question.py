"""What a question asks: its language, its index terms, the years it names, and the kind of
short answer it wants (a person, a date, a number, a place — or something else).

The kind comes from the question word and the noun after it ("who", "in what year", "сколько",
"қай қалада", "which minister"); these are generic cue lists of the three languages, not rules for
particular questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise

from askculture.answering.text import ANAPHORA, QUESTION_WORDS, YEAR, tokens
from askculture.documents import detect_language
from askculture.lexical import tokenize


class Kind(StrEnum):
    """The kind of short answer a question asks for."""

    PERSON = "person"
    DATE = "date"
    NUMBER = "number"
    PLACE = "place"
    OTHER = "other"


_NOT_TERMS = QUESTION_WORDS | ANAPHORA  # what is asked, and what points back: not a subject
_ARTICLES = frozenset({"the", "a", "an", "of", "is", "was", "are", "were", "did", "does", "do"})
_WHO = frozenset(
    "who whom whose кто кого кому кем чей чья чьи кім кімге кімді кімнің кіммен кімдер".split()
)
_WHEN = frozenset({"when", "когда", "қашан"})
_WHERE = frozenset({"where", "где", "куда", "откуда", "қайда", "қайдан"})
_HOW_MANY = frozenset({"сколько", "қанша", "неше"})
_WHICH = frozenset(
    "what which какой какая какое какие каких какую каким какими какого какому "
    "каком қай қандай қайсы".split()
)
_DATE_NOUNS = (
    "year",
    "date",
    "day",
    "century",
    "decade",
    "month",
    "time",
    "period",
    "год",
    "дат",
    "числ",
    "день",
    "дня",
    "век",
    "месяц",
    "период",
    "жыл",
    "күн",
    "ғасыр",
    "ай",
    "уақыт",
)
_NUMBER_NOUNS = (
    "number",
    "percent",
    "percentage",
    "amount",
    "population",
    "size",
    "area",
    "length",
    "height",
    "cost",
    "price",
    "budget",
    "количеств",
    "процент",
    "числен",
    "сумм",
    "площад",
    "размер",
    "длин",
    "высот",
    "стоимост",
    "бюджет",
    "сан",
    "пайыз",
    "мөлшер",
    "аумақ",
    "ұзындығ",
    "биіктіг",
    "құн",
)
_PLACE_NOUNS = (
    "city",
    "country",
    "town",
    "place",
    "region",
    "state",
    "continent",
    "island",
    "river",
    "street",
    "venue",
    "location",
    "город",
    "стран",
    "мест",
    "регион",
    "област",
    "остров",
    "рек",
    "улиц",
    "площадк",
    "қала",
    "ел",
    "мемлекет",
    "жер",
    "аймақ",
    "өңір",
    "облыс",
    "арал",
    "өзен",
    "көше",
)
_PERSON_NOUNS = (
    "minister",
    "president",
    "director",
    "chairman",
    "chair",
    "head",
    "ambassador",
    "singer",
    "poet",
    "writer",
    "artist",
    "painter",
    "composer",
    "actor",
    "author",
    "person",
    "man",
    "woman",
    "leader",
    "king",
    "queen",
    "emperor",
    "scientist",
    "founder",
    "player",
    "deputy",
    "rector",
    "министр",
    "президент",
    "директор",
    "председател",
    "глав",
    "руководител",
    "посол",
    "певиц",
    "певец",
    "поэт",
    "писател",
    "художник",
    "композитор",
    "актер",
    "автор",
    "человек",
    "лидер",
    "король",
    "королев",
    "император",
    "учен",
    "основател",
    "игрок",
    "заместител",
    "ректор",
    "министр",
    "төраға",
    "басшы",
    "елші",
    "әнші",
    "ақын",
    "жазушы",
    "суретші",
    "композитор",
    "әртіс",
    "автор",
    "адам",
    "көшбасшы",
    "патша",
    "ғалым",
    "негізін",
)


@dataclass(slots=True)
class Question:
    """A question, read.

    Attributes:
        text: The question as searched for.
        lang: Its language (en, ru or kk).
        kind: The kind of short answer it wants.
        terms: Its index terms (:func:`askculture.lexical.tokenize`), question words removed.
        years: Years it names.
    """

    text: str
    lang: str
    kind: Kind
    terms: list[str]
    years: set[int] = field(default_factory=set)


def analyse_question(text: str, lang: str | None = None) -> Question:
    """Read a question (see :class:`Question`).

    Args:
        text: A cleaned question in English, Russian or Kazakh.
        lang: Its language, when known (detected otherwise).

    Returns:
        The analysed question.
    """
    lang = lang or detect_language(text) or "en"
    words = [t.lower for t in tokens(text)]
    terms = [t for w in words if w not in _NOT_TERMS for t in tokenize(w, lang)]
    years = {int(w) for w in words if YEAR.match(w)}
    return Question(
        text,
        lang,
        question_kind(words),
        list(dict.fromkeys(terms)),
        years,
    )


def question_kind(words: list[str]) -> Kind:
    """The kind of answer asked for, from the question word and the nouns that follow it.

    Args:
        words: The question's words, lower-cased.

    Returns:
        The :class:`Kind`; ``OTHER`` when nothing says.
    """
    for i, w in enumerate(words):
        nxt = [x for x in words[i + 1 : i + 6] if x not in _ARTICLES][:3]
        if w in _WHO:
            return Kind.PERSON
        if w in _WHEN:
            return Kind.DATE
        if w in _WHERE:
            return Kind.PLACE
        if w in _HOW_MANY or (
            w == "how" and nxt[:1] and nxt[0] in {"many", "much", "long", "old", "far", "big"}
        ):
            return Kind.NUMBER
        if w in _WHICH:
            before = words[max(0, i - 2) : i]  # Kazakh puts the noun first: "қай жылы"
            for noun in [*nxt, *before]:
                kind = _noun_kind(noun)
                if kind is not Kind.OTHER:
                    return kind
            return Kind.OTHER
    return Kind.OTHER


def _noun_kind(noun: str) -> Kind:
    if noun.startswith(_DATE_NOUNS) and not noun.startswith(("days", "daily")):
        return Kind.DATE
    if noun.startswith(_NUMBER_NOUNS):
        return Kind.NUMBER
    if noun.startswith(_PERSON_NOUNS):
        return Kind.PERSON
    if noun.startswith(_PLACE_NOUNS):
        return Kind.PLACE
    return Kind.OTHER


_YEAR_IN_TEXT = re.compile(r"\b(1[0-9]\d\d|20\d\d)\b")
_BOUNDARIES = (  # strongest first: where the part about one year ends and the next begins
    re.compile(r"(?<=[.?!])\s+"),
    re.compile(r"\s*;\s*"),
    re.compile(r",\s+(?:and|but|while|и|а|но|ал|және|бірақ)\s+", re.IGNORECASE),
    re.compile(r"\s+(?:and|и|және)\s+", re.IGNORECASE),
)
_LINKS = frozenset(  # words a part can start with when it shares the previous part's head
    "of in at for by on to from with в во на о об для с со по из от к у".split()
)


def year_parts(text: str) -> dict[int, str]:
    """The part of a question about each year it names, when it asks about several.

    "Who represented the ministry in talks in August 2023, and who headed the delegation in
    April 2024?" asks two questions; so does "Which venues hosted the galas of X (2023) and of
    Y (2024)?", whose second part shares the first one's head ("Which venues hosted the galas").
    The question is cut at the strongest boundary (a sentence end, a semicolon, a comma with a
    conjunction, a conjunction) between the mentions of two different years; a range such as
    "in 2023 and 2024" is not cut. Each year's part keeps the pieces that name it or no year.

    Args:
        text: The question.

    Returns:
        Year → its part of the question; empty when the question does not split into parts
        about two or more years.
    """
    mentions = list(_YEAR_IN_TEXT.finditer(text))
    cuts: list[tuple[int, int]] = []
    for a, b in pairwise(mentions):
        if a.group() != b.group():
            cut = _boundary(text, a.end(), b.start())
            if cut is not None:
                cuts.append(cut)
    if not cuts:
        return {}
    edges = [0, *(x for cut in cuts for x in cut), len(text)]
    pieces = [text[edges[i] : edges[i + 1]].strip() for i in range(0, len(edges), 2)]
    for i in range(1, len(pieces)):  # "... of X (2023)" and "of Y (2024)": restore the head
        first, _, _ = pieces[i].partition(" ")
        head = re.search(rf"\s{re.escape(first)}\s", pieces[i - 1]) if first in _LINKS else None
        if head is not None:
            pieces[i] = pieces[i - 1][: head.start() + 1] + pieces[i]
    named = [{int(y) for y in _YEAR_IN_TEXT.findall(p)} for p in pieces]
    parts = {
        year: " ".join(p for p, ys in zip(pieces, named, strict=True) if year in ys or not ys)
        for year in sorted(set().union(*named))
    }
    return parts if len(set(parts.values())) > 1 else {}


def _boundary(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The strongest boundary in ``text[start:end]`` with words on at least one side of it."""
    gap = text[start:end]
    for pattern in _BOUNDARIES:
        for m in pattern.finditer(gap):
            if re.search(r"[^\W\d_]", gap[: m.start()] + gap[m.end() :]):
                return start + m.start(), start + m.end()
    return None
