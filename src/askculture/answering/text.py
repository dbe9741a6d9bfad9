"""Sentences, words, dates, numbers and names in English, Russian and Kazakh text.

Everything here works on character offsets into the text it is given, so that what it finds
can be quoted verbatim. It knows nothing of questions or indexes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from askculture.lexical import STOPWORDS

# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+(?:[.,'’-][^\W_]+)*", re.UNICODE)
_CAPS = "A-ZА-ЯЁӘҒҚҢӨҰҮҺІ"  # capital letters of the three languages
_CAP = re.compile(rf"^[{_CAPS}]")
YEAR = re.compile(r"^(1[0-9]\d\d|20\d\d)$")


@dataclass(frozen=True, slots=True)
class Token:
    """One word or number of a text, with where it stands."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        """The word lower-cased (``ё`` written ``е``)."""
        return self.text.lower().replace("ё", "е")


def tokens(text: str, offset: int = 0) -> list[Token]:
    """Words and numbers of ``text`` with absolute offsets (``offset`` added)."""
    return [Token(m.group(0), m.start() + offset, m.end() + offset) for m in _TOKEN.finditer(text)]


QUESTION_WORDS = frozenset(
    """who whom whose what which when where why how many much кто кого кому кем ком что чем чего
    какой какая какое какие каких какую каким какими какого какому каком когда где куда откуда
    почему зачем как сколько ли кім кімге кімді кімнің кіммен кімдер не қай қандай қайсы қашан
    қайда қайдан неге қалай қанша неше ма ме ба бе па пе""".split()
)
"""Question words of the three languages (they say what is asked, not what it is about)."""

ANAPHORA = frozenset(
    """it its this that these those they them their he she his her him there then это этот эта
    эти этом этого этой тот та то те он она оно они его её ее их ему ей им там тогда ол бұл оны
    оның оған олар олардың сол онда мұны мұнда сонда осы""".split()
)
"""Words that point back to something said before."""

# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------

_LIST_MARK = re.compile(r"^[ \t]*(?:[-*•–—]|\d{1,2}[.)])[ \t]+")
_HEADING = re.compile(r"^[ \t]*(?:#{1,6}|={2,})[ \t]+")
_END = re.compile(r"[.!?…]+[\"'»”)\]]*(?=\s)")
_ABBREV = frozenset(
    """st mr mrs ms dr prof no vs etc jr sr inc ltd co gen gov approx fig г гг им ул т д ж жж см
    тыс млн млрд руб долл проф акад обл р кв м н в е т.е т.д т.п и.о др пр ст""".split()
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a document text: list items and headings are sentences of their own.

    Args:
        text: A document's text.

    Returns:
        ``(start, end)`` character spans, in order, stripped of surrounding whitespace and list
        markers, each holding at least one letter or digit.
    """
    spans: list[tuple[int, int]] = []
    for u0, u1 in _units(text):
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
        while e > s and text[e - 1] in "=#":  # "=== Heading ===" (wiki style)
            e -= 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and any(c.isalnum() for c in text[s:e]):
            out.append((s, e))
    return out


def _units(text: str) -> list[tuple[int, int]]:
    """Paragraphs, list items and headings of a text, as spans."""
    units: list[tuple[int, int]] = []
    pos = 0
    para: tuple[int, int] | None = None
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        body = text[start:end]
        mark = _LIST_MARK.match(body) or _HEADING.match(body)
        if not body.strip() or mark:
            if para is not None:
                units.append(para)
                para = None
            if mark:
                units.append((start + mark.end(), end))
            continue
        para = (para[0] if para else start, end)
    if para is not None:
        units.append(para)
    return units


# --------------------------------------------------------------------------------------------
# Dates and numbers
# --------------------------------------------------------------------------------------------

_EN_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_RU_MONTH_STEMS = (
    "январ",
    "феврал",
    "март",
    "апрел",
    "(май)",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
)
_KK_MONTHS = (
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
)
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_DMY = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_DIGITS = re.compile(r"^\d+(?:[.,]\d+)*%?$")
NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty
    forty fifty hundred thousand million billion dozen один одна два две три четыре пять шесть
    семь восемь девять десять двадцать тридцать сорок пятьдесят сто тысяча тысячи тысяч миллион
    миллиона миллионов миллиард миллиарда миллиардов бір екі үш төрт бес алты жеті сегіз тоғыз
    он жиырма отыз қырық елу жүз мың""".split()
)


@functools.lru_cache(maxsize=1 << 16)
def month_number(word: str) -> int | None:
    """The month (1-12) a word names in English, Russian or Kazakh (any case form), or None
    (remembered per word: every capitalised word of every candidate is asked)."""
    w = word.lower().strip(".")
    if w in _EN_MONTHS:
        return _EN_MONTHS.index(w) + 1
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


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a text found to be a date, a number or a name (absolute offsets)."""

    start: int
    end: int
    kind: str  # "date", "year", "number", "name"


def find_dates(toks: list[Token], text: str, offset: int) -> list[Span]:
    """Dates in a text: ISO and dotted dates, days with months, months with years, years.

    Args:
        toks: The text's tokens (absolute offsets).
        text: The text.
        offset: Absolute offset of ``text``.

    Returns:
        ``date`` spans (a day or month with its neighbours) and ``year`` spans, in order.
    """
    out: list[Span] = []
    for rx in (_ISO, _DMY):
        out += [Span(m.start() + offset, m.end() + offset, "date") for m in rx.finditer(text)]
    used: set[int] = {i for s in out for i in range(s.start, s.end)}
    for i, t in enumerate(toks):
        if t.start in used or not t.text.isalpha() or month_number(t.text) is None:
            continue
        if t.lower == "may" and t.text[0] != "M":
            continue
        start, end = t.start, t.end
        j = i - 1  # "23 August", "23–26 August", "с 23 по 26 августа"
        while j >= 0 and (
            (toks[j].text.isdigit() and int(toks[j].text) <= 31)
            or toks[j].lower in {"to", "по", "до", "and", "и"}
        ):
            start = toks[j].start if toks[j].text.isdigit() else start
            j -= 1
        k = i + 1  # "October 11, 2025", "August 2023", "маусымда 2024"
        while (
            k < len(toks)
            and k <= i + 2
            and toks[k].start - end <= 3
            and ((toks[k].text.isdigit() and int(toks[k].text) <= 31) or YEAR.match(toks[k].text))
        ):
            end = toks[k].end
            k += 1
        if j >= 0 and YEAR.match(toks[j].text) and t.start - toks[j].end <= 12:
            start = toks[j].start  # "2024 жылғы 20 маусымда"
        if (start, end) != (t.start, t.end):  # a bare month name is too weak ("march", "May")
            out.append(Span(start, end, "date"))
            used.update(range(start, end))
    for t in toks:
        if YEAR.match(t.text) and t.start not in used:
            out.append(Span(t.start, t.end, "year"))
    return sorted(out, key=lambda s: s.start)


def find_numbers(toks: list[Token], dates: list[Span]) -> list[Span]:
    """Numbers (digits, or number words) that are not part of a date, with what multiplies them
    ("5,67 million", "1 189", "75")."""
    in_date = {i for d in dates for i in range(d.start, d.end)}
    out: list[Span] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.start in in_date or not (_DIGITS.match(t.text) or t.lower in NUMBER_WORDS):
            i += 1
            continue
        j = i
        while (
            j + 1 < len(toks)
            and toks[j + 1].start - toks[j].end <= 1
            and (
                toks[j + 1].lower in NUMBER_WORDS
                or (
                    toks[j + 1].text.isdigit()
                    and len(toks[j + 1].text) == 3
                    and toks[j].text.isdigit()
                )
                or toks[j + 1].lower in {"млн", "млрд", "тыс", "mln", "bn", "%"}
            )
        ):
            j += 1
        out.append(Span(t.start, toks[j].end, "number"))
        i = j + 1
    return out


_DATELINE = re.compile(rf"^[{_CAPS}][{_CAPS} .\-]+(?:,[^—–\n]{{0,40}})?\s+[—–-]\s+")
_BARE_DATELINE = re.compile(rf"^[{_CAPS}][{_CAPS} \-’']*[{_CAPS}](?:,[^—–\n.]{{0,40}})?\.$")


def is_dateline(sentence: str) -> bool:
    """True for a news dateline that ends in a full stop and so was cut off as a sentence of its
    own: the place in capitals, perhaps a date ("МОСКВА.", "САНКТ-ПЕТЕРБУРГ, 17 ноября 2023
    года.", "АСТАНА, 2024 жылғы 13 мамыр.")."""
    return _BARE_DATELINE.match(sentence.strip()) is not None


def dateline_end(text: str) -> int:
    """Where a news dateline ("ASTANA, 16 January 2023 — ") that opens ``text`` ends (0 if
    there is none): the place and date of the report, not of what it reports."""
    m = _DATELINE.match(text)
    return m.end() if m else 0


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_CONNECT = frozenset(
    """of the de for in van von bin al имени им атындағы ұлы қызы uulu kyzy""".split()
)
"""Words that join the parts of one name ("Days of Culture"); "and" joins two names."""
_QUOTED = re.compile(r"[«\"“]([^«»\"“”\n]{2,120})[»\"”]")


def find_names(toks: list[Token], text: str, offset: int) -> list[Span]:
    """Proper names: runs of capitalised words (not just the first word of a sentence), all-caps
    acronyms, and quoted titles.

    Args:
        toks: The text's tokens (absolute offsets).
        text: The text.
        offset: Absolute offset of ``text``.

    Returns:
        ``name`` spans in order.
    """
    out = [Span(m.start() + offset, m.end() + offset, "name") for m in _QUOTED.finditer(text)]
    run: list[Token] = []

    def flush() -> None:
        while run and run[-1].lower in _CONNECT:
            run.pop()
        if run:
            out.append(Span(run[0].start, run[-1].end, "name"))
        run.clear()

    for i, t in enumerate(toks):
        if run and text[run[-1].end - offset : t.start - offset].strip(" -"):
            flush()  # punctuation between words ends a name
        if _CAP.match(t.text):
            if i == 0 and (
                t.lower in STOPWORDS
                or t.lower in QUESTION_WORDS
                or not (len(toks) > 1 and _CAP.match(toks[1].text))
            ):
                continue  # a capital that only starts the sentence
            if month_number(t.text) is not None:
                flush()
                continue
            run.append(t)
        elif run and t.lower in _CONNECT:
            run.append(t)
        else:
            flush()
    flush()
    return sorted(out, key=lambda s: s.start)
