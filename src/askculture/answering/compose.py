"""Chosen sentences → the answer a person reads: the short answer first, then the quotes.

::

    **Olga Lyubimova** [1]
    The meeting was co-chaired by Olga Lyubimova ... [1]
    Заседание провели ... (Russian) [2]
    Sources: [1] 2025-10-11; [2] 2025-10-11, Russian.

The short answer is cut verbatim out of the leading quote: a span of the kind the question asks
for (a name, a date, a number) that the question does not already say, the one nearest to the
question's words in that sentence; a name loses the words at its ends that the question says.
Where the Russian dictionary can tell (:mod:`askculture.answering.names`), a name of the kind
asked for comes before the others — a person's name for "who", a geographical one for "where" —
and a person's name loses the place names glued to it ("Казахстана Аида Балаева").

A chosen sentence that is only a news dateline ("САНКТ-ПЕТЕРБУРГ, 17 ноября 2023 года.") is
quoted with the sentence it opens: alone it says where and when, but not what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from askculture.answering import names
from askculture.answering.answer import Answer, Citation, make_citation
from askculture.answering.features import Candidate, kind_spans
from askculture.answering.question import Kind, Question
from askculture.answering.text import Span, Token, is_dateline, tokens
from askculture.lexical import tokenize
from askculture.retrieval import Passage

LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}
NO_ANSWER = "The indexed documents do not answer this question."
EMPTY_INDEX = "The index holds no documents yet."


@dataclass(frozen=True, slots=True)
class ShortAnswer:
    """A short answer: ``text`` is ``doc.text[start:end]`` of the candidate it comes from."""

    text: str
    start: int
    end: int


def short_answer(q: Question, c: Candidate) -> ShortAnswer | None:
    """The short answer the quote of ``c`` (:func:`quoted`) gives to ``q``, or None.

    Args:
        q: The question (its kind says what to look for).
        c: The leading sentence.

    Returns:
        The span of the asked-for kind that the question does not name — among names, those
        that fit the kind best (:func:`names.fit`) — nearest to the words the question and the
        sentence share; None when there is none (or the question asks for no particular kind).
    """
    qterms = set(q.terms)
    at, end = quoted(c)
    text = c.doc.text[at:end]

    def words(s: Span) -> list[Token]:
        return tokens(c.doc.text[s.start : s.end], s.start)

    def core(s: Span) -> Span:  # "Республики Казахстан Асхат Оралов" asked who: the person
        if s.kind != "name" or q.kind is not Kind.PERSON:
            return s
        ws = words(s)
        i, j = names.person_core([w.text for w in ws])
        return s if (i, j) == (0, len(ws)) else Span(ws[i].start, ws[j - 1].end, s.kind)

    spans = [
        s
        for s in map(core, with_initials(c.doc.text, kind_spans(text, at, q.kind)))
        if not set(tokenize(c.doc.text[s.start : s.end], c.doc.lang)) <= qterms
    ]
    if not spans:
        return None
    anchors = [t.start for t in tokens(text, at) if set(tokenize(t.text, c.doc.lang)) & qterms]

    def rank(s: Span) -> tuple[int, int, int]:
        fits = names.fit([w.text for w in words(s)], q.kind) if s.kind == "name" else 0
        return fits, min((abs(a - s.start) for a in anchors), default=0), s.start

    best = min(spans, key=rank)
    start, end = best.start, best.end
    if best.kind == "name":  # "Kazakhstan Kassym-Jomart Tokayev" asked about Kazakhstan
        ws = words(best)
        said = [
            len(w.text) > 1 and set(tokenize(w.text, c.doc.lang)) <= qterms for w in ws
        ]  # an initial is part of the name, never a word the question said
        kept = [w for w, s in zip(ws, said, strict=True) if not s]
        if kept and not any(said[ws.index(kept[0]) : ws.index(kept[-1]) + 1]):
            start, end = kept[0].start, kept[-1].end
    return ShortAnswer(c.doc.text[start:end], start, end)


def with_initials(text: str, spans: Sequence[Span]) -> list[Span]:
    """``spans`` with a name that ends in an initial joined to the name after it: "William E"
    and "Simon" become "William E. Simon", "Л", "С" and "Берг" become "Л.С.Берг"."""
    out: list[Span] = []
    for s in spans:
        last = out[-1] if out else None
        if (
            last is not None and last.kind == s.kind == "name"
            and text[last.end : s.start] in (".", ". ")
            and text[last.end - 1].isupper() and (last.end - last.start == 1
                                                  or not text[last.end - 2].isalpha())
        ):  # fmt: skip
            out[-1] = Span(last.start, s.end, "name")
        else:
            out.append(s)
    return out


def quoted(c: Candidate) -> tuple[int, int]:
    """The span of ``c``'s document quoted for it: its sentence, or, when that is a bare
    dateline, the dateline and the sentence it opens (the next one, on the same line)."""
    if is_dateline(c.text) and c.i + 1 < len(c.doc.spans):
        start, end = c.doc.spans[c.i + 1]
        if "\n" not in c.doc.text[c.end : start]:
            return c.start, end
    return c.start, c.end


def _overlaps_earlier(chosen: Sequence[Candidate], spans: list[tuple[int, int]], k: int) -> bool:
    """True when the ``k``-th quote overlaps an earlier one (a lead also quoted with its
    dateline)."""
    (s, e), doc = spans[k], chosen[k].doc.doc_id
    return any(chosen[j].doc.doc_id == doc and spans[j][0] < e and s < spans[j][1]
               for j in range(k))  # fmt: skip


def compose(
    question: str,
    query: str,
    q: Question,
    chosen: Sequence[Candidate],
    passages: list[Passage],
    parts: Sequence[Question] | None = None,
) -> Answer:
    """The cited answer quoting ``chosen`` (best first).

    Args:
        question: The question as asked.
        query: The question as searched for.
        q: The analysed question (its language marks foreign quotes).
        chosen: The sentences to quote, best first; at least one.
        passages: The retrieved passages (cited documents are moved first).
        parts: For a question in parts (one per year), the part each sentence answers: each
            gets its own short answer.

    Returns:
        The answer with verbatim citations, one per quoted sentence.
    """
    spans = [quoted(c) for c in chosen]
    kept = [k for k in range(len(chosen)) if not _overlaps_earlier(chosen, spans, k)]
    chosen, spans = [chosen[k] for k in kept], [spans[k] for k in kept]
    parts = [parts[k] for k in kept if k < len(parts)] if parts else None
    citations: list[Citation] = []
    lines: list[str] = []
    shorts = [short_answer(p, c) for p, c in zip(parts or [q], chosen, strict=False)]
    short = shorts[0]
    if any(shorts):
        lines.append(" · ".join(f"**{_one_line(s.text)}** [{n}]"
                                for n, s in enumerate(shorts, start=1) if s))  # fmt: skip
    for n, (c, (start, end)) in enumerate(zip(chosen, spans, strict=True), start=1):
        citations.append(make_citation(n, c.passage, c.doc.text, start, end))
        lang = c.doc.lang
        mark = f" ({LANGUAGE_NAMES.get(lang, lang)})" if lang and lang != q.lang else ""
        lines.append(f"{_one_line(c.doc.text[start:end])}{mark} [{n}]")
    lines.append(_sources_line(citations, q.lang))
    return Answer(
        question,
        "\n".join(lines),
        citations,
        False,
        _cited_first(passages, citations),
        query,
        short_answer=short.text if short else None,
        short_answer_n=1 if short else None,
    )


def abstain(question: str, query: str, passages: list[Passage]) -> Answer:
    """The answer that says the documents do not answer, naming the closest documents."""
    if not passages:
        return Answer(question, NO_ANSWER, [], True, [], query)
    docs: dict[str, Passage] = {}
    for p in passages:
        docs.setdefault(p.doc_id, p)
    closest = "; ".join(
        f"“{_one_line(p.title)}” ({p.date or 'undated'})" for p in list(docs.values())[:3]
    )
    return Answer(question, f"{NO_ANSWER} Closest documents: {closest}.", [], True, passages, query)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _sources_line(citations: list[Citation], qlang: str) -> str:
    items = []
    for c in citations:
        extra = f", {LANGUAGE_NAMES.get(c.lang, c.lang)}" if c.lang and c.lang != qlang else ""
        items.append(f"[{c.n}] {c.date or 'undated'}{extra}")
    return "Sources: " + "; ".join(items) + "."


def _cited_first(passages: list[Passage], citations: list[Citation]) -> list[Passage]:
    """Passages of cited documents first (in citation order), then the rest as retrieved."""
    order: dict[str, int] = {}
    for c in citations:
        order.setdefault(c.doc_id, c.n)
    cited = sorted((p for p in passages if p.doc_id in order), key=lambda p: order[p.doc_id])
    rest = [p for p in passages if p.doc_id not in order]
    return [
        Passage(**{**p.to_dict(), "rank": i + 1})  # type: ignore[arg-type]
        for i, p in enumerate(cited + rest)
    ]
