"""Passages → a cited, extractive answer (or an honest abstention).

The answer quotes sentences of the documents verbatim. Sentences are chosen one by one: every
sentence of the retrieved documents is scored against the question (its terms and names, matched
across scripts and languages; the kind of answer asked for; the years it names; what the
neighbouring sentences say) by :class:`~askculture.evidence.EvidenceScorer`, and the best
*supported* sentence leads. A sentence supports an answer only when it holds the kind of answer
asked for — a person for "who", a day and month for "on what date", an amount of money for
"budget" — next to the noun that slot is about; when no sentence does, the answer abstains.

How :func:`ask` gets there:

1. a follow-up ("And who signed it?") takes its subject from the history (:mod:`askculture.chat`);
   a compound question ("Which medal ..., and which anniversary ...?") is split into parts;
2. each part is searched; a year it names also runs a search filtered to that year, so that
   year's documents are candidates (ranking then prefers them); when nothing supports an answer,
   a second search adds the names the best sentences mention (a second hop);
3. every sentence of the candidate documents is scored and checked for support;
4. reports of the same event published within three days (other languages, other publishers)
   are scored too: a sentence saying the same is cited beside the quote, one giving another date
   or number is shown next to it with both sources and dates;
5. the text quotes the chosen sentences (marked with their language when it is not the
   question's) with ``[n]`` markers and lists each source's date; or it abstains, naming the
   closest documents.

Every citation quotes its document verbatim: :func:`make_citation` cuts the quote out of the
document text, and :func:`ask` re-checks each one with :func:`verify_citation` before it returns.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from askculture.chat import resolve_followup
from askculture.errors import AskCultureError, ConfigError, QueryError
from askculture.evidence import (
    VALUE_SLOTS,
    Candidate,
    DocSentences,
    Evidence,
    EvidenceScorer,
    Question,
    analyse_document,
    analyse_question,
    same_fact,
    split_question,
)
from askculture.retrieval import Passage, Retriever, clean_query, open_index
from askculture.settings import Settings

LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}
NO_ANSWER = "The indexed documents do not answer this question."


class CitationError(AskCultureError):
    """A quote that is not verbatim in the document it cites (a bug, never shown to users)."""


@dataclass(frozen=True, slots=True)
class Citation:
    """One numbered source of an answer, with the exact quoted text and where it stands.

    ``quote`` is ``document.text[start:end]`` of the cited document; :func:`make_citation` is the
    way to build one, and it refuses spans that are empty or outside the document.
    """

    n: int
    doc_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    path: str
    lang: str | None
    quote: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end or len(self.quote) != self.end - self.start:
            raise CitationError(
                f"citation [{self.n}]: quote of {len(self.quote)} characters does not fit its "
                f"offsets {self.start}:{self.end}"
            )
        if not self.quote.strip():
            raise CitationError(f"citation [{self.n}]: empty quote")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Answer:
    """The answer to a question: text with ``[n]`` markers, its citations and passages.

    Attributes:
        question: The question as asked.
        text: The answer: quoted sentences with ``[n]`` markers, then the sources' dates; or,
            when ``abstained``, a statement that the documents do not answer, with the closest
            documents.
        citations: The numbered sources, each with its verbatim quote and offsets.
        abstained: True when no retrieved sentence supports an answer.
        passages: The retrieved passages, documents cited first.
        query: The question actually searched for (a follow-up resolved with its history).
        short_answer: When the question asks for a name, date, number or place and the leading
            quote holds it: that short answer, verbatim from the quote (else None).
        short_answer_n: The citation number whose quote holds ``short_answer``.
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    passages: list[Passage] = field(default_factory=list)
    query: str = ""
    short_answer: str | None = None
    short_answer_n: int | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "question": self.question,
            "text": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "query": self.query,
            "short_answer": self.short_answer,
            "short_answer_n": self.short_answer_n,
        }


def make_citation(n: int, passage: Passage, doc_text: str, start: int, end: int) -> Citation:
    """Build a citation, cutting its quote out of the document text.

    Args:
        n: Citation number.
        passage: A passage of the cited document (for its metadata).
        doc_text: The full text of the cited document.
        start: Quote start offset in ``doc_text``.
        end: Quote end offset in ``doc_text``.

    Returns:
        The citation; its ``quote`` is ``doc_text[start:end]``.

    Raises:
        CitationError: The offsets are out of range or select only whitespace.
    """
    if not 0 <= start < end <= len(doc_text):
        raise CitationError(f"quote offsets {start}:{end} outside {passage.title!r}")
    quote = doc_text[start:end]
    if not quote.strip():
        raise CitationError("empty quote")
    return Citation(
        n=n, doc_id=passage.doc_id, title=passage.title, date=passage.date,
        source=passage.source, url=passage.url, path=passage.path, lang=passage.lang,
        quote=quote, start=start, end=end,
    )  # fmt: skip


def verify_citation(citation: Citation, doc_text: str) -> bool:
    """True when ``citation.quote`` stands verbatim at its offsets in ``doc_text``."""
    return doc_text[citation.start : citation.end] == citation.quote


# --------------------------------------------------------------------------------------------
# Question checks
# --------------------------------------------------------------------------------------------

_SUPPORTED_SCRIPTS = ("LATIN", "CYRILLIC")


def check_script(text: str) -> None:
    """Refuse a question written mostly in a script other than Latin or Cyrillic.

    Raises:
        QueryError: Most letters are not Latin or Cyrillic (e.g. Chinese, Arabic, Greek).
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return
    ok = sum(1 for c in letters if unicodedata.name(c, "").startswith(_SUPPORTED_SCRIPTS))
    if ok < 0.5 * len(letters):
        raise QueryError(
            "askculture answers questions in English, Russian or Kazakh; "
            "please ask in one of these languages"
        )


# --------------------------------------------------------------------------------------------
# Asking
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Filters:
    """The user's filters, dates as inclusive ISO bounds ("2024" -> 2024-01-01 .. 2024-12-31)."""

    date_from: str | None = None
    date_to: str | None = None
    lang: list[str] | None = None
    source: list[str] | None = None

    @classmethod
    def of(
        cls,
        date_from: str | date | None,
        date_to: str | date | None,
        lang: str | list[str] | None,
        source: str | list[str] | None,
    ) -> _Filters:
        """Validate and normalise the filter arguments of :func:`ask`.

        Raises:
            ConfigError: A date is not ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
        """
        return cls(
            _bound(date_from, "date_from", upper=False),
            _bound(date_to, "date_to", upper=True),
            _listed(lang, lower=True),
            _listed(source),
        )

    @property
    def dated(self) -> bool:
        """True when the user restricted dates."""
        return bool(self.date_from or self.date_to)

    def search(
        self,
        retriever: Retriever,
        query: str,
        k: int,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[Passage]:
        """Search with these filters (dates narrowed further when given)."""
        lo = max(filter(None, [self.date_from, date_from]), default=None)
        hi = min(filter(None, [self.date_to, date_to]), default=None)
        if lo and hi and lo > hi:
            return []
        return retriever.search(
            query, k, date_from=lo, date_to=hi, lang=self.lang, source=self.source
        )


def _bound(value: str | date | None, name: str, *, upper: bool) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return f"{text}-12-31" if upper else f"{text}-01-01"
        if re.fullmatch(r"\d{4}-\d{2}", text):
            first = date.fromisoformat(f"{text}-01")
            if not upper:
                return first.isoformat()
            nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return (nxt - timedelta(days=1)).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise ConfigError(f"{name} must be a date like 2024-05-13, 2024-05 or 2024 (got {value!r})")


def _listed(
    value: str | list[str] | tuple[str, ...] | None, *, lower: bool = False
) -> list[str] | None:
    """A filter value ("en,ru", ["en"], None) as a list of strings, or None."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [str(x) for x in value]
    out = [x.strip().lower() if lower else x.strip() for x in items if x.strip()]
    return out or None


@dataclass
class _Part:
    """One part of a (possibly compound) question and what was found for it."""

    text: str
    question: Question
    evidence: list[Evidence]
    chosen: list[Evidence] = field(default_factory=list)


def ask(
    question: str,
    index_dir: str | Path | None = None,
    history: list[tuple[str, str]] | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    lang: str | list[str] | None = None,
    source: str | list[str] | None = None,
    *,
    settings: Settings | None = None,
) -> Answer:
    """Answer a question from the indexed documents, with verbatim citations.

    Args:
        question: The question, in English, Russian or Kazakh.
        index_dir: The index folder (default: settings ``index.dir``).
        history: Earlier ``(question, answer text)`` turns, oldest first, for follow-ups such
            as "And who signed it?".
        date_from: Only documents dated on or after this.
        date_to: Only documents dated on or before this.
        lang: Only documents in these languages.
        source: Only documents whose publisher contains one of these strings.
        settings: Settings (default: from the environment).

    Returns:
        The :class:`Answer`; ``abstained`` is true when the documents do not answer.

    Raises:
        QueryError: The question is empty, too long, or not in a supported script.
        ConfigError: A filter is malformed.
        IndexStoreError: There is no usable index.
    """
    settings = settings or Settings()
    text = clean_query(question, settings.retrieval.max_query_chars)
    check_script(text)
    retriever = open_index(index_dir, settings=settings)
    followup = resolve_followup(text, history)
    filters = _Filters.of(date_from, date_to, lang, source)
    scorer = _scorer(retriever)
    parts: list[_Part] = []
    passages: list[Passage] = []
    for part_text in split_question(text):
        q = analyse_question(part_text)
        if followup.context:
            q = followup.merge(q)
        query = f"{part_text} {followup.context}".strip() if followup.context else part_text
        found = _retrieve(retriever, q, query, filters, settings.answer.passages)
        cands = _candidates(retriever, found, settings.answer.documents)
        by_date = bool(followup.context)  # "Когда это было?": the report's date answers
        ev = scorer.score(q, cands, allow_doc_date=by_date)
        if not any(e.supported for e in ev[:5]) and ev:
            extra = _second_hop(retriever, q, query, ev, filters, settings.answer.passages)
            if extra:
                found = _merge(found, extra)
                cands = _candidates(retriever, found, settings.answer.documents)
                ev = scorer.score(q, cands, allow_doc_date=by_date)
        passages = _merge(passages, found)
        parts.append(_Part(part_text, q, ev))
    if not passages:
        empty = len(retriever.reader) == 0
        msg = "The index holds no documents yet." if empty else NO_ANSWER
        return Answer(question, msg, [], True, [], followup.query)
    for part in parts:
        part.chosen = _choose(part, settings)
        if part.chosen:
            part.evidence += _same_event(retriever, scorer, part, filters, settings)
            _add_conflict(part)
    answer = _compose(question, parts, passages, retriever, settings, followup.query)
    for c in answer.citations:  # defence in depth: a bad quote never leaves this function
        if not verify_citation(c, retriever.reader.document(c.doc_id).text):
            raise CitationError(f"internal error: citation [{c.n}] is not verbatim")
    return answer


def _retrieve(
    retriever: Retriever, q: Question, query: str, filters: _Filters, k: int
) -> list[Passage]:
    """Passages for one question part; a year the question names also filters a second search,
    so that the documents of that year are among the candidates."""
    found = filters.search(retriever, query, k)
    if q.years and not filters.dated:
        for year in sorted(q.years):
            extra = filters.search(
                retriever, query, max(4, k // 3), date_from=f"{year}-01-01", date_to=f"{year}-12-31"
            )
            found = _merge(found, extra)
    return found


def _second_hop(
    retriever: Retriever, q: Question, query: str, ev: list[Evidence], filters: _Filters, k: int
) -> list[Passage]:
    """Search again with the names that the best sentences add to the question (a second hop:
    "the foundation whose president visited Astana" -> the president's name -> her meetings)."""
    known = q.content_forms
    extra: list[str] = []
    for e in ev[:3]:
        for name in e.sent.names:
            words = [w for w in name.words if w[:1].isupper()]
            text = " ".join(words)
            if text and text not in extra and not any(w.lower() in known for w in words):
                extra.append(text)
    if not extra:
        return []
    return filters.search(retriever, f"{query} {' '.join(extra[:4])}", k)


def _same_event(
    retriever: Retriever,
    scorer: EvidenceScorer,
    part: _Part,
    filters: _Filters,
    settings: Settings,
) -> list[Evidence]:
    """Sentences of other documents published within three days of the best sentence's: the
    same event is often reported in another language or by another publisher, and those reports
    are cited together (or shown side by side when they differ)."""
    best = part.chosen[0]
    if not best.cand.date:
        return []
    try:
        day = date.fromisoformat(best.cand.date)
    except ValueError:
        return []
    lo = max(filter(None, [filters.date_from, (day - timedelta(days=3)).isoformat()]))
    hi = min(filter(None, [filters.date_to, (day + timedelta(days=3)).isoformat()]))
    ids = retriever.reader.filter_ids(lo, hi, filters.lang, filters.source)
    have = {e.cand.doc_id for e in part.evidence}
    docs: dict[str, Passage] = {}
    for ch in retriever.reader.chunks(sorted(ids or [])[:400]):
        d = ch.document
        if d.id in have or d.id in docs:
            continue
        docs[d.id] = Passage(
            text=ch.chunk.text, score=0.0, rank=0, chunk_id=ch.chunk.id, doc_id=d.id,
            start=ch.chunk.start, end=ch.chunk.end, title=d.title, date=d.date, lang=d.lang,
            source=d.source, url=d.url, path=d.path,
        )  # fmt: skip
        if len(docs) >= settings.answer.documents:
            break
    if not docs:
        return []
    cands = _candidates(retriever, list(docs.values()), len(docs))
    for c in cands:
        c.rank += len(have)
        c.passage_spans = []
    return scorer.score(part.question, cands)


def _merge(a: list[Passage], b: list[Passage]) -> list[Passage]:
    """``a`` then the passages of ``b`` not in it."""
    out = list(a)
    seen = {p.chunk_id for p in a}
    for p in b:
        if p.chunk_id not in seen:
            seen.add(p.chunk_id)
            out.append(p)
    return out


def _candidates(retriever: Retriever, passages: list[Passage], limit: int) -> list[Candidate]:
    """The distinct documents of the passages, in retrieval order, at most ``limit``."""
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    top = max((p.score for p in passages), default=1.0) or 1.0
    out: list[Candidate] = []
    for rank, (doc_id, ps) in enumerate(by_doc.items()):
        if rank >= limit:
            break
        doc = retriever.reader.document(doc_id)
        spans = [(p.start, p.end, p.score / top) for p in ps]
        cand = Candidate(doc.id, doc.text, doc.title, doc.lang, doc.date, list(ps), spans, rank)
        cand.info = _analysed(doc.id, doc.sha256, doc.text, doc.title, doc.lang, doc.date)
        out.append(cand)
    return out


_DOC_CACHE: OrderedDict[tuple[str, str], DocSentences] = OrderedDict()
_DOC_CACHE_SIZE = 5000
_lock = threading.Lock()


def _analysed(
    doc_id: str, sha: str, text: str, title: str, lang: str | None, day: str | None
) -> DocSentences:
    """A document's analysed sentences, computed once per document version and process."""
    key = (doc_id, sha)
    with _lock:
        hit = _DOC_CACHE.get(key)
        if hit is not None:
            _DOC_CACHE.move_to_end(key)
            return hit
    info = analyse_document(doc_id, text, title, lang, day)
    with _lock:
        _DOC_CACHE[key] = info
        while len(_DOC_CACHE) > _DOC_CACHE_SIZE:
            _DOC_CACHE.popitem(last=False)
    return info


class _WordVectors:
    """Static word vectors from the embedding model's own token embeddings, cached per word.

    A word's vector is the mean of its sub-word tokens' input embeddings. In a multilingual
    model these line up across languages well enough for a rough dictionary ("budget" ~
    "бюджет", "days" ~ "дней") at the cost of a table lookup — running the model on every word
    would take seconds per question on a CPU.
    """

    def __init__(self, table: npt.NDArray[np.float32], tokenizer: object) -> None:
        self._table = table
        self._tokenizer = tokenizer
        self._cache: dict[str, npt.NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, retriever: Retriever) -> _WordVectors | None:
        """The word vectors of a retriever's embedding model, or None when it has none."""
        model = getattr(retriever.embedder, "_model", None)
        tokenizer = getattr(model, "tokenizer", None)
        if model is None or tokenizer is None:
            return None
        try:
            import torch

            table = None
            for module in model.modules():
                if isinstance(module, torch.nn.Embedding) and module.weight.shape[0] > 30_000:
                    table = module.weight.detach().cpu().numpy().astype(np.float32)
                    break
        except Exception:  # an unusual model: do without word vectors
            return None
        return None if table is None else cls(table, tokenizer)

    def __call__(self, words: list[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(words), self._table.shape[1]), dtype=np.float32)
        for i, w in enumerate(words):
            v = self._cache.get(w)
            if v is None:
                ids = self._tokenizer(w, add_special_tokens=False)["input_ids"]  # type: ignore[operator]
                if ids and len(ids) <= 3:
                    v = self._table[ids].mean(axis=0)
                    v = v / (np.linalg.norm(v) or 1.0)
                else:
                    v = np.zeros(self._table.shape[1], dtype=np.float32)
                with self._lock:
                    if len(self._cache) > 500_000:
                        self._cache.clear()
                    self._cache[w] = v
            out[i] = v
        return out


_SCORERS: dict[tuple[int, str], EvidenceScorer] = {}


def _scorer(retriever: Retriever) -> EvidenceScorer:
    """The evidence scorer of an opened index (IDF and word vectors cached with it)."""
    key = (id(retriever), retriever.generation)
    with _lock:
        hit = _SCORERS.get(key)
    if hit is not None:
        return hit
    lexical = retriever.reader.lexical
    n = len(lexical.ids)

    def df(term: str) -> int:
        return len(lexical.search([term], max(1, n)))

    scorer = EvidenceScorer(df, n, _WordVectors.of(retriever))
    with _lock:
        if len(_SCORERS) > 8:
            _SCORERS.clear()
        _SCORERS[key] = scorer
    return scorer


# --------------------------------------------------------------------------------------------
# Choosing sentences
# --------------------------------------------------------------------------------------------


def _choose(part: _Part, settings: Settings) -> list[Evidence]:
    """The supported sentences that answer one part: the best, more for a list question."""
    supported = [e for e in part.evidence if e.supported]
    if not supported:
        return []
    q = part.question
    best = supported[0]
    if q.wants_latest:
        close = [e for e in supported if e.score >= 0.8 * best.score]
        best = max(close, key=lambda e: (e.cand.date or "", e.score))
    chosen = [best]
    limit = settings.answer.max_list_sentences if q.is_list else 1
    for e in supported:
        if len(chosen) >= limit:
            break
        if e is best or e.score < 0.8 * best.score or e.content < 0.5 * best.content:
            continue  # a list goes on only with sentences nearly as good as the best
        if any(same_fact(e, c) or e.overlaps(c) for c in chosen):
            continue
        if q.is_list and e.new_fillers(chosen):
            chosen.append(e)
    if q.is_list and len(q.years) > 1:  # "... in 2023 and ... in 2024": an answer for each year
        for year in sorted(q.years):
            if any(_about_year(c, year) for c in chosen):
                continue
            for e in supported:
                if e.score >= 0.5 * best.score and e.cand.date and e.cand.date[:4] == str(year):
                    if not any(same_fact(e, c) or e.overlaps(c) for c in chosen):
                        chosen.append(e)
                    break
    return chosen


def _about_year(e: Evidence, year: int) -> bool:
    """True when a sentence's document is of that year, or the sentence names it."""
    return bool(e.cand.date and e.cand.date[:4] == str(year)) or any(
        d.year == year and d.year_given for d in e.sent.dates
    )


def _add_conflict(part: _Part) -> None:
    """A date or number asked for on which another report of the same event disagrees: add that
    report's sentence so that both are shown."""
    q = part.question
    if q.is_list or q.slot not in VALUE_SLOTS or not part.chosen:
        return
    best = part.chosen[0]
    rivals = [e for e in part.evidence if e.supported and e.cand.doc_id != best.cand.doc_id
              and e.score >= 0.4 * best.score and (not q.focus or e.focus_here)]  # fmt: skip
    for e in sorted(rivals, key=lambda e: -e.score)[:8]:
        if e.conflicts_with(best) and not any(same_fact(e, c) for c in part.chosen):
            part.chosen.append(e)
            return


# --------------------------------------------------------------------------------------------
# Composing the answer
# --------------------------------------------------------------------------------------------


@dataclass
class _Quote:
    """A quoted sentence and the same fact found in other documents (cited together)."""

    main: Evidence
    same: list[Evidence]
    conflict: bool = False


def _compose(
    question: str,
    parts: list[_Part],
    passages: list[Passage],
    retriever: Retriever,
    settings: Settings,
    query: str,
) -> Answer:
    qlang = parts[0].question.lang
    quotes: list[_Quote] = []
    unanswered: list[str] = []
    for part in parts:
        if not part.chosen:
            unanswered.append(part.text)
            continue
        for i, e in enumerate(part.chosen):
            if any(e.overlaps(x.main) for x in quotes):
                continue
            same = [
                o
                for o in part.evidence
                if o.cand is not e.cand and o.sent_score_ok and same_fact(e, o)
            ]
            conflict = i > 0 and not part.question.is_list and e.conflicts_with(part.chosen[0])
            quotes.append(_Quote(_prefer_language(e, same, qlang), [], conflict))
            main = quotes[-1].main
            quotes[-1].same = _dedupe_docs([x for x in [e, *same] if x is not main], main)
    limit = max(settings.answer.max_sentences, len(parts))
    if any(p.question.is_list for p in parts):
        limit = settings.answer.max_list_sentences
    quotes = quotes[:limit]
    if not quotes:
        return _abstain(question, parts, passages, query)

    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []

    def cite(e: Evidence) -> int:
        key = (e.cand.doc_id, e.start, e.end)
        if key not in numbers:
            n = len(citations) + 1
            numbers[key] = n
            citations.append(
                make_citation(n, cast(Passage, e.cand.passages[0]), e.cand.text, e.start, e.end)
            )
        return numbers[key]

    lines: list[str] = []
    differ = any(qt.conflict for qt in quotes)
    if differ:
        lines.append("The sources differ:")
    for qt in quotes:
        marks = "".join(f"[{cite(x)}]" for x in [qt.main, *qt.same])
        lang_note = ""
        mlang = qt.main.cand.lang
        if mlang and mlang != qlang:
            lang_note = f" ({LANGUAGE_NAMES.get(mlang, mlang)})"
        prefix = ""
        if any(f.startswith("doc:") for f in qt.main.fillers):  # "when" answered by the reports
            by_date: dict[str, str] = {}
            for x in [qt.main, *qt.same]:
                key = x.cand.date or "undated"
                by_date[key] = by_date.get(key, "") + f"[{cite(x)}]"
            lines.append(
                "Reported on " + "; ".join(f"{d} {m}" for d, m in sorted(by_date.items())) + ":"
            )
        quote = _one_line(qt.main.cand.text[qt.main.start : qt.main.end])
        origin = ""
        if differ:  # each side with its source and date
            p = cast(Passage, qt.main.cand.passages[0])
            origin = f" — {p.source or p.title}, {p.date or 'undated'}"
        lines.append(f"{prefix}{quote}{lang_note} {marks}{origin}")
    for u in unanswered:
        lines.append(f"The indexed documents do not answer: {u}")
    lines.append(_dates_line(citations, qlang))
    note = _date_conflict_note(quotes, numbers)
    if note:
        lines.append(note)
    ordered = _reorder(passages, citations)
    return Answer(question, "\n".join(lines), citations, False, ordered, query)


def _prefer_language(e: Evidence, same: list[Evidence], lang: str) -> Evidence:
    """Of equivalent sentences, quote the one in the question's language when there is one."""
    if e.cand.lang == lang:
        return e
    for o in same:
        if o.cand.lang == lang and o.score >= 0.6 * e.score:
            return o
    return e


def _dedupe_docs(items: list[Evidence], main: Evidence) -> list[Evidence]:
    out: list[Evidence] = []
    seen = {main.cand.doc_id}
    for x in sorted(items, key=lambda x: -x.score):
        if x.cand.doc_id not in seen:
            seen.add(x.cand.doc_id)
            out.append(x)
    return out[:3]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _dates_line(citations: list[Citation], qlang: str) -> str:
    items = []
    for c in citations:
        extra = f", {LANGUAGE_NAMES.get(c.lang, c.lang)}" if c.lang and c.lang != qlang else ""
        items.append(f"[{c.n}] {c.date or 'undated'}{extra}")
    return "Sources: " + "; ".join(items) + "."


def _date_conflict_note(quotes: list[_Quote], numbers: dict[tuple[str, int, int], int]) -> str:
    """Say so when documents cited together for one fact carry different dates."""
    notes = []
    for qt in quotes:
        group = [qt.main, *qt.same]
        dates: dict[str, list[int]] = {}
        for e in group:
            n = numbers[(e.cand.doc_id, e.start, e.end)]
            dates.setdefault(e.cand.date or "undated", []).append(n)
        if len(dates) > 1:
            shown = ", ".join(
                f"{d} ({''.join(f'[{n}]' for n in ns)})" for d, ns in sorted(dates.items())
            )
            notes.append(f"The sources are dated differently: {shown}.")
    return " ".join(dict.fromkeys(notes))


def _reorder(passages: list[Passage], citations: list[Citation]) -> list[Passage]:
    """Passages of cited documents first (in citation order), then the rest as retrieved."""
    order = {c.doc_id: i for i, c in reversed(list(enumerate(citations)))}
    cited = sorted((p for p in passages if p.doc_id in order), key=lambda p: order[p.doc_id])
    rest = [p for p in passages if p.doc_id not in order]
    return [
        Passage(**{**p.to_dict(), "rank": i + 1})  # type: ignore[arg-type]
        for i, p in enumerate(cited + rest)
    ]


def _abstain(question: str, parts: list[_Part], passages: list[Passage], query: str) -> Answer:
    docs: list[Passage] = []
    for p in passages:
        if all(p.doc_id != d.doc_id for d in docs):
            docs.append(p)
    closest = "; ".join(f"“{_one_line(p.title)}” ({p.date or 'undated'})" for p in docs[:3])
    text = NO_ANSWER + (f" Closest documents: {closest}." if closest else "")
    return Answer(question, text, [], True, passages, query)


__all__ = [
    "Answer",
    "Citation",
    "CitationError",
    "ask",
    "check_script",
    "make_citation",
    "verify_citation",
]
