"""The quote check: a written answer may say only what the sentences it cites say.

A language model writes an answer from numbered evidence sentences (the extractive answer's
citations). Before anything is shown, :func:`check` holds the written text against them:

- the text is split into sentences; a sentence that cites nothing (no ``[n]``) is dropped;
- every ``[n]`` must name one of the provided sentences, or the whole answer fails;
- every number, date and proper name in a kept sentence must appear in a sentence it cites
  (or, for the parts of a date, in the cited document's date): numbers by value ("10 000" =
  "10,000" = "10 тысяч" = "10 thousand"), months by number in any of the three languages,
  names across scripts and inflections ("Lyubimova" ~ "Любимовой", "Zhurgenov" ~ "Жүргенов",
  "GITIS" ~ "ГИТИС") through :func:`cognate_key`, the same loose
  script-independent key the reader uses;
- the model's fixed reply :data:`NOT_IN_DOCUMENTS` is recognised and reported as such.

The check is deliberately one-sided: it cannot prove a written sentence true, but a name, number
or date the quotes do not contain never gets through. Everything else a reader checks against
the verbatim quotes, which are always shown. Its errors are false alarms, never false passes: a
capitalised common word translated from another language ("Отырысты" for a Russian quote's
"Заседание", "State" for "государственный") counts as a name the quotes lack, unless the
question uses it as a common word, and the quotes are shown instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from askculture.answering import Citation
from askculture.answering.text import month_number
from askculture.lexical import STOPWORDS, skeleton

NOT_IN_DOCUMENTS = "NOT IN THE DOCUMENTS"
"""What the model is told to reply, exactly, when the sentences do not answer the question."""
MAX_SENTENCES = 3
"""Cited sentences kept at most (the model is asked for no more)."""

_MARKS = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”)]*((?:\s*\[\s*\d[\d\s,;–-]*\])*)(?=\s|$)")
_LIST_MARK = re.compile(r"^[ \t]*(?:[-*•–—]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)|^#+\s*", re.MULTILINE)
_ECHO = re.compile(
    r"\n\s*(?:\[\d+\]\s*\((?:\d{4}-\d\d-\d\d|undated)\)|Sentences:|Question:|Answer in )"
)
"""Where a model starts repeating the prompt (a numbered, dated sentence; "Question:"): the
answer ends there."""
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_NUMBER = re.compile(r"(?<![\d.,])\d+(?:(?:[.,]|[ \u00a0\u202f\u2009](?=\d{3}(?!\d)))\d+)*")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DMY_DATE = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)")
_MAGNITUDE = {
    "thousand": 3, "thousands": 3, "тыс": 3, "тысяч": 3, "тысячи": 3, "тысяча": 3,
    "тысячу": 3, "мың": 3, "million": 6, "millions": 6, "mln": 6, "млн": 6, "миллион": 6,
    "миллиона": 6, "миллионов": 6, "billion": 9, "billions": 9, "bn": 9, "млрд": 9,
    "миллиард": 9, "миллиарда": 9, "миллиардов": 9, "trillion": 12, "трлн": 12,
}  # fmt: skip
_COUNT_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "hundred": 100,
    "два": 2, "две": 2, "двух": 2, "три": 3, "трех": 3, "четыре": 4, "четырех": 4, "пять": 5,
    "пяти": 5, "шесть": 6, "шести": 6, "семь": 7, "семи": 7, "восемь": 8, "восьми": 8,
    "девять": 9, "девяти": 9, "десять": 10, "десяти": 10, "сто": 100,
    "екі": 2, "үш": 3, "төрт": 4, "бес": 5, "алты": 6, "жеті": 7, "сегіз": 8, "тоғыз": 9,
    "жүз": 100,
}  # fmt: skip
"""Number words a written sentence may use for a figure (not "one": it is mostly an article)."""
_OPENERS = frozenset(
    """according although however both yes also there here thus therefore meanwhile besides
    furthermore moreover so then today yesterday согласно однако оба также там здесь итак
    сегодня вчера сондай-ақ алайда бүгін кеше""".split()
)
"""Words that open a sentence with a capital without being names."""
_SURNAME = re.compile(
    r"(?:[oe]v|[oe]va|in|ina|sk[iy]y?|skaya|enko|uly|kyzy|[oe]vich|[oe]vna|"
    r"[оеё]в|ин|ск|енко|ұлы|қызы|[ое]вич|[ое]вна)(?:а|ой|у|ым|ого|ому|ий|ая|ую|ы)?$"
)
"""Endings of surnames (Lyubimova, Balayeva, Putin, Жүргенов, Любимовой, Оралұлы)."""
_EXONYMS = (
    ("russia", "russian", "россия", "российский", "ресей", "русский"),
    ("moscow", "москва", "мәскеу"),
    ("china", "chinese", "китай", "китайский", "қытай"),
    ("beijing", "пекин", "бейжің"),
    ("turkey", "türkiye", "turkish", "турция", "турецкий", "түркия"),
    ("germany", "german", "германия", "немецкий", "германия"),
    ("hungary", "hungarian", "венгрия", "венгерский", "венгрия", "мажарстан"),
    ("georgia", "georgian", "грузия", "грузинский", "грузия"),
)
"""Place names whose en/ru/kk forms are not transliterations of one another."""


@dataclass(frozen=True, slots=True)
class GateResult:
    """What the quote check made of a written answer.

    Attributes:
        passed: True when at least one cited sentence survived and nothing failed.
        text: The kept sentences (uncited ones dropped), ``[n]`` markers normalised.
        reason: Why it failed, one line (None when it passed).
        dropped: Sentences dropped for citing nothing (or beyond :data:`MAX_SENTENCES`).
        not_in_documents: The model gave the fixed "not in the documents" reply.
    """

    passed: bool
    text: str
    reason: str | None = None
    dropped: tuple[str, ...] = field(default_factory=tuple)
    not_in_documents: bool = False


def check(written: str, citations: Sequence[Citation], question: str = "") -> GateResult:
    """Hold a written answer against the numbered sentences it was written from.

    Args:
        written: The model's text, with ``[n]`` markers.
        citations: The evidence sentences, numbered by ``Citation.n``.
        question: The question; a word it uses but not as a name is a common word, even when
            capitalised in the answer ("Мәдениет министрі ..." for "... мәдениет министрі?").

    Returns:
        The verdict, with the text to show when it passed.
    """
    clean = _ECHO.split(_EMPHASIS.sub("", _LIST_MARK.sub("", written)), maxsplit=1)[0].strip()
    if _says_not_in_documents(clean):
        return GateResult(False, "", "the model replied that the quotes do not answer", (), True)
    if not clean:
        return GateResult(False, "", "the model wrote nothing")
    by_n = {c.n: c for c in citations}
    proper = set(names(question))
    common = {_key(w) for w in _WORD.findall(question) if w not in proper}
    kept: list[str] = []
    dropped: list[str] = []
    for sentence in split_written(clean):
        cited = cited_numbers(sentence)
        unknown = [n for n in cited if n not in by_n]
        if unknown:
            return GateResult(False, "", f"it cites [{unknown[0]}], which is not a quoted sentence")
        if not cited or len(kept) >= MAX_SENTENCES:
            dropped.append(sentence)
            continue
        problem = unsupported(sentence, [by_n[n] for n in cited], common)
        if problem:
            marks = "".join(f"[{n}]" for n in cited)
            return GateResult(False, "", f"it gives {problem}, which the quotes it cites "
                              f"({marks}) do not contain")  # fmt: skip
        kept.append(_normalise_marks(sentence))
    if not kept:
        return GateResult(False, "", "no sentence of it cites a quote", tuple(dropped))
    return GateResult(True, " ".join(kept), None, tuple(dropped))


def _says_not_in_documents(text: str) -> bool:
    flat = " ".join(re.sub(r"[^\w\s]", " ", text).split()).casefold()
    return NOT_IN_DOCUMENTS.casefold() in flat


def split_written(text: str) -> list[str]:
    """Sentences of a written answer; ``[n]`` markers after the full stop stay with their sentence.

    A line break ends a sentence too (a line of markers alone belongs to the sentence before).
    A full stop after a single letter (an initial: "O. Lyubimova") or before a lower-case word
    does not end a sentence.
    """
    out: list[str] = []
    for line in text.splitlines():
        if out and line.strip() and not _MARKS.sub("", line).strip():
            out[-1] += " " + line.strip()
            continue
        cut = 0
        for m in _SENTENCE_END.finditer(line):
            before = line[cut : m.start()].rsplit(None, 1)
            last = before[-1] if before else ""
            following = line[m.end() :].lstrip()
            if len(last) == 1 and last.isalpha() and line[m.start()] == ".":
                continue
            if following and following[0].islower():
                continue
            out.append(line[cut : m.end()])
            cut = m.end()
        out.append(line[cut:])
    return [s for s in (" ".join(x.split()) for x in out) if any(c.isalnum() for c in s)]


def cited_numbers(sentence: str) -> list[int]:
    """The sentence numbers a sentence cites, in order: ``[1][2]``, ``[1, 2]``, ``[1-3]``."""
    out: list[int] = []
    for m in _MARKS.finditer(sentence):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            ends = [int(x) for x in re.split(r"\s*[–-]\s*", part) if x]
            span = range(ends[0], ends[-1] + 1) if len(ends) == 2 and ends[0] < ends[1] else ends
            out.extend(n for n in span if n not in out)
    return out


def _normalise_marks(sentence: str) -> str:
    """``[1, 2]`` -> ``[1][2]``."""
    return _MARKS.sub(lambda m: "".join(f"[{n}]" for n in cited_numbers(m.group(0))), sentence)


def unsupported(
    sentence: str, cited: Sequence[Citation], common: frozenset[str] | set[str] = frozenset()
) -> str | None:
    """The first number, date part or name of ``sentence`` that ``cited`` does not hold.

    Args:
        sentence: One written sentence (its ``[n]`` markers are ignored).
        cited: The citations it cites.
        common: Keys (:func:`cognate_key`) of words known to be common
            words, not names, even when capitalised.

    Returns:
        A description such as ``'the name “Putin”'``, or None when everything is supported.
    """
    text = _MARKS.sub(" ", sentence)
    quotes = " ".join(c.quote for c in cited)
    values = number_values(quotes)
    months = months_in(quotes)
    for c in cited:  # the parts of the cited documents' dates
        if c.date:
            parts = [int(p) for p in re.findall(r"\d+", c.date)]
            values.update(str(p) for p in parts)
            if len(parts) > 1:
                months.add(parts[1])
    for value, shown in _numbers(text, written=True):
        if value not in values:
            return f"the number {shown}"
    for month, shown in _month_words(text):
        if month not in months:
            return f"the date “{shown}”"
    keys = {cognate_key(w) for w in _WORD.findall(quotes)} - {""}
    plain = {skeleton(w.lower()) for w in _WORD.findall(quotes)}
    for name in names(text):
        if _key(name) in common:
            continue
        if not _name_supported(name, keys, plain):
            return f"the name “{name}”"
    return None


def names(text: str) -> list[str]:
    """Words of a written sentence that may be proper names: capitalised or all capitals.

    A sentence's first word is capitalised anyway, so it counts only when it looks like a name:
    an acronym, the first of two capitalised words ("Vladimir Putin"), a word capitalised again
    later in the sentence, or a surname form ("Lyubimova", "Жүргенов"); function words, month
    names and number words never count (dates and numbers are checked as such).
    """
    found = list(_WORD.finditer(text))
    later = {m.group(0).lower() for m in found[1:] if m.group(0)[0].isupper()}
    out: list[str] = []
    for i, m in enumerate(found):
        word = m.group(0)
        if not word[0].isupper():
            continue
        low = word.lower().replace("ё", "е")
        if low in STOPWORDS or month_number(word) is not None or low in _COUNT_WORDS:
            continue
        if low in _MAGNITUDE or (i == 0 and low in _OPENERS):
            continue
        if i == 0 and not (
            word.isupper()
            or (len(found) > 1 and found[1].group(0)[0].isupper())
            or low in later
            or _SURNAME.search(low)
        ):
            continue
        out.append(word)
    return out


def _key(word: str) -> str:
    return cognate_key(word) or skeleton(word.lower())


def _name_supported(name: str, keys: set[str], plain: set[str]) -> bool:
    for part in re.split(r"[-'’]", name):
        if len(part) < 2:
            continue
        low = part.lower()
        key = cognate_key(low)
        if skeleton(low) in plain:
            continue
        if len(key) >= 4 and any(cognate_match(key, k) for k in keys):
            continue
        if _exonym_supported(low, plain):
            continue
        return False
    return True


def _exonym_supported(word: str, plain: set[str]) -> bool:
    sk = skeleton(word)
    for group in _EXONYMS:
        forms = [skeleton(f) for f in group]
        if any(sk.startswith(f[:5]) for f in forms):
            return any(p.startswith(f[:5]) for f in forms for p in plain)
    return False


def number_values(text: str) -> set[str]:
    """Every value a text's numbers can be read as (figures, number words, dates' parts)."""
    return {value for value, _ in _numbers(text, written=False)}


def months_in(text: str) -> set[int]:
    """Months a text names (by word in en/ru/kk, or inside a numeric date)."""
    months = {month for month, _ in _month_words(text)}
    for m in _ISO_DATE.finditer(text):
        months.add(int(m.group(2)))
    for m in _DMY_DATE.finditer(text):
        months.add(int(m.group(2)))
    return months


def _month_words(text: str) -> Iterable[tuple[int, str]]:
    for m in _WORD.finditer(text):
        word = m.group(0)
        if word.lower() == "may" and word[0] != "M":
            continue  # the verb
        month = month_number(word)
        if month is not None:
            yield month, word


def _numbers(text: str, *, written: bool) -> Iterable[tuple[str, str]]:
    """``(value, as written)`` for each number of ``text``.

    Numeric dates give their parts. A figure followed by a magnitude word ("10 тысяч") is its
    full value. A grouping that could be read two ways ("1,500", "12 150") gives both readings
    on the evidence side; a written figure is read the most likely way.
    """
    for rx, order in ((_ISO_DATE, (1, 2, 3)), (_DMY_DATE, (3, 2, 1))):
        for m in rx.finditer(text):
            for g in order:
                yield str(int(m.group(g))), m.group(0)
        text = rx.sub(" ", text)
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        after = _WORD.match(text, m.end() + (1 if text[m.end() : m.end() + 1] == " " else 0))
        exp = _MAGNITUDE.get(after.group(0).lower().rstrip(".")) if after else None
        readings = _readings(raw)
        if written:
            readings = readings[:1]
        for value in readings:
            yield _canonical(value * (10 ** (exp or 0))), raw
            if not written and " " in raw:
                for part in raw.split():
                    yield _canonical(Decimal(part)), raw
    for m in _WORD.finditer(text):
        value_word = _COUNT_WORDS.get(m.group(0).lower().replace("ё", "е"))
        if value_word is not None:
            yield str(value_word), m.group(0)


def _readings(raw: str) -> list[Decimal]:
    """The values a figure can mean, most likely first ("5,67" = 5.67; "1,500" = 1500 or 1.5)."""
    groups = re.split(r"[.,\s\u00a0\u202f\u2009]", raw)
    seps = re.findall(r"[.,\s\u00a0\u202f\u2009]", raw)
    out: list[Decimal] = []
    try:
        if not seps:
            return [Decimal(raw)]
        if all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3:
            out.append(Decimal("".join(groups)))
        if len(seps) == 1 and seps[0] in ".,":
            out.append(Decimal(f"{groups[0]}.{groups[1]}"))
        if not out:
            out = [Decimal(g) for g in groups]
    except InvalidOperation:  # pragma: no cover - the pattern only matches digits
        return []
    return out


def _canonical(value: Decimal) -> str:
    return format(value.normalize(), "f")


__all__ = [
    "MAX_SENTENCES",
    "NOT_IN_DOCUMENTS",
    "GateResult",
    "check",
    "cited_numbers",
    "months_in",
    "names",
    "number_values",
    "split_written",
    "unsupported",
]


# Names across scripts and inflections


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
