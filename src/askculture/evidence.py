"""Evidence: what a question asks for, what each sentence offers, and how well they meet.

This module knows nothing of the index. It reads

- a question into a :class:`Question`: its terms and names, the kind of answer asked for
  (:class:`Slot`: a person, a date, an amount of money, a count, ...), the noun that kind is
  about ("how many *visitors*", "which *director*"), the years and months it names;
- a document into :class:`SentenceInfo` records: character spans with their terms, dates,
  amounts (money, percentages, counts, ...) and names;

and :class:`EvidenceScorer` scores every sentence against the question. The question's names
and numbers say which *document* (they count in the whole document and a sentence's
neighbourhood); its other content words say which *sentence*. A sentence *supports* an answer
only when it holds the kind of answer asked for (a day and a month for "on what exact date",
a currency amount for "budget", a person standing by the role for "which minister") next to the
noun that kind is about, in a document that has the question's names and years. When the
answer sits in the sentence after (or, for a dateline, before) the one that matches the
question, the evidence spans both.

Terms are compared in a script-independent form (:func:`askculture.lexical.tokenize`); a looser
"cognate key" lets an English word meet its Russian or Kazakh relative ("director" ~
"директором", "Tajik" ~ "таджикского", "Lyubimova" ~ "Любимовой"); a small lexicon of role and
award nouns links translations ("singer" ~ "певица" ~ "әнші"); and static word vectors of the
embedding model serve as a rough dictionary for the rest ("budget" ~ "бюджет").

All word lists here are generic (question words, answer-type cues, months, number, currency
and unit words, role nouns in en/ru/kk); nothing is specific to a corpus.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum

import numpy as np
import numpy.typing as npt

from askculture.documents import detect_language
from askculture.lexical import STOPWORDS, skeleton, tokenize

# --------------------------------------------------------------------------------------------
# Lexicons (generic: question words, answer-type cues, months, numbers, currencies, units)
# --------------------------------------------------------------------------------------------

_EN_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_RU_MONTH_STEMS = (
    "январ", "феврал", "март", "апрел", "(май)", "июн", "июл", "август", "сентябр", "октябр",
    "ноябр", "декабр",
)  # fmt: skip
_KK_MONTHS = (
    "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек",
    "қазан", "қараша", "желтоқсан",
)  # fmt: skip


def month_number(word: str) -> int | None:
    """The month (1-12) a word names in English, Russian or Kazakh (any case form), or None."""
    w = word.lower().strip(".")
    if w in _EN_MONTHS:
        return _EN_MONTHS.index(w) + 1
    if len(w) >= 3 and w[:3] in {m[:3] for m in _EN_MONTHS} and w in {m[:3] for m in _EN_MONTHS}:
        return [m[:3] for m in _EN_MONTHS].index(w) + 1
    if w in {"мая", "май", "мае"}:
        return 5
    for i, stem in enumerate(_RU_MONTH_STEMS, start=1):
        if i != 5 and w.startswith(stem) and len(w) - len(stem) <= 3:
            return i
    w = w.replace("i", "і")
    for i, month in enumerate(_KK_MONTHS, start=1):
        if w.startswith(month) and len(w) - len(month) <= 5:
            return i
    return None


_NUMBER_WORDS = {
    # English
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000, "million": 10**6,
    "billion": 10**9, "dozen": 12, "half": 0.5,
    # Russian
    "один": 1, "одна": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6,
    "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "двадцать": 20, "тридцать": 30,
    "сорок": 40, "пятьдесят": 50, "сто": 100, "тысяча": 1000, "тысячи": 1000, "тысяч": 1000,
    "миллион": 10**6, "миллиона": 10**6, "миллионов": 10**6, "миллиард": 10**9,
    "миллиарда": 10**9, "миллиардов": 10**9,
    # Kazakh
    "бір": 1, "екі": 2, "үш": 3, "төрт": 4, "бес": 5, "алты": 6, "жеті": 7, "сегіз": 8,
    "тоғыз": 9, "жиырма": 20, "отыз": 30, "қырық": 40, "елу": 50, "жүз": 100,
    "мың": 1000,
}  # fmt: skip
_DETERMINERS = {"one", "two", "один", "одна", "одно", "два", "две", "бір", "екі"}
"""Number words that mostly serve as determiners ("one of", "the two countries")."""
_MAGNITUDES = {
    "thousand", "million", "billion", "bn", "mln", "тыс", "тысяч", "тысячи", "млн",
    "миллион", "миллиона", "миллионов", "млрд", "миллиард", "миллиарда", "миллиардов", "мың",
    "trillion", "трлн",
}  # fmt: skip
_CURRENCY = re.compile(
    r"^(?:rubles?|roubles?|tenge|dollars?|usd|eur|euros?|yuan|rmb|manat|soms?|somoni|pounds?|"
    r"рубл\w*|руб|тенге|теңге|доллар\w*|долл|евро|юан\w*|манат\w*|сом\w*|сомони|фунт\w*|\$|€|₸|₽)$"
)
_PERCENT = re.compile(r"^(?:%|percent|per|процент\w*|пайыз\w*)$")
_UNITS = re.compile(
    r"^(?:square|sq|m2|м2|кв|квадратн\w*|шаршы|hectares?|га|km|км|kilometres?|километр\w*|"
    r"metres?|meters?|метр\w*|seats?|мест\w*|орын\w*)$"
)
_TIME_UNITS = re.compile(
    r"^(?:days?|weeks?|months?|years?|hours?|minutes?|working|дн\w*|день|недел\w*|месяц\w*|"
    r"лет|год\w*|час\w*|рабоч\w*|күн\w*|апта\w*|ай|айға|жыл\w*|сағат\w*)$"
)


class Slot(Enum):
    """The kind of answer a question asks for."""

    PERSON = "person"  # who; which minister/singer/...
    AGENT = "agent"  # who did something: a person or an institution
    NAME = "name"  # which opera/programme/channel/...: a proper name or a title
    PLACE = "place"  # where; in which city/building/country
    DATE = "date"  # when
    EXACT_DATE = "exact_date"  # on what (exact) date: a day and a month
    COUNT = "count"  # how many X
    MONEY = "money"  # how much; budget; total amount
    PERCENT = "percent"  # what share/percentage
    MEASURE = "measure"  # what area/size/length
    DURATION = "duration"  # what deadline/period; how long
    ANY = "any"  # what/how/why: no particular kind


_WHO = {"who", "whom", "whose", "кто", "кого", "кому", "кем", "ком", "кім", "кімге", "кімді",
        "кімнің", "кіммен", "кімдер"}  # fmt: skip
_WHEN = {"when", "когда", "қашан"}
_WHERE = {"where", "где", "куда", "откуда", "қайда", "қайдан"}
_HOW_MANY = {"сколько", "қанша", "неше", "нешe"}
_WHICH = {"which", "what", "какой", "какая", "какое", "какие", "каких", "какую", "каким",
          "какими", "какого", "какому", "каком", "қай", "қандай", "қайсы",
          "не", "что", "чем", "чего"}  # fmt: skip
QUESTION_WORDS = (
    _WHO | _WHEN | _WHERE | _HOW_MANY | _WHICH | {"how", "many", "much", "why", "почему",
    "зачем", "неге", "қалай", "как", "ли", "ма", "ме", "ба", "бе", "па", "пе", "did", "does",
    "do", "is", "are", "was", "were", "will", "can", "could", "has", "have", "had", "and",
    "а", "и", "ал", "және", "әрі", "tell", "describe", "explain", "about", "please", "know",
    "расскажи", "расскажите", "опиши", "опишите", "объясни", "объясните", "пожалуйста",
    "айтып", "айтыңыз", "беріңіз", "туралы", "жөнінде", "me", "us", "you", "мне", "нам",
    "маған", "бізге"}
)  # fmt: skip

# Role and award nouns that mean the same in English, Russian and Kazakh (word-start stems).
_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("minister", "министр"),
    ("director", "директор"),
    ("president", "президент"),
    ("chairman", "chairwoman", "chair", "председател", "төраға", "төрағал"),
    ("head", "глав", "руководител", "басшы", "жетекші"),
    ("ambassador", "посол", "посл", "елші"),
    ("governor", "mayor", "akim", "губернатор", "мэр", "аким", "әкім"),
    ("singer", "vocalist", "певец", "певиц", "вокалист", "әнші"),
    ("poet", "поэт", "ақын"),
    ("writer", "novelist", "писател", "жазушы"),
    ("painter", "artist", "художник", "суретші"),
    ("composer", "композитор"),
    ("actor", "actress", "актёр", "актер", "актрис", "әртіс"),
    ("laureate", "лауреат"),
    ("winner", "победител", "жеңімпаз"),
    ("deputy", "заместител", "орынбасар"),
    ("adviser", "advisor", "советник", "кеңесші"),
    ("spokesperson", "spokesman", "representative", "представител", "өкіл"),
    ("author", "автор"),
    ("rector", "ректор"),
    ("conductor", "дирижер", "дирижёр"),
    ("prize", "премия", "премии", "премию", "сыйлық", "сыйлығ", "жүлде"),
    ("medal", "медал"),
    ("award", "наград", "марапат"),
    ("order", "орден"),
    ("budget", "бюджет"),
    ("visitor", "посетител", "келуші"),
    ("exhibition", "выставк", "көрме"),
    ("festival", "фестивал"),
    ("film", "movie", "cinema", "фильм", "кино", "фильм"),
    ("city", "cities", "город", "қала"),
    ("country", "countries", "стран", "мемлекет", "ел"),
    ("theatre", "theater", "театр"),
    ("museum", "музе", "мұражай"),
    ("library", "библиотек", "кітапхана"),
    ("roadmap", "дорожн", "картас"),
    ("memorandum", "меморандум"),
    ("agreement", "соглашени", "келісім"),
    ("anniversary", "юбиле", "годовщин", "летия", "мерейтой", "жылдығ"),
    ("day", "дн", "дней", "день", "күн"),
)  # fmt: skip


@functools.lru_cache(maxsize=200_000)
def synonym_group(word: str) -> int:
    """The index of the cross-language synonym group a word belongs to, or -1."""
    w = word.lower().replace("ё", "е")
    if len(w) < 2:
        return -1
    for i, stems in enumerate(_SYNONYMS):
        for stem in stems:
            stem = stem.replace("ё", "е")
            if w.startswith(stem) and (len(stem) >= 4 or len(w) - len(stem) <= 3):
                return i
    return -1


_ROLE_STEMS = (
    # English
    "minister", "director", "president", "chairman", "chair", "head", "ambassador", "governor",
    "singer", "poet", "writer", "artist", "painter", "composer", "actor", "actress",
    "laureate", "winner", "deputy", "counsellor", "councillor", "adviser", "advisor", "envoy",
    "secretary", "spokesperson", "spokesman", "representative", "leader", "author", "mayor",
    "rector", "conductor", "founder", "chief", "speaker", "premier", "performer", "musician",
    "curator", "manager", "commissioner",
    # Russian
    "министр", "директор", "президент", "председател", "глав", "руководител", "посол",
    "губернатор", "певец", "певиц", "поэт", "писател", "художник", "композитор", "актёр",
    "актер", "актрис", "лауреат", "победител", "заместител", "советник", "представител",
    "автор", "мэр", "ректор", "дирижёр", "дирижер", "основател", "спикер", "исполнител",
    "куратор", "начальник", "вице",
    # Kazakh
    "төраға", "басшы", "елші", "әнші", "ақын", "жазушы", "суретші", "әртіс", "актер",
    "жеңімпаз", "орынбасар", "кеңесші", "өкіл", "әкім", "ректор", "орындаушы",
)  # fmt: skip
_AWARD_STEMS = ("prize", "award", "medal", "премия", "премии", "награ", "медал", "сыйлы",
                "жүлде", "медаль", "марапат", "орден", "order", "звани", "атағ")  # fmt: skip
_MONEY_CUES = ("budget", "cost", "amount", "sum", "fund", "funding", "price", "money", "spent",
               "spend", "worth", "allocat", "financ", "бюджет", "стоимост", "сумм", "средств",
               "финансир", "денег", "деньг", "потрач", "выдел", "құн", "сома", "қаржы",
               "қаражат", "ақша", "бөлін")  # fmt: skip
_MONEY_STRONG = ("budget", "cost", "price", "money", "funding", "бюджет", "стоимост", "денег",
                 "деньг", "құн", "ақша", "қаражат")  # fmt: skip
_PERCENT_CUES = ("share", "percent", "percentage", "proportion", "доля", "долю", "доли",
                 "процент", "үлес", "пайыз")  # fmt: skip
_MEASURE_CUES = ("area", "size", "length", "height", "capacity", "площад", "размер", "длин",
                 "высот", "вместимост", "аумағ", "ауданы", "көлем", "ұзындығ")  # fmt: skip
_DURATION_CUES = ("deadline", "period", "long", "duration", "срок", "период", "длительн",
                  "мерзім", "ұзақ")  # fmt: skip
_PLACE_NOUNS = ("city", "cities", "country", "countries", "building", "venue", "venues",
                "place", "region", "town", "hall", "museum", "theatre", "stage", "site",
                "город", "стран", "здани", "площадк", "мест", "регион", "зал", "музе", "театр",
                "сцен", "қала", "ел", "ғимарат", "өңір", "аймақ", "сахна", "орын")  # fmt: skip
_EXACT_DATE_CUES = ("date", "dates", "day", "дата", "даты", "дату", "числа", "число", "день",
                    "дни", "күн", "күні", "exact", "точн", "нақты")  # fmt: skip
_LATEST_CUES = ("latest", "most recent", "last", "newest", "recent", "последн", "недавн",
                "свеж", "соңғы", "ең соңғы", "жақында")  # fmt: skip
ORG_STEMS = (
    "academy", "institute", "institution", "university", "ministry", "theatre", "theater", "museum",
    "foundation", "fund", "centre", "center", "committee", "council", "agency", "opera",
    "complex", "gallery", "library", "company", "studio", "ensemble", "orchestra", "school",
    "conservatory", "organisation", "organization", "union", "association", "channel", "park",
    "академи", "институт", "университет", "министерств", "театр", "музе", "фонд", "центр",
    "комитет", "совет", "агентств", "опер", "комплекс", "галере", "библиотек", "компани",
    "студи", "ансамбл", "оркестр", "школ", "консерватори", "организаци", "союз", "ассоциаци",
    "канал", "парк", "академия", "министрлі", "қоры", "орталығ", "кеңес", "ұйым", "мектеб",
    "ансамбль", "оркестр", "кітапхана", "мұражай",
)  # fmt: skip
_ANAPHORA = {
    "it", "its", "this", "that", "these", "those", "they", "them", "their", "he", "she", "his",
    "her", "him", "there", "then", "это", "этот", "эта", "эти", "этом", "этого", "этой", "тот",
    "та", "то", "те", "он", "она", "оно", "они", "его", "её", "ее", "их", "ему", "ей", "им",
    "там", "тогда", "ол", "бұл", "оны", "оның", "оған", "олар", "олардың", "сол", "онда",
    "мұны", "мұнда", "сонда", "осы",
}  # fmt: skip
ANAPHORA = frozenset(_ANAPHORA)

# --------------------------------------------------------------------------------------------
# Words, terms and cognate keys
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+(?:[.,'’-][^\W_]+)*", re.UNICODE)
_CAP = re.compile(r"^[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ]")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th|-?й|-?го|-?я|-?ая|-?ое|-?ші|-?шы|-?інші|-?ыншы)$")
_DIGITS = re.compile(r"^\d+(?:[.,]\d+)?$")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text, with where it stands."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        """The word lower-cased."""
        return self.text.lower().replace("ё", "е")


def tokens(text: str, offset: int = 0) -> list[Token]:
    """Words and numbers of ``text`` with absolute offsets (``offset`` added)."""
    return [Token(m.group(0), m.start() + offset, m.end() + offset) for m in _TOKEN.finditer(text)]


@functools.lru_cache(maxsize=200_000)
def word_forms(word: str, lang: str | None) -> frozenset[str]:
    """The index terms of one word (stem and unstemmed, script-independent); empty for stop words.

    Ordinals lose their suffix ("60th", "60-й" -> "60"), so a number meets its ordinal.
    """
    low = word.lower().replace("ё", "е")
    m = _ORDINAL.match(low)
    if m:
        return frozenset({m.group(1)})
    out: set[str] = set()
    for part in re.split(r"[-'’]", low):
        out.update(tokenize(part, lang))
    return frozenset(out)


def _parts(word: str) -> list[str]:
    """A hyphenated or apostrophised token's parts ("Kazakhstan-Russia", "Kazakhstan's")."""
    if word.isalpha():
        return [word]
    m = _ORDINAL.match(word.lower())
    if m:
        return [word]
    return [p for p in re.split(r"[-'’.,]", word) if p and (len(p) > 1 or p.isdigit())]


@functools.lru_cache(maxsize=200_000)
def cognate_key(word: str) -> str:
    """A loose, script-independent key under which related words in en/ru/kk tend to agree.

    Args:
        word: One word in any case.

    Returns:
        A lower-case Latin key ("budget" and "бюджет" both give ``"buet"``); empty for short or
        non-alphabetic words.
    """
    low = word.lower().replace("ё", "е")
    if not low.isalpha() or len(low) < 3:
        return ""
    s = skeleton(low)
    for a, b in (("dzh", "y"), ("zh", "y"), ("dg", "y"), ("j", "y"), ("kh", "h"), ("ph", "f"),
                 ("th", "t"), ("ts", "t"), ("w", "v"), ("x", "ks"), ("q", "k"), ("c", "k"),
                 ("z", "s"), ("y", "")):  # fmt: skip
        s = s.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", s)


@functools.lru_cache(maxsize=500_000)
def cognate_match(a: str, b: str) -> bool:
    """True when two cognate keys look like the same word's relatives.

    They must share a prefix of four letters or more that is most of the shorter key (an
    inflected form: "lubimova" ~ "lubimovoi"), or differ by at most one edit in five letters
    ("petersburg" ~ "peterburg").
    """
    if not a or not b:
        return False
    short = min(len(a), len(b))
    if short < 4:
        return False
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    if n >= 4 and n >= 0.75 * short:
        return True
    if n < 3 or abs(len(a) - len(b)) > 3:
        return False
    return _edits(a, b) <= max(1, max(len(a), len(b)) // 5)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance of two short strings."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


# --------------------------------------------------------------------------------------------
# Dates, numbers, amounts and names in text
# --------------------------------------------------------------------------------------------

_YEAR = re.compile(r"^(19[5-9]\d|20\d\d)$")
_YEAR_ANY = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_DMY = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_NEXT_YEAR = re.compile(r"next year|following year|следующ\w* год|будущ\w* год|келесі жыл", re.I)
_THIS_YEAR = re.compile(r"this year|этом году|текущ\w* год|биыл|осы жыл", re.I)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date written in a text: a year, a month of a year, or a day (with month and year)."""

    start: int
    end: int
    year: int | None
    month: int | None
    day: int | None
    is_range: bool = False  # "23–26 August", "с 23 по 26 августа"
    year_given: bool = True  # False when the year comes from the document's date
    relative: bool = False  # "next year", "в этом году": a year, but no answer to "when"


def find_dates(
    toks: list[Token], text: str, offset: int, doc_year: int | None
) -> list[DateMention]:
    """Dates in a sentence: days with months, months with years, and years.

    Args:
        toks: The sentence's tokens (absolute offsets).
        text: The sentence text.
        offset: Absolute offset of ``text``.
        doc_year: The document's year, given to "next year" / "this year" and to a day and month
            written without a year.

    Returns:
        Date mentions in order; a day and month without a year takes the document's year.
    """
    out: list[DateMention] = []
    used: set[int] = set()
    for rx, order in ((_ISO, "ymd"), (_DMY, "dmy")):
        for m in rx.finditer(text):
            a, b, c = (int(g) for g in m.groups())
            y, mo, d = (a, b, c) if order == "ymd" else (c, b, a)
            if 1 <= mo <= 12 and 1 <= d <= 31:
                out.append(DateMention(m.start() + offset, m.end() + offset, y, mo, d))
    n = len(toks)
    for i, t in enumerate(toks):
        month = month_number(t.text) if t.text.isalpha() else None
        if month is None or (t.lower == "may" and t.text[0] != "M"):
            continue
        day = year = None
        is_range = False
        start, end = t.start, t.end
        # day before the month: "23 August", "с 23 по 26 августа", "20–22 маусымда", "2 to 5"
        j = i - 1
        if j >= 0 and toks[j].text.isdigit() and int(toks[j].text) <= 31:
            day, start = int(toks[j].text), toks[j].start
            k = j - 1
            if k >= 0 and toks[k].text.lower() in {"to", "and", "по", "до", "и"}:
                k -= 1
            if k >= 0 and toks[k].text.isdigit() and int(toks[k].text) <= 31:
                start, is_range = toks[k].start, True
        # day after the month: "October 11, 2025"
        elif (
            i + 2 < n
            and toks[i + 1].text.isdigit()
            and int(toks[i + 1].text) <= 31
            and _YEAR.match(toks[i + 2].text)
        ):
            day, end = int(toks[i + 1].text), toks[i + 1].end
        # year after the month (and day): "August 2023", "11 October 2025"
        k = i + 1 if day is None or end == t.end else i + 2
        if k < n and _YEAR.match(toks[k].text) and toks[k].start - end <= 3:
            year, end = int(toks[k].text), toks[k].end
        # year before: "2024 жылғы 20–22 маусымда", "в мае 2024"
        if year is None:
            for k in range(max(0, i - 5), i):
                if _YEAR.match(toks[k].text):
                    between = {x.lower for x in toks[k + 1 : i]}
                    if between <= {"жылғы", "жылы", "ж", "года", "год", "г"} | {
                        x.lower for x in toks[k + 1 : i] if x.text.isdigit()
                    }:
                        year, start = int(toks[k].text), min(start, toks[k].start)
        if day is None and year is None:
            continue  # a bare month name is too weak ("march", "May")
        out.append(
            DateMention(start, end, year or doc_year, month, day, is_range, year is not None)
        )
        used.update(range(start, end))
    for t in toks:
        if _YEAR.match(t.text) and t.start not in used:
            out.append(DateMention(t.start, t.end, int(t.text), None, None))
    if doc_year is not None:
        for rx, year in ((_NEXT_YEAR, doc_year + 1), (_THIS_YEAR, doc_year)):
            for m in rx.finditer(text):
                start, end = m.start() + offset, m.end() + offset
                out.append(DateMention(start, end, year, None, None, relative=True))
    return sorted(out, key=lambda d: d.start)


@dataclass(frozen=True, slots=True)
class Amount:
    """A number in a text and what follows it: a currency, a percent sign, a unit, a time unit."""

    start: int
    end: int
    kind: str  # "count", "money", "percent", "measure", "duration"


def find_amounts(toks: list[Token], dates: list[DateMention]) -> list[Amount]:
    """Numbers (digits or number words) that are not dates, years or ordinals, with their kind."""
    in_date: set[int] = set()
    for d in dates:
        in_date.update(range(d.start, d.end))
    out: list[Amount] = []
    n = len(toks)
    i = 0
    while i < n:
        t = toks[i]
        low = t.lower
        is_num = bool(_DIGITS.match(low)) or (low in _NUMBER_WORDS and low not in _DETERMINERS)
        if low == "half" and not (i + 2 < n and toks[i + 2].lower in _MAGNITUDES):
            is_num = False  # "half" alone is not an amount; "half a million" is
        if not is_num or t.start in in_date or (_YEAR.match(low) and low.isdigit()):
            if low in {"$", "€"}:
                pass
            i += 1
            continue
        j = i
        # "1 189", "5,67 млрд", "half a million", "seven to five"
        while j + 1 < n and (
            (toks[j + 1].text.isdigit() and len(toks[j + 1].text) == 3 and toks[j].text.isdigit())
            or toks[j + 1].lower in _MAGNITUDES
            or (toks[j + 1].lower == "a" and j + 2 < n and toks[j + 2].lower in _MAGNITUDES)
        ):
            j += 1
        kind = "count"
        after = [x.lower for x in toks[j + 1 : j + 4]]
        before = toks[i - 1].lower if i > 0 else ""
        if any(_CURRENCY.match(w) for w in after[:2]) or _CURRENCY.match(before):
            kind = "money"
        elif after and _PERCENT.match(after[0]):
            kind = "percent"
        elif after and (_UNITS.match(after[0])):
            kind = "measure"
        elif any(_TIME_UNITS.match(w) for w in after[:2]):
            kind = "duration"
        out.append(Amount(t.start, toks[j].end, kind))
        i = j + 1
    return out


@dataclass(frozen=True, slots=True)
class NameSpan:
    """A run of capitalised words (or a quoted title) in a text."""

    start: int
    end: int
    words: tuple[str, ...]
    is_org: bool
    quoted: bool


_CONNECT = {"of", "the", "and", "de", "for", "in", "имени", "им", "и", "атындағы", "uulu", "kyzy",
            "ұлы", "қызы", "bin", "al", "van", "von", "–", "-"}  # fmt: skip
_QUOTED = re.compile(r"[«\"“]([^«»\"“”\n]{2,120})[»\"”]")


def find_names(toks: list[Token], text: str, offset: int) -> list[NameSpan]:
    """Proper names (capitalised word runs, all-caps acronyms) and quoted titles in a sentence."""
    out: list[NameSpan] = []
    for m in _QUOTED.finditer(text):
        inner = m.group(1).strip()
        out.append(
            NameSpan(m.start() + offset, m.end() + offset, tuple(inner.split()), False, True)
        )
    run: list[Token] = []

    def flush() -> None:
        while run and run[-1].lower in _CONNECT:
            run.pop()
        if run:
            ws = tuple(x.text for x in run)
            low = [x.lower for x in run]
            is_org = any(w.startswith(ORG_STEMS) for w in low)
            out.append(NameSpan(run[0].start, run[-1].end, ws, is_org, False))
        run.clear()

    for i, t in enumerate(toks):
        cap = bool(_CAP.match(t.text)) and not t.text.isdigit()
        if run and text[run[-1].end - offset : t.start - offset].strip(" -"):
            flush()  # punctuation between words ends a name
        if cap:
            if i == 0 and (
                t.lower in STOPWORDS
                or t.lower in QUESTION_WORDS
                or not (len(toks) > 1 and _CAP.match(toks[1].text))
            ):
                continue  # a capital that only starts the sentence
            if month_number(t.text) is not None and t.lower not in {"мая"}:
                flush()
                continue
            run.append(t)
        elif run and t.lower in _CONNECT:
            run.append(t)
        else:
            flush()
    flush()
    return out


# --------------------------------------------------------------------------------------------
# Sentences of a document
# --------------------------------------------------------------------------------------------

_LIST_MARK = re.compile(r"^[ \t]*(?:[-*•–—]|\d{1,2}[.)])[ \t]+")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+")
_END = re.compile(r"[.!?…]+[\"'»”)\]]*(?=\s)")
_ABBREV = {
    "st", "mr", "mrs", "ms", "dr", "prof", "no", "vs", "etc", "jr", "sr", "inc", "ltd", "co",
    "gen", "gov", "approx", "fig", "г", "гг", "им", "ул", "т", "д", "ж", "жж", "см", "тыс",
    "млн", "млрд", "руб", "долл", "проф", "акад", "обл", "р", "кв", "м", "н", "в", "е", "т.е",
    "т.д", "т.п", "и.о", "др", "пр", "ст",
}  # fmt: skip


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a document text: list items and headings are sentences of their own.

    Args:
        text: A document's text.

    Returns:
        ``(start, end)`` character spans, in order, stripped of surrounding whitespace and list
        markers, each holding at least one letter or digit.
    """
    units: list[tuple[int, int]] = []
    pos = 0
    para_start: int | None = None
    para_end = 0
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        body = text[start:end]
        if not body.strip():
            if para_start is not None:
                units.append((para_start, para_end))
                para_start = None
            continue
        mark = _LIST_MARK.match(body) or _HEADING.match(body)
        if mark:
            if para_start is not None:
                units.append((para_start, para_end))
                para_start = None
            units.append((start + mark.end(), end))
            continue
        if para_start is None:
            para_start = start
        para_end = end
    if para_start is not None:
        units.append((para_start, para_end))
    spans: list[tuple[int, int]] = []
    for u0, u1 in units:
        seg = text[u0:u1]
        cut = 0
        for m in _END.finditer(seg):
            before = seg[cut : m.start()].rsplit(None, 1)
            last = before[-1].lower().strip('(«"') if before else ""
            nxt = seg[m.end() :].lstrip()
            if (
                last in _ABBREV
                or (len(last) == 1 and last.isalpha())
                or (re.search(r"\d$", last) and seg[m.start()] == "." and nxt[:1].isdigit())
            ):
                continue
            if nxt and not (nxt[0].isupper() or nxt[0].isdigit() or nxt[0] in '«"“(—–-'):
                continue
            spans.append((u0 + cut, u0 + m.end()))
            cut = m.end()
        spans.append((u0 + cut, u1))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and any(c.isalnum() for c in text[s:e]):
            out.append((s, e))
    return out


@dataclass(slots=True)
class SentenceInfo:
    """One sentence of a document with everything scoring needs."""

    index: int
    start: int
    end: int
    text: str
    terms: frozenset[str]
    keys: dict[str, tuple[str, ...]]  # cognate keys by their first three letters
    words: tuple[str, ...]  # lower-cased content words (for word-level similarity)
    groups: frozenset[int]  # cross-language synonym groups of its words
    dates: list[DateMention]
    amounts: list[Amount]
    names: list[NameSpan]
    toks: list[Token]

    def has_key(self, key: str) -> bool:
        """True when a word of this sentence is a cognate of ``key``."""
        return any(cognate_match(key, k) for k in self.keys.get(key[:3], ()))


@dataclass(slots=True)
class DocSentences:
    """A document cut into analysed sentences; built once per document and reused."""

    doc_id: str
    lang: str | None
    date: str | None
    sentences: list[SentenceInfo]
    terms: frozenset[str]  # every term of the document, title included
    years: frozenset[int]  # every year the document mentions or is dated
    title: SentenceInfo | None = None  # the title, analysed like a sentence
    common: frozenset[str] = field(default_factory=frozenset)  # words it writes in lower case


def analyse_document(
    doc_id: str, text: str, title: str, lang: str | None, date: str | None
) -> DocSentences:
    """Cut a document into :class:`SentenceInfo` records.

    Args:
        doc_id: The document id.
        text: The document text (offsets point into it).
        title: Its title.
        lang: Its language.
        date: Its ISO date, if known.

    Returns:
        The analysed document.
    """
    doc_year = int(date[:4]) if date else None
    sents = [
        _sentence(i, text[s:e], s, lang, doc_year) for i, (s, e) in enumerate(split_sentences(text))
    ]
    years: set[int] = {doc_year} if doc_year else set()
    all_terms: set[str] = set()
    for x in sents:
        years.update(d.year for d in x.dates if d.year)
        all_terms |= x.terms
    title_info = _sentence(-1, title, 0, lang, doc_year)
    common = frozenset(_stem_key(t.text) for x in sents for t in x.toks if t.text[:1].islower())
    return DocSentences(
        doc_id, lang, date, sents, frozenset(all_terms | title_info.terms), frozenset(years),
        title_info, common,
    )  # fmt: skip


def _sentence(
    i: int, body: str, start: int, lang: str | None, doc_year: int | None
) -> SentenceInfo:
    """Analyse one sentence (``body`` starts at offset ``start`` of the document text)."""
    toks = tokens(body, start)
    terms: set[str] = set()
    keys: dict[str, list[str]] = {}
    content: list[str] = []
    for t in toks:
        terms |= word_forms(t.text, lang)
        for part in _parts(t.text):
            if part.isalpha() and word_forms(part, lang):
                content.append(part.lower())
                k = cognate_key(part)
                if k:
                    keys.setdefault(k[:3], []).append(k)
    dates = find_dates(toks, body, start, doc_year)
    return SentenceInfo(
        index=i, start=start, end=start + len(body), text=body, terms=frozenset(terms),
        keys={k: tuple(v) for k, v in keys.items()}, words=tuple(dict.fromkeys(content)),
        groups=frozenset(g for w in content if (g := synonym_group(w)) >= 0),
        dates=dates, amounts=find_amounts(toks, dates), names=find_names(toks, body, start),
        toks=toks,
    )  # fmt: skip


def _stem_key(word: str) -> str:
    """A word's lower-case form without its last two letters (enough to compare case forms)."""
    w = word.lower()
    return w[:-2] if len(w) > 5 else w


# --------------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QTerm:
    """A content word of a question."""

    word: str
    forms: frozenset[str]
    key: str
    is_name: bool
    is_number: bool
    is_focus: bool
    pos: int = -1  # index of the question token it comes from
    group: int = -1  # cross-language synonym group (role and award nouns, ...), -1 for none
    alt: int = -1  # names joined by "and"/"or" share an id: any one of them will do
    light: bool = False  # a light verb or filler word ("take place", "held"): weighs little


@dataclass(slots=True)
class Question:
    """What a question asks: its terms, the kind of answer, and the dates it names."""

    text: str
    lang: str
    slot: Slot
    terms: list[QTerm]
    focus: list[QTerm]  # the noun(s) the asked-for slot is about ("visitors", "budget", ...)
    role: list[QTerm]  # role nouns ("minister", "директор") when a person is asked for
    is_list: bool
    wants_latest: bool
    wants_range: bool  # "on which dates", "period": a span of days answers best
    years: set[int]
    months: set[tuple[int | None, int]]  # (year or None, month)
    names: list[str]  # proper names as written
    phrases: list[list[int]] = field(default_factory=list)  # multi-word names (term indices)

    @property
    def content_forms(self) -> frozenset[str]:
        """Every term form of the question."""
        return frozenset(f for t in self.terms for f in t.forms)


_SPLIT_PART = re.compile(
    r"(?:,\s*|\s+)(?:and|а также|а|и|ал|және|әрі)\s+(?=(?:which|what|who|whom|when|where|how|"
    r"какой|какая|какое|какие|какую|каким|кто|кого|когда|где|сколько|кім|қай|қашан|қайда|қанша|"
    r"неше|қандай)\b)",
    re.IGNORECASE,
)


def split_question(text: str) -> list[str]:
    """Split a compound question into its parts, each with the context that precedes it.

    "A attended X in 2023 and 2024. Which medal did she present in 2023, and which anniversary
    did she discuss in 2024?" gives two questions, each starting with the first sentence.

    Args:
        text: The question.

    Returns:
        One or more questions; a simple question is returned unchanged.
    """
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+", text) if s.strip()]
    context = [s for s in sentences if not s.endswith("?")]
    asked = [s for s in sentences if s.endswith("?")]
    if not asked:
        return [text]
    parts: list[str] = []
    for q in asked:
        pieces = [p.strip(" ,") for p in _SPLIT_PART.split(q) if p.strip(" ,")]
        for p in pieces:
            p = p[0].upper() + p[1:]
            parts.append(p if p.endswith("?") else p + "?")
    if len(parts) <= 1 and not context:
        return [text]
    prefix = " ".join(context)
    return [f"{prefix} {p}".strip() for p in parts] if parts else [text]


def _starts(word: str, stems: tuple[str, ...]) -> bool:
    return any(word.startswith(s) for s in stems)


def analyse_question(text: str) -> Question:
    """Read a question: its content terms, names, the kind of answer it wants, and its dates.

    Args:
        text: A cleaned question in English, Russian or Kazakh.

    Returns:
        The analysed :class:`Question`.
    """
    lang = detect_language(text) or "en"
    toks = tokens(text)
    lows = [t.lower for t in toks]
    joined = " ".join(lows)
    names = find_names(toks, text, 0)
    name_words = {w.lower() for n in names for w in n.words}
    dates = find_dates(toks, text, 0, None)
    years = {d.year for d in dates if d.year}
    months = {(d.year, d.month) for d in dates if d.month}
    date_tok = {t.start for t in toks for d in dates if d.start <= t.start < d.end}

    # the kind of answer asked for, and the word(s) right after the question word
    slot = Slot.ANY
    after: list[int] = []
    qpos: int | None = None
    for i, w in enumerate(lows):
        if w in _WHO:
            slot, qpos = Slot.AGENT, i
            break
        if w == "how" and i + 1 < len(lows) and lows[i + 1] in {"many", "much"}:
            slot = Slot.COUNT if lows[i + 1] == "many" else Slot.MONEY
            qpos = i + 1
            break
        if w == "how" and i + 1 < len(lows) and lows[i + 1] == "long":
            slot, qpos = Slot.DURATION, i + 1
            break
        if w in _HOW_MANY:
            slot, qpos = Slot.COUNT, i
            break
        if w in _WHEN:
            slot, qpos = Slot.DATE, i
            break
        if w in _WHERE:
            slot, qpos = Slot.PLACE, i
            break
        if w in _WHICH and qpos is None:
            slot, qpos = Slot.NAME, i
            # do not break: a later "who"/"how many" in a subordinate clause is rarer than this
            break
    if qpos is not None:
        for j in range(qpos + 1, min(qpos + 5, len(lows))):
            w = lows[j]
            if w in STOPWORDS or w in QUESTION_WORDS or not toks[j].text.isalpha():
                if after:
                    break
                continue
            if after and (w in _LIGHT or (lang == "en" and w.endswith(("ed", "ing")))):
                break  # "how many people received": the verb ends the noun phrase
            after.append(j)
            if len(after) >= 3:
                break
        if lang == "kk" and qpos > 0:  # Kazakh puts the asked-about noun before "кім"/"қанша"
            before = [j for j in range(max(0, qpos - 2), qpos) if lows[j] not in STOPWORDS]
            if slot in {Slot.AGENT, Slot.COUNT}:
                after = before + after
    near = [lows[j] for j in after]
    focus_idx: set[int] = set(after)
    role_idx = {j for j in after if _starts(lows[j], _ROLE_STEMS)}
    role_idx |= {j for j, w in enumerate(lows) if slot is Slot.AGENT and _starts(w, _ROLE_STEMS)
                 and j <= (qpos or 0) + 4 and w not in name_words}  # fmt: skip

    if slot is Slot.NAME:
        if any(_starts(w, _ROLE_STEMS) for w in near):
            slot = Slot.PERSON
        elif any(w in {"date", "dates", "day", "year", "дата", "даты", "числа", "году", "год",
                       "күні", "жылы"} for w in near):  # fmt: skip
            slot = (
                Slot.EXACT_DATE
                if not any(w in {"year", "году", "год", "жылы"} for w in near)
                else Slot.DATE
            )
        elif any(_starts(w, _PERCENT_CUES) for w in near):
            slot = Slot.PERCENT
        elif any(_starts(w, _MEASURE_CUES) for w in near):
            slot = Slot.MEASURE
        elif any(_starts(w, _DURATION_CUES) for w in near):
            slot = Slot.DURATION
        elif any(_starts(w, _MONEY_STRONG) for w in near) or (
            any(_starts(w, _MONEY_CUES) for w in near) and "amount" in joined
        ):
            slot = Slot.MONEY
        elif any(_starts(w, _PLACE_NOUNS) and not _starts(w, ORG_STEMS) for w in near):
            slot = Slot.PLACE
    if slot is Slot.COUNT and any(_starts(w, _MONEY_CUES) for w in near):
        slot = Slot.MONEY
    if slot is Slot.COUNT and any(_starts(w, _PERCENT_CUES) for w in near):
        slot = Slot.PERCENT
    if (
        slot in {Slot.ANY, Slot.NAME}
        and any(_starts(w, _MONEY_STRONG) for w in lows)
        and not any(w in _WHO for w in lows)
    ):
        slot = Slot.MONEY
    if slot is Slot.NAME and any(_starts(w, _DURATION_CUES) for w in lows):
        slot = Slot.DURATION
    if slot is Slot.AGENT and role_idx:
        slot = Slot.PERSON
    if slot is Slot.DATE and any(c in joined for c in ("exact", "точн", "нақты", "какого числа",
                                                      "қай күні")):  # fmt: skip
        slot = Slot.EXACT_DATE
    if (
        slot is Slot.NAME
        and qpos is not None
        and lows[qpos] in {"what", "что", "не"}
        and (qpos + 1 == len(lows) or lows[qpos + 1] in _AUX)
        and not any(w in _NAMING for w in near)
    ):
        slot = Slot.ANY  # "What did the Government instruct ...": not a name, any answer

    is_list = _is_list(lows, after, slot, lang)
    wants_latest = any(c in joined for c in _LATEST_CUES)
    wants_range = slot in {Slot.DATE, Slot.EXACT_DATE} and any(
        w in {"dates", "period", "даты", "период", "сроки", "күндері", "кезең", "мерзімі"}
        for w in lows
    )

    terms: list[QTerm] = []
    seen: set[frozenset[str]] = set()
    for i, t in enumerate(toks):
        w = lows[i]
        if w in QUESTION_WORDS or w in ANAPHORA or t.start in date_tok or _YEAR.match(w):
            continue
        is_name = (
            len(w) > 2 and ((w in name_words and not _starts(w, _ROLE_STEMS)) or t.text.isupper())
        ) or (any(c.isdigit() for c in w) and any(c.isalpha() for c in w))  # "B2", "60th"
        light = w in _LIGHT or _is_cue(w, slot)
        for part in _parts(t.text):
            forms = word_forms(part, lang)
            if not forms or forms in seen or part.lower() in QUESTION_WORDS:
                continue
            seen.add(forms)
            is_num = part[:1].isdigit()
            focus_here = i in focus_idx
            terms.append(
                QTerm(part, forms, cognate_key(part), is_name, is_num, focus_here, i,
                      synonym_group(part), light=light)
            )  # fmt: skip
    focus = [q for q in terms if q.is_focus and not q.is_name]
    role = [q for q in terms if q.pos in role_idx]
    if slot in {Slot.NAME, Slot.PLACE, Slot.ANY}:
        focus = [q for q in focus if not q.is_number]
    return Question(
        text=text, lang=lang, slot=slot, terms=_or_groups(terms, lows), focus=focus, role=role,
        is_list=is_list, wants_latest=wants_latest, wants_range=wants_range, years=years,
        months=months, phrases=_name_phrases(terms, lows),
        names=[" ".join(n.words) for n in names],
    )  # fmt: skip


def _is_cue(word: str, slot: Slot) -> bool:
    """True for a word that only says what kind of answer is wanted ("date", "budget")."""
    if slot in {Slot.DATE, Slot.EXACT_DATE}:
        return word in _EXACT_DATE_CUES or word in {"year", "году", "год", "жылы", "when"}
    if slot is Slot.MONEY:
        return _starts(word, _MONEY_CUES)
    if slot is Slot.PERCENT:
        return _starts(word, _PERCENT_CUES)
    if slot is Slot.MEASURE:
        return _starts(word, _MEASURE_CUES)
    if slot is Slot.DURATION:
        return _starts(word, _DURATION_CUES)
    return False


def _name_phrases(
    terms: list[QTerm], lows: list[str], joiners: frozenset[str] | set[str] = _CONNECT
) -> list[list[int]]:
    """Multi-word names of the question ("Abai State Prize", "Days of Tajik Culture"): name
    words next to each other or joined by ``joiners`` ("of", "the", ...)."""
    phrases: list[list[int]] = []
    cur: list[int] = []
    for j, t in enumerate(terms):
        if not t.is_name or t.pos < 0:
            continue
        if cur:
            last = terms[cur[-1]]
            gap = lows[last.pos + 1 : t.pos]
            if t.pos == last.pos or (len(gap) <= 2 and all(w in joiners for w in gap)):
                cur.append(j)
                continue
            if len(cur) > 1:
                phrases.append(cur)
        cur = [j]
    if len(cur) > 1:
        phrases.append(cur)
    return phrases


_AUX = frozenset({"did", "does", "do", "is", "was", "are", "were", "will", "has", "have", "had",
                  "can", "could", "should", "would", "must", "may"})  # fmt: skip
_NAMING = frozenset({"name", "title", "called", "название", "названием", "называется", "атауы",
                     "аты"})  # fmt: skip
_LIGHT = frozenset({
    "take", "takes", "took", "taken", "place", "held", "hold", "holds", "make", "made", "give",
    "given", "get", "become", "became", "come", "came", "go", "went", "do", "done", "put", "set",
    "say", "said", "also", "new", "part", "exact", "exactly", "total", "actually", "originally",
    "проходит", "проходят", "пройдет", "пройдут", "прошел", "прошла", "прошло", "прошли",
    "состоится", "состоялся", "состоялась", "состоялось", "состоялись", "был", "была", "было",
    "были", "стал", "стала", "стали", "также", "точно", "өтті", "өтеді", "болды", "болады",
    "етті", "алды", "берді", "жасады", "нақты",
})  # fmt: skip
_AND = {"and", "or", "и", "или", "және", "мен", "бен", "пен", "немесе"}


def _or_groups(terms: list[QTerm], lows: list[str]) -> list[QTerm]:
    """Mark names joined by "and"/"or" ("the Russian and the Kazakh side") as alternatives.

    Such names often belong to different documents; a document needs only one of them.
    """
    out = list(terms)
    names = [i for i, t in enumerate(out) if t.is_name and t.pos >= 0]
    # words of multi-word names ("Aida Balayeva and Olga Lyubimova") are not alternatives
    in_phrase = {terms[j].pos for ph in _name_phrases(terms, lows, set()) for j in ph}
    names = [i for i in names if out[i].pos not in in_phrase]
    for a, b in itertools.pairwise(names):
        ta, tb = out[a], out[b]
        between = lows[ta.pos + 1 : tb.pos]
        if (
            0 < len(between) <= 3
            and any(w in _AND for w in between)
            and all(w in _AND or w in STOPWORDS for w in between)
        ):
            group = ta.alt if ta.alt >= 0 else ta.pos
            out[a] = replace(ta, alt=group)
            out[b] = replace(tb, alt=group)
    return out


def _is_list(lows: list[str], after: list[int], slot: Slot, lang: str) -> bool:
    if any(w in {"какие", "каких", "какими", "кімдер", "қандай"} for w in lows):
        return True
    for j in after:
        w = lows[j]
        if (
            lang == "en"
            and w.endswith("s")
            and not w.endswith("ss")
            and slot in {Slot.NAME, Slot.PLACE, Slot.PERSON}
        ):
            return True
        if lang == "kk" and re.search(r"(лар|лер|дар|дер|тар|тер)", w):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Scoring sentences against a question
# --------------------------------------------------------------------------------------------

_TITLE_WORDS = (
    # capitalised words of titles and institutions that are not personal names
    "foreign", "affair", "first", "general", "nation", "internation", "special", "federal",
    "honour", "honor", "artist", "worker", "hero", "labour", "labor", "order", "medal", "award",
    "prize", "festival", "week", "world", "heritage", "north", "south", "east", "west", "central",
    "global", "new", "great", "grand", "royal", "saint", "assembly", "parliament", "senate",
    "duma", "majilis", "court", "office", "service", "press", "agency", "channel", "house",
    "palace", "hall", "square", "street", "airport", "commission", "sub-commission", "cinema",
    "year", "state", "academic", "folk", "song", "dance",
    "иностранн", "перв", "генеральн", "национальн", "международн", "специальн", "федеральн",
    "заслуженн", "народн", "артист", "деятел", "геро", "орден", "медал", "преми", "фестивал",
    "недел", "наследи", "собрани", "парламент", "сенат", "дум", "мажилис", "служб", "дом",
    "дворец", "площад", "аэропорт", "ассамбле", "комисси", "подкомисси", "государствен",
    "сыртқы", "істер", "бірінші", "ұлттық", "халықаралық", "еңбек", "сіңірген", "халық", "әртіс",
    "қайраткер", "сыйлы", "мұра", "мәжіліс", "агенттік", "сарай", "алаң", "әуежай", "ассамблея",
    "комиссия", "мәдениет", "ақпарат", "мемлекеттік", "академиялық",
)  # fmt: skip
_NOT_PERSON = (
    *_TITLE_WORDS,
    "republic", "federation", "kingdom", "state", "government", "region", "city", "country",
    "union", "people", "president", "minister", "prime", "deputy", "head", "day", "days", "year",
    "years", "culture", "forum", "summit", "law", "programme", "program", "convention",
    "республик", "федераци", "государств", "правительств", "област", "город", "стран",
    "президент", "министр", "премьер", "заместител", "глав", "дни", "дней", "год", "культур",
    "форум", "саммит", "закон", "программ", "конвенци", "республика", "мемлекет", "үкімет",
    "облыс", "қала", "ел", "министр", "күн", "жыл", "мәдениет", "заң", "бағдарлам",
)  # fmt: skip


@dataclass(slots=True)
class Candidate:
    """A retrieved document: its passages (best first) and its rank among documents."""

    doc_id: str
    text: str
    title: str
    lang: str | None
    date: str | None
    passages: list[object]  # the retrieval Passages of this document (opaque here)
    passage_spans: list[tuple[int, int, float]]  # (start, end, normalised retrieval score)
    rank: int
    info: DocSentences | None = None


@dataclass(slots=True)
class Evidence:
    """One sentence of a candidate document (possibly with a neighbour), scored against a question.

    When a sentence matches the question but the asked-for value sits in the sentence next to it
    ("The Duma approved ..." after "MOSCOW, 14 May 2024."), the evidence spans both.
    """

    cand: Candidate
    sent: SentenceInfo
    start: int  # the quoted span: the sentence, or the sentence with its neighbour
    end: int
    content: float  # IDF-weighted share of the question's content words in the sentence
    content_window: float  # ... in the sentence with its neighbours and the title
    names: float  # share of the question's names and numbers in the sentence
    names_window: float  # ... in the sentence with its neighbours and the title
    doc_cov: float  # share of all question terms anywhere in the document
    names_missing: float  # weighted share of the question's names absent from the document
    slot_ok: bool  # holds the kind of answer asked for (itself or its neighbour)
    focus_ok: bool  # holds the noun that kind of answer is about, when that is required
    focus_here: bool  # the question's focus noun is in the sentence itself
    year_ok: bool  # the document concerns a year the question names
    date_fit: float
    prior: float
    fillers: frozenset[str]
    score: float = 0.0
    supported: bool = False

    @property
    def window(self) -> float:
        """Overall match of the question around this sentence."""
        return 0.6 * self.content_window + 0.4 * self.names_window

    @property
    def sent_score_ok(self) -> bool:
        """Good enough to be cited beside another sentence that says the same."""
        return self.window >= 0.3

    def overlaps(self, other: Evidence) -> bool:
        """True when both quote overlapping text of the same document."""
        return (
            self.cand.doc_id == other.cand.doc_id
            and self.start < other.end
            and other.start < self.end
        )

    def new_fillers(self, chosen: list[Evidence]) -> bool:
        """True when this sentence adds answers (names, values) that the chosen ones lack."""
        have: set[str] = set()
        for c in chosen:
            have |= c.fillers
        return bool(self.fillers - have) if self.fillers else False

    def conflicts_with(self, other: Evidence) -> bool:
        """True when both give the asked-for value for what looks like the same event, differently.

        Both must match the question well, each must hold a value, and the values must not
        overlap (a date or number in one that the other does not give).
        """
        if not self.fillers or not other.fillers or self.cand.doc_id == other.cand.doc_id:
            return False
        if any(f.startswith("doc:") for f in self.fillers | other.fillers):
            return False  # publication dates differing are noted apart
        if min(self.content, other.content) < 0.35:
            return False
        close = bool(self.cand.date and other.cand.date) and (
            abs(_days(str(self.cand.date)) - _days(str(other.cand.date))) <= 3
        )
        if not close:
            return False  # reports days apart may well be about different events
        return not fillers_agree(self.fillers, other.fillers)


def same_fact(a: Evidence, b: Evidence) -> bool:
    """True when two sentences of different documents report the same thing.

    They must share most of their distinctive words (names, numbers, terms — matched across
    scripts and languages) and not contradict each other on the asked-for value.
    """
    if a.cand.doc_id == b.cand.doc_id:
        return False
    if a.fillers and b.fillers and not fillers_agree(a.fillers, b.fillers):
        return False
    if a.cand.date and b.cand.date and abs(_days(a.cand.date) - _days(b.cand.date)) > 3:
        return False
    need = 0.5 if a.cand.lang == b.cand.lang else 0.35  # translations share fewer word forms
    return _overlap(a.sent, b.sent) >= need and _overlap(b.sent, a.sent) >= need


def fillers_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when two sets of answer values share one (names compared as cognates)."""
    if a & b:
        return True
    return any(cognate_match(x, y) for x in a for y in b if x[:1] == y[:1] and x.isalpha())


def _days(iso: str) -> int:
    try:
        return date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return 0


def _salient(s: SentenceInfo) -> list[Token]:
    return [t for t in s.toks if len(t.text) > 2 and t.lower not in STOPWORDS and (
        t.text[0].isupper() or t.text[0].isdigit() or len(t.text) > 4)]  # fmt: skip


def _overlap(a: SentenceInfo, b: SentenceInfo) -> float:
    items = _salient(a)
    if len(items) < 2:
        return 0.0
    hit = 0
    for t in items:
        forms = word_forms(t.text, None)
        if forms & b.terms or (t.text.isalpha() and b.has_key(cognate_key(t.text))):
            hit += 1
    return hit / len(items)


def _people(s: SentenceInfo, common: frozenset[str] = frozenset()) -> list[list[Token]]:
    """Runs of two or more adjacent capitalised words that look like a person's name.

    Words of institutions, places of government and roles ("Republic", "Ministry", "Minister")
    break a run, and so do words the document also writes in lower case (common nouns:
    "Art Exhibition") and anything between the words ("of", a comma).
    """
    runs: list[list[Token]] = []
    cur: list[Token] = []
    prev_end = -1
    for i, t in enumerate(s.toks):
        good = (
            bool(_CAP.match(t.text))
            and len(t.text) >= 3
            and not t.text.isupper()
            and not t.lower.startswith(_NOT_PERSON + ORG_STEMS + _ROLE_STEMS)
            and month_number(t.text) is None
            and not (i == 0 and t.lower in STOPWORDS)
            and _stem_key(t.text) not in common
        )
        adjacent = cur and not s.text[prev_end - s.start : t.start - s.start].strip()
        if good and (not cur or adjacent):
            cur.append(t)
        else:
            if len(cur) >= 2:
                runs.append(cur)
            cur = [t] if good else []
        prev_end = t.end
    if len(cur) >= 2:
        runs.append(cur)
    return runs


_MAX_SENTENCES = 200
"""Longer documents are scored only around their retrieved passages."""


def _view(info: DocSentences, cand: Candidate) -> list[SentenceInfo]:
    """The sentences of a document to score: all of them, or for a long document those in and
    next to its retrieved passages (and its opening)."""
    if len(info.sentences) <= _MAX_SENTENCES:
        return info.sentences
    keep: set[int] = set(range(3))
    for start, end, _ in cand.passage_spans:
        hit = [i for i, x in enumerate(info.sentences) if x.end > start and x.start < end]
        if hit:
            keep.update(range(max(0, hit[0] - 2), min(len(info.sentences), hit[-1] + 3)))
    if len(keep) <= 3:
        keep.update(range(min(len(info.sentences), _MAX_SENTENCES)))
    return [info.sentences[i] for i in sorted(keep)]


def _neighbours(i: int, sentences: list[SentenceInfo]) -> list[int]:
    """The sentences next to sentence ``i`` whose value it may borrow: the next one, and the
    previous one when that is the document's short dateline ("MOSCOW, 14 May 2024.")."""
    out = []
    if i + 1 < len(sentences) and sentences[i + 1].index == sentences[i].index + 1:
        out.append(i + 1)
    first = sentences[0]
    if i == 1 and first.index == 0 and len(first.toks) <= 8 and first.dates:
        out.append(0)
    return out


VALUE_SLOTS = frozenset({Slot.DATE, Slot.EXACT_DATE, Slot.COUNT, Slot.MONEY, Slot.PERCENT,
                         Slot.MEASURE, Slot.DURATION})  # fmt: skip
"""Kinds of answer that are a value (a date, a number) rather than a name."""


_ITEM_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bи\b|\bжәне\b|\bмен\b|\bа также\b)\s*")


def _enumeration(text: str) -> list[str]:
    """The items of a list written in a sentence ("in acting, stage speech, choreography and
    theatre management"): three or more short items, else nothing."""
    if text.count(",") < 2:
        return []
    items = [i.strip() for i in _ITEM_SPLIT.split(text.rstrip(".;:")) if i and i.strip()]
    short = [i for i in items[1:] if 0 < len(i.split()) <= 4]
    if len(short) < 3:
        return []
    return [i.lower() for i in short]


def _phrases_found(phrases: list[list[int]], units: list[list[float] | None]) -> float:
    """Share of the question's multi-word names found whole in one of the units."""
    if not phrases:
        return 0.0
    found = 0
    for ph in phrases:
        if any(u is not None and all(u[j] >= 0.7 for j in ph) for u in units):
            found += 1
    return found / len(phrases)


def _generic(word: str) -> bool:
    """A capitalised word of titles and institutions ("Republic", "Ministry"), not a name."""
    return word.lower().startswith(_NOT_PERSON)


def _refers_back(s: SentenceInfo, before: SentenceInfo) -> bool:
    """True when a sentence opens by pointing back to the one before: with a pronoun ("It",
    "Они", "Ол") or with a word of it ("... the opening ceremony ... . The ceremony took place
    at ...")."""
    if not s.toks:
        return False
    if s.toks[0].lower in ANAPHORA:
        return True
    head = [t for t in s.toks[:3] if t.lower not in STOPWORDS][:1]
    return bool(head) and bool(word_forms(head[0].text, None) & before.terms)


def _consistent(s: SentenceInfo, other: SentenceInfo, fillers: frozenset[str]) -> bool:
    """A neighbour's date may not be borrowed when the sentence dates itself to another year."""
    own = {d.year for d in s.dates if d.year}
    if not own:
        return True
    years = {int(f[:4]) for f in fillers if f[:4].isdigit()}
    return not years or bool(years & own)


def _missing(
    terms: list[QTerm],
    weights: list[float],
    found: list[float],
    total: float,
    known: list[bool] | None = None,
) -> float:
    """Weighted share of the question's names and numbers that a document lacks.

    Of names joined by "and"/"or", the best-found one stands for all of them. With ``known``
    (for a document in another language than the question), a name that no document of the
    index spells as the question does is not held against it: it is probably translated
    ("Венецианской" ~ "Venice").
    """
    if total <= 0:
        return 0.0
    best: dict[int, float] = {}
    for t, m in zip(terms, found, strict=True):
        if t.alt >= 0:
            best[t.alt] = max(best.get(t.alt, 0.0), m)
    lost = 0.0
    for j, (t, w, m) in enumerate(zip(terms, weights, found, strict=True)):
        if not (t.is_name or t.is_number):
            continue
        if known is not None and not known[j]:
            total -= w
            continue
        present = best.get(t.alt, m) if t.alt >= 0 else m
        if present < 0.45:
            lost += w
    return lost / total if total > 0 else 0.0


def _role_modifiers(q: Question) -> list[QTerm]:
    """The question's words next to its role noun ("Serbian" in "Which Serbian minister")."""
    at = {t.pos for t in q.role}
    return [t for t in q.terms if t not in q.role and t.pos >= 0
            and any(0 < abs(t.pos - p) <= 2 for p in at)]  # fmt: skip


def _positions(terms: list[QTerm], s: SentenceInfo) -> list[int]:
    """Indices of the sentence's tokens that match any of the terms (by form or cognate)."""
    out = []
    for k, tok in enumerate(s.toks):
        forms = word_forms(tok.text, None)
        key = cognate_key(tok.text)
        group = synonym_group(tok.text)
        for t in terms:
            if (forms & t.forms or (key and t.key and cognate_match(key, t.key))
                    or (group >= 0 and group == t.group)):  # fmt: skip
                out.append(k)
                break
    return out


_SIM_FLOOR = 0.30
"""Static word-vector similarity below which two words count as unrelated (99% of random
English-Russian/Kazakh pairs score below it)."""
_SIM_SPAN = 0.25


class EvidenceScorer:
    """Score every sentence of candidate documents against a question.

    Args:
        df: Document frequency of an index term (in chunks).
        n_docs: Number of chunks in the index (for IDF).
        word_vectors: Optional ``words -> L2-normalised vectors`` used as a rough cross-lingual
            dictionary for question words that no sentence word matches by form.
    """

    def __init__(
        self,
        df: Callable[[str], int],
        n_docs: int,
        word_vectors: Callable[[list[str]], npt.NDArray[np.float32]] | None = None,
    ) -> None:
        self._df = df
        self._n = max(1, n_docs)
        self._vectors = word_vectors
        self._idf: dict[str, float] = {}
        self._dfs: dict[str, int] = {}

    # -- documents ---------------------------------------------------------------------------
    def idf(self, forms: frozenset[str]) -> float:
        """IDF of a word given its forms (the commonest form counts, so inflection does not)."""
        best = math.inf
        for f in forms:
            v = self._idf.get(f)
            if v is None:
                d = self._doc_freq(f)
                v = math.log(1 + (self._n - d + 0.5) / (d + 0.5))
                self._idf[f] = v
            best = min(best, v)
        return 0.0 if best == math.inf else best

    def _doc_freq(self, form: str) -> int:
        d = self._dfs.get(form)
        if d is None:
            d = self._dfs[form] = self._df(form)
        return d

    # -- matching ----------------------------------------------------------------------------
    @staticmethod
    def match(t: QTerm, s: SentenceInfo) -> float:
        """How well a sentence holds a question term: 1 by form, 0.8 as a cognate, else 0."""
        if t.forms & s.terms:
            return 1.0
        if t.group >= 0 and t.group in s.groups:
            return 0.9
        if t.key and s.has_key(t.key):
            return 0.8
        return 0.0

    def score(
        self, q: Question, cands: list[Candidate], *, allow_doc_date: bool = False
    ) -> list[Evidence]:
        """Every sentence of the candidates, scored, best first, with ``supported`` decided.

        The question's names and numbers say which document (they count in the sentence's
        neighbourhood and in the whole document); its other content words say which sentence.

        Args:
            q: The analysed question.
            cands: Candidate documents with their analysed sentences (``info`` set).
            allow_doc_date: A "when" question may be answered by the document's own date (for
                follow-ups whose subject comes from the conversation).

        Returns:
            Evidence for every sentence, best first.
        """
        terms = q.terms
        weights = [
            self.idf(t.forms) * (1.6 if t.is_name or t.is_number else 0.3 if t.light else 1.0)
            for t in terms
        ]
        is_name = [t.is_name or t.is_number for t in terms]
        w_all = sum(weights) or 1.0
        w_names = sum(w for w, n in zip(weights, is_name, strict=True) if n)
        w_content = w_all - w_names
        q_forms = q.content_forms
        q_keys = [t.key for t in terms if t.key]
        known = [any(self._doc_freq(f) > 0 for f in t.forms) for t in terms]
        focus_idx = self._focus_index(q)

        def share(row: list[float], names: bool) -> float:
            total = w_names if names else w_content
            if total <= 0:
                return -1.0
            got = sum(w * m for w, m, n in zip(weights, row, is_name, strict=True) if n == names)
            return got / total

        out: list[Evidence] = []
        for cand in cands:
            info = cand.info
            if info is None or not info.sentences:
                continue
            view = _view(info, cand)
            sents = view + ([info.title] if info.title is not None else [])
            rows = [[self.match(t, s) for t in terms] for s in sents]
            self._cross_lingual(q, terms, sents, info.lang, rows)
            title = rows.pop() if info.title is not None else [0.0] * len(terms)
            doc_row = [
                max(max(r[j] for r in rows), title[j], float(bool(t.forms & info.terms)))
                for j, t in enumerate(terms)
            ]
            doc_cov = sum(w * m for w, m in zip(weights, doc_row, strict=True)) / w_all
            missing = _missing(terms, weights, doc_row, w_names,
                               known if info.lang != q.lang else None)  # fmt: skip
            year_ok = not q.years or bool(q.years & info.years)
            named = _phrases_found(q.phrases, [*rows, title])  # whole names: which document
            doc_year = int(info.date[:4]) if info.date else None
            slots = [
                self._slot(q, s, q_forms, q_keys, doc_year, info, allow_doc_date) for s in view
            ]
            for i, s in enumerate(view):
                row = rows[i]
                prev = rows[i - 1] if i > 0 else None
                nxt = rows[i + 1] if i + 1 < len(rows) else None
                win_row = []
                for j in range(len(terms)):
                    m = max(row[j], 0.5 * title[j])
                    if prev is not None:
                        m = max(m, 0.7 * prev[j])
                    if nxt is not None:
                        m = max(m, 0.5 * nxt[j])
                    win_row.append(m)
                c_sent, c_win = share(row, False), share(win_row, False)
                n_sent, n_win = share(row, True), share(win_row, True)
                if c_sent < 0:  # the question has only names
                    c_sent, c_win = n_sent, n_win
                if n_sent < 0:
                    n_sent, n_win = c_sent, c_win
                variants: list[tuple[bool, frozenset[str], float, int, int, float]] = []
                ok, fillers, role_phrase = slots[i]
                variants.append((ok, fillers, role_phrase, s.start, s.end, 1.0))
                if not ok:  # the asked-for value may sit in a neighbour that cannot stand alone
                    variants = []
                    for k in _neighbours(i, view):
                        other = view[k]
                        if not slots[k][0] or not _consistent(s, other, slots[k][1]):
                            continue
                        if max(share(rows[k], False), share(rows[k], True)) >= 0.2:
                            continue
                        if q.slot not in VALUE_SLOTS and not _refers_back(other, s):
                            continue  # a name is borrowed only from "It was signed by ..."
                        bonus = 0.9 + (0.05 if k == 0 and i == 1 else 0.0)
                        variants.append((True, slots[k][1], 0.0, min(s.start, other.start),
                                         max(s.end, other.end), bonus))  # fmt: skip
                    if not variants:
                        variants.append((False, frozenset(), 0.0, s.start, s.end, 1.0))
                variants = [
                    v for v in variants
                    if not (v[0] and v[1] and all(f.startswith("doc:") for f in v[1])
                            and c_sent < 0.4)
                ] or [(False, frozenset(), 0.0, s.start, s.end, 1.0)]  # fmt: skip
                focus_ok, phrase = self._focus(q, focus_idx, row, prev, s)
                focus_here = bool(focus_idx) and any(row[j] >= 0.7 for j in focus_idx)

                date_fit = self._date_fit(q, s, info)
                prior = self._prior(cand, s)
                base = (
                    0.40 * c_sent + 0.15 * c_win + 0.05 * n_sent + 0.10 * n_win + 0.10 * doc_cov
                    + 0.05 * float(focus_ok) + 0.10 * phrase + 0.15 * named + 0.10 * prior
                    + 0.20 * date_fit
                    - 0.30 * missing - 0.004 * max(0, len(s.toks) - 30)
                )  # fmt: skip
                for ok, fillers, role_phrase, start, end, slot_w in variants:
                    restated = share(prev, False) if prev is not None and ok else 0.0
                    ranged = q.wants_range and any(
                        d.is_range for x in view if start <= x.start < end
                        for d in x.dates
                    )  # fmt: skip
                    many = min(1.0, len(fillers) / 8) if q.is_list else 0.0
                    score = (
                        base + 0.20 * slot_w * float(ok) + 0.25 * role_phrase
                        + 0.15 * max(0.0, restated) + 0.10 * float(ranged) + 0.15 * many
                    )  # fmt: skip
                    e = Evidence(
                        cand, s, start, end, c_sent, c_win, n_sent, n_win, doc_cov, missing, ok,
                        focus_ok, focus_here, year_ok, date_fit, prior, fillers, score,
                    )  # fmt: skip
                    e.supported = self._supported(q, e)
                    out.append(e)
        out.sort(key=lambda e: -e.score)
        return out

    def _cross_lingual(
        self,
        q: Question,
        terms: list[QTerm],
        sentences: list[SentenceInfo],
        lang: str | None,
        rows: list[list[float]],
    ) -> None:
        """Fill in question words that no word of a foreign-language document matches by form.

        Word vectors serve as a rough dictionary ("budget" ~ "бюджет", "level" ~ "деңгейінде");
        only a clear similarity counts, and never as much as a match by form.
        """
        if self._vectors is None or lang == q.lang or not terms:
            return
        missing = [j for j, t in enumerate(terms) if not t.is_number and t.word.isalpha()
                   and len(t.word) > 2 and max(r[j] for r in rows) < 0.8]  # fmt: skip
        if not missing:
            return
        words = sorted({w for s in sentences for w in s.words if len(w) > 2})
        if not words:
            return
        qv = self._vectors([terms[j].word.lower() for j in missing])
        wv = self._vectors(words)
        sims = qv @ wv.T
        pos = {w: k for k, w in enumerate(words)}
        for i, s in enumerate(sentences):
            cols = [pos[w] for w in s.words if w in pos]
            if not cols:
                continue
            best = sims[:, cols].max(axis=1)
            for a, j in enumerate(missing):
                m = 0.7 * min(1.0, max(0.0, (float(best[a]) - _SIM_FLOOR) / _SIM_SPAN))
                if m > rows[i][j]:
                    rows[i][j] = m

    # -- the kind of answer -----------------------------------------------------------------
    def _slot(
        self,
        q: Question,
        s: SentenceInfo,
        q_forms: frozenset[str],
        q_keys: list[str],
        doc_year: int | None,
        info: DocSentences,
        allow_doc_date: bool,
    ) -> tuple[bool, frozenset[str], float]:
        """Whether the sentence holds the kind of answer asked for, and which values.

        Returns:
            ``(ok, fillers, phrase)``: the candidate answers found (names, dates, amounts, in a
            comparable form), and for a role question ("Which Serbian minister") the share of
            the role's own words standing next to the role in the sentence.
        """
        slot = q.slot
        phrase = 0.0
        if slot is Slot.ANY:
            return True, frozenset(), phrase

        def is_new(word: str) -> bool:
            forms = word_forms(word, info.lang)
            if forms & q_forms:
                return False
            k = cognate_key(word)
            return not (k and any(cognate_match(k, qk) for qk in q_keys))

        if slot in {Slot.DATE, Slot.EXACT_DATE}:
            vals = set()
            for d in s.dates:
                if d.relative or (slot is Slot.EXACT_DATE and (d.day is None or d.month is None)):
                    continue
                if slot is Slot.DATE and d.month is None and (d.year in q.years or d.year is None):
                    continue
                if q.years and d.year is not None and d.year not in q.years:
                    continue
                vals.add(f"{d.year}-{d.month}-{d.day}")
            if not vals and allow_doc_date and slot is Slot.DATE and info.date:
                vals.add(f"doc:{info.date}")  # the report's own date
            return bool(vals), frozenset(vals), phrase
        kinds = {
            Slot.COUNT: {"count"}, Slot.MONEY: {"money"}, Slot.PERCENT: {"percent"},
            Slot.MEASURE: {"measure"}, Slot.DURATION: {"duration"},
        }  # fmt: skip
        if slot in kinds:
            vals = set()
            for a in s.amounts:
                if a.kind not in kinds[slot]:
                    continue
                value = s.text[a.start - s.start : a.end - s.start].lower()
                if word_forms(value.split()[0], None) & q_forms:
                    continue
                vals.add(re.sub(r"\s+", "", value))
            return bool(vals), frozenset(vals), phrase
        fillers: set[str] = set()
        if slot in {Slot.PERSON, Slot.AGENT}:
            # a role asked for ("which minister") must stand by the person; a list of people
            # ("which artists") may be named anywhere in a document about the role
            need_role = slot is Slot.PERSON and q.role and not q.is_list
            role_at = _positions(q.role, s) if need_role else None
            mods = _role_modifiers(q) if role_at is not None else []
            for run in _people(s, info.common):
                if not any(is_new(t.text) for t in run):
                    continue
                if role_at is not None:
                    first, last = s.toks.index(run[0]), s.toks.index(run[-1])
                    near = [k for k in role_at if first - 12 <= k < first or last < k <= last + 4]
                    if not near:
                        continue
                    if mods:  # "Serbian minister": the role's own words stand by the role
                        at = [_positions([t], s) for t in mods]
                        for k in near:
                            hits = sum(1 for ps in at if any(abs(j - k) <= 3 for j in ps))
                            phrase = max(phrase, hits / len(mods))
                fillers.update(cognate_key(t.text) or t.lower for t in run)
            if slot is Slot.AGENT:
                for n in s.names:
                    if n.is_org and not n.quoted:
                        new = [w for w in n.words if w[:1].isupper() and is_new(w)]
                        fillers.update(cognate_key(w) or w.lower() for w in new)
            return bool(fillers), frozenset(fillers), phrase
        if q.is_list and slot is not Slot.PLACE:
            fillers.update(_enumeration(s.text))  # "acting, stage speech, choreography and ..."
        people = (  # a person is not a place
            {t.text for run in _people(s, info.common) for t in run}
            if slot is Slot.PLACE
            else set()
        )
        org_only = any(t.word.lower().startswith(ORG_STEMS) for t in q.focus)
        focus_at = _positions(q.focus, s) if org_only else []
        starts = {t.start: k for k, t in enumerate(s.toks)}
        ends = {t.end: k for k, t in enumerate(s.toks)}
        for n in s.names:
            if org_only and not n.is_org:
                # "which institution", "в каком музее": the name of one, or a name the asked-for
                # noun stands next to ("the ensemble HasSak", "Balapan TV channels")
                lo, hi = starts.get(n.start, -99), ends.get(n.end, -99)
                if not any(lo - 3 <= k < lo or hi < k <= hi + 2 for k in focus_at):
                    continue
            new = [
                w for w in n.words
                if w[:1].isupper() and is_new(w)
                and (n.quoted or (not _generic(w) and w not in people))
            ]  # fmt: skip
            fillers.update(cognate_key(w) or w.lower() for w in new)
        return bool(fillers), frozenset(fillers), phrase

    @staticmethod
    def _focus_index(q: Question) -> list[int]:
        index = {id(t): j for j, t in enumerate(q.terms)}
        focus = q.role if q.slot is Slot.PERSON and q.role else q.focus
        return [index[id(t)] for t in focus if id(t) in index]

    def _focus(
        self,
        q: Question,
        focus: list[int],
        row: list[float],
        prev: list[float] | None,
        s: SentenceInfo,
    ) -> tuple[bool, float]:
        """Whether the noun the slot is about is there (a gate where required), and a bonus.

        Returns:
            ``(ok, phrase)``: ``ok`` is False only where the kind of answer needs its noun (how
            many *visitors*; which *director*; who *won the prize*) and it is missing;
            ``phrase`` is 1.0 when all the question's focus words stand close together.
        """
        if not focus:
            return True, 0.0
        here = [j for j in focus if row[j] >= 0.7]
        phrase = 0.0
        if len(focus) >= 2 and len(here) == len(focus):
            pos = []
            for j in focus:
                t = q.terms[j]
                at = [k for k, tok in enumerate(s.toks) if word_forms(tok.text, None) & t.forms
                      or (t.key and cognate_match(t.key, cognate_key(tok.text)))]  # fmt: skip
                if at:
                    pos.append(at[0])
            if len(pos) == len(focus) and max(pos) - min(pos) <= 4:
                phrase = 1.0
        elif len(here) == len(focus):
            phrase = 0.5
        if q.slot is Slot.PERSON and q.is_list:
            return True, phrase  # "which artists": a list of names, the role said elsewhere
        if q.slot in {Slot.COUNT, Slot.PERSON}:
            return bool(here), phrase
        if q.slot is Slot.AGENT:  # only nouns of a known kind gate ("prize", "director")
            gating = [j for j in focus if q.terms[j].group >= 0]
            if not gating:
                return True, phrase
            return any(
                row[j] >= 0.7 or (prev is not None and prev[j] >= 0.7) for j in gating
            ), phrase
        return True, phrase

    @staticmethod
    def _date_fit(q: Question, s: SentenceInfo, info: DocSentences) -> float:
        if not q.years and not q.months:
            return 0.0
        fit = 0.0
        doc_y = int(info.date[:4]) if info.date else None
        doc_m = int(info.date[5:7]) if info.date else None
        if q.years:
            if doc_y in q.years:
                fit += 0.6
            if any(d.year in q.years and d.year_given for d in s.dates):
                fit += 0.4
            elif doc_y not in q.years:
                fit -= 0.5  # another year's document, and the sentence does not say the year
            if not (q.years & info.years):
                fit -= 1.0
        for y, m in q.months:
            if (y is None or y == doc_y) and m == doc_m:
                fit += 0.3
            if any(d.month == m and (y is None or d.year == y) for d in s.dates):
                fit += 0.3
        return max(-1.0, min(1.0, fit))

    @staticmethod
    def _prior(cand: Candidate, s: SentenceInfo) -> float:
        best = 0.0
        for start, end, score in cand.passage_spans:
            if start <= s.start and s.end <= end + 1:
                best = max(best, score)
        return 0.5 * best + 0.5 / (1 + 0.5 * cand.rank)

    @staticmethod
    def _supported(q: Question, e: Evidence) -> bool:
        if not any(not t.light for t in q.terms):
            return False  # the question names nothing to look for ("When was it?" alone)
        if not (e.slot_ok and e.focus_ok and e.year_ok):
            return False
        if e.names_missing > (0.25 if e.cand.lang == q.lang else 0.6):
            return False  # names rarely transliterate across languages ("Venice", "Венеция")
        if q.slot is Slot.ANY:
            if e.cand.lang != q.lang:  # translated content words match poorly; names do not
                return e.window >= 0.35 and (e.content >= 0.3 or e.names >= 0.5)
            return e.content_window >= 0.5 and e.content >= 0.3
        if e.window >= 0.3 and (e.content_window >= 0.3 or e.names >= 0.5):
            return True
        if e.cand.lang != q.lang and e.names >= 0.5 and e.window >= 0.25:
            return True  # across languages, names and numbers carry more of the match
        # the asked-for value next to its noun ("75 people") in a document about the question
        need = 0.6 if e.cand.lang == q.lang else 0.5
        return bool(q.focus) and e.focus_here and e.content >= 0.2 and e.doc_cov >= need
