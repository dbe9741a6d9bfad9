"""Candidate sentences of the retrieved passages, and the signals that say which one answers.

Every sentence of the top passages is a candidate. Its signals (:data:`FEATURES`) are few and
generic: how close the embedding model puts the question and the sentence (read with its
document's title), how well its passage was retrieved, how much of the question's weighted terms
it and its neighbours hold, whether it holds the kind of thing asked for (a person, a date, a
number, a place) and whether its years fit the question's. How much each signal counts is not
decided here: :mod:`askculture.answering.reader` weighs them with a model fitted from data.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from askculture.answering.question import Kind, Question
from askculture.answering.text import (
    QUESTION_WORDS,
    Span,
    dateline_end,
    find_dates,
    find_names,
    find_numbers,
    split_sentences,
)
from askculture.answering.text import tokens as text_tokens
from askculture.lexical import STOPWORDS, skeleton, tokenize, words
from askculture.retrieval import Passage

TEXT_FEATURES: tuple[str, ...] = (
    "passage",  # fused retrieval score of the sentence's best passage (before language centering)
    "passage_gap",  # that score minus the best passage's
    "doc_first",  # 1 for sentences of the first retrieved document
    "terms",  # IDF-weighted share of the question's terms in the sentence
    "terms_near",  # ... in the sentence and its two neighbours
    "terms_doc",  # ... anywhere in the document (title included)
    "prefixes",  # weighted share of the question's words whose first five letters it holds
    "prefixes_near",  # ... in the sentence and its two neighbours
    "trigrams",  # share of the question's letter trigrams (in one Latin skeleton) it holds
    "kind_date",  # a date is asked for and the sentence holds one the question does not name
    "kind_number",  # ... a number ...
    "kind_name",  # ... a person or a place, and the sentence holds a new proper name
    "kind_missing",  # a kind is asked for and the sentence holds none
    "lede",  # the document's first sentence (a news lede, a paragraph's topic sentence)
    "position",  # where in the document the sentence stands (0 first, 1 last)
    "year_fit",  # +1 a year of the question is the document's or the sentence's, -1 none is
    "same_lang",  # the sentence is in the question's language
    "length",  # log of the sentence's length in characters
)
"""Signals read off the text: cheap, computed for every candidate (:func:`text_matrix`)."""

VECTOR_FEATURES: tuple[str, ...] = (
    "cos",  # cosine of the question and "title. sentence" in the embedding model's space
    "cos_gap",  # cos minus the best cos among the embedded candidates
    "cross_cos",  # cos when the languages differ (0 otherwise)
)
"""Signals of the sentence's vector: computed only for the candidates the text signals rank
highest (:func:`vector_matrix`), because embedding sentences is the costly step."""

FEATURES = TEXT_FEATURES + VECTOR_FEATURES
"""All signals, in the order of the columns the reader weighs."""

Vectors = npt.NDArray[np.float32]


@dataclass(slots=True)
class DocView:
    """A document as the reader sees it: its text, sentences and terms (computed once)."""

    doc_id: str
    title: str
    lang: str | None
    date: str | None
    text: str
    spans: list[tuple[int, int]]
    terms: list[frozenset[str]]  # index terms of each sentence
    prefixes: list[frozenset[str]]  # the first five letters of each sentence's words
    trigrams: list[frozenset[str]]  # letter trigrams of each sentence's words
    title_terms: frozenset[str]


@dataclass(slots=True)
class Candidate:
    """One sentence of a retrieved passage.

    Attributes:
        doc: Its document.
        i: Its index among the document's sentences.
        passage: The best retrieved passage of its document that contains it.
        doc_rank: Rank of its document among the retrieved ones (0 = first).
    """

    doc: DocView
    i: int
    passage: Passage
    doc_rank: int

    @property
    def start(self) -> int:
        """Offset of the sentence in its document's text."""
        return self.doc.spans[self.i][0]

    @property
    def end(self) -> int:
        """End offset of the sentence in its document's text."""
        return self.doc.spans[self.i][1]

    @property
    def text(self) -> str:
        """The sentence, verbatim."""
        return self.doc.text[self.start : self.end]


def doc_view(doc_id: str, title: str, lang: str | None, date: str | None, text: str) -> DocView:
    """Cut a document into sentences with their index terms, prefixes and trigrams."""
    spans = split_sentences(text)
    terms = [frozenset(tokenize(text[s:e], lang)) for s, e in spans]
    forms = [[skeleton(w) for w in words(text[s:e]) if w not in STOPWORDS] for s, e in spans]
    return DocView(
        doc_id,
        title,
        lang,
        date,
        text,
        spans,
        terms,
        [frozenset(f[:PREFIX] for f in fs) for fs in forms],
        [frozenset(_trigrams(fs)) for fs in forms],
        frozenset(tokenize(title, lang)),
    )


PREFIX = 5
"""Letters that stand for a word when inflections differ ("театра" ~ "театрдың" ~ "theatre")."""


def _trigrams(forms: Sequence[str]) -> set[str]:
    return {f"_{f}_"[i : i + 3] for f in forms for i in range(len(f))}


def candidates(
    passages: Sequence[Passage],
    view: Callable[[str], DocView],
    *,
    documents: int,
    limit: int,
) -> list[Candidate]:
    """The sentences of the retrieved passages, best passages first.

    Args:
        passages: Retrieved passages, best first.
        view: The :class:`DocView` of a document id.
        documents: Sentences come from the first this many distinct documents.
        limit: At most this many sentences in all.

    Returns:
        Candidates in passage order; each sentence once, with the best passage it overlaps.
    """
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    ranks: dict[str, int] = {}
    for p in passages:
        if p.doc_id not in ranks:
            if len(ranks) >= documents:
                continue
            ranks[p.doc_id] = len(ranks)
        doc = view(p.doc_id)
        for i, (s, e) in enumerate(doc.spans):
            if e > p.start and s < p.end and (p.doc_id, i) not in seen:
                seen.add((p.doc_id, i))
                out.append(Candidate(doc, i, p, ranks[p.doc_id]))
                if len(out) >= limit:
                    return out
    return out


class SentenceEncoder:
    """Embeds candidate sentences (with their document's title) and remembers the vectors.

    Args:
        embed: Turns passage texts into L2-normalised vectors (the embedder's
            ``embed_passages``).
        size: Vectors kept (least recently used are dropped).
    """

    def __init__(self, embed: Callable[[list[str]], Vectors], size: int = 50_000) -> None:
        self._embed = embed
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    @staticmethod
    def embedded_text(doc: DocView, i: int) -> str:
        """What is embedded for a document's ``i``-th sentence: the title, then the sentence."""
        s, e = doc.spans[i]
        return f"{doc.title}. {doc.text[s:e]}" if doc.title else doc.text[s:e]

    def remember(self, texts: Sequence[str], vectors: Vectors) -> None:
        """Keep vectors computed elsewhere (e.g. in one large batch) for these texts."""
        with self._lock:
            for t, v in zip(texts, vectors, strict=True):
                self._cache[t] = v

    def __call__(self, cands: Sequence[Candidate]) -> Vectors:
        """The vectors of ``cands`` (one row each)."""
        texts = [self.embedded_text(c.doc, c.i) for c in cands]
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vecs = self._embed(missing)
            with self._lock:
                for t, v in zip(missing, vecs, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = [self._cache[t] for t in texts]
            for t in texts:
                self._cache.move_to_end(t)
        return np.stack(rows) if rows else np.zeros((0, 1), dtype=np.float32)


def term_weights(
    terms: Sequence[str], doc_freq: Callable[[Sequence[str]], list[int]], n: int
) -> dict[str, float]:
    """BM25-style inverse document frequencies of a question's terms.

    Args:
        terms: The question's index terms.
        doc_freq: How many indexed chunks hold each term.
        n: How many chunks there are.

    Returns:
        A weight per distinct term; a term no chunk holds weighs the most.
    """
    uniq = list(dict.fromkeys(terms))
    dfs = doc_freq(uniq) if uniq else []
    return {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in zip(uniq, dfs, strict=True)}


def _share(weights: dict[str, float], have: frozenset[str] | set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0


@functools.lru_cache(maxsize=8192)
def kind_spans(text: str, offset: int, kind: Kind) -> tuple[Span, ...]:
    """Spans of ``text`` that could answer a question of ``kind`` (absolute offsets); a news
    dateline at its start is not searched. Remembered for the sentences read last: the same
    candidates come back for question after question about one subject."""
    if kind is Kind.OTHER:
        return ()
    skip = dateline_end(text)
    body = text[skip:]
    toks = text_tokens(body, offset + skip)
    dates = find_dates(toks, body, offset + skip)
    if kind is Kind.DATE:
        return tuple(dates)
    if kind is Kind.NUMBER:
        return tuple(find_numbers(toks, dates))
    names = find_names(toks, body, offset + skip)  # a person or a place: a short proper name
    return tuple(n for n in names if len(text_tokens(text[n.start - offset : n.end - offset])) <= 4)


def _new_span(c: Candidate, q: Question, qterms: set[str]) -> bool:
    """True when the sentence holds a span of the asked kind that the question does not name."""
    for s in kind_spans(c.text, c.start, q.kind):
        if not set(tokenize(c.doc.text[s.start : s.end], c.doc.lang)) <= qterms:
            return True
    return False


_KIND_COLUMN = {Kind.DATE: 0, Kind.NUMBER: 1, Kind.PERSON: 2, Kind.PLACE: 2}


def _kind_signals(c: Candidate, q: Question, qterms: set[str]) -> list[float]:
    """kind_date, kind_number, kind_name, kind_missing (see :data:`FEATURES`)."""
    out = [0.0, 0.0, 0.0, 0.0]
    if q.kind is not Kind.OTHER:
        out[_KIND_COLUMN[q.kind] if _new_span(c, q, qterms) else 3] = 1.0
    return out


def year_fit(c: Candidate, q: Question) -> float:
    """+1 when a year the question names is the document's or the sentence's, -1 when none
    is, 0 when the question names no year."""
    if not q.years:
        return 0.0
    have = {str(y) for y in q.years}
    if (c.doc.date and c.doc.date[:4] in have) or any(y in c.text for y in have):
        return 1.0
    return -1.0


def text_matrix(
    q: Question, cands: Sequence[Candidate], weights: dict[str, float]
) -> npt.NDArray[np.float64]:
    """The text signals of every candidate, one row each, columns as :data:`TEXT_FEATURES`.

    Args:
        q: The analysed question.
        cands: The candidates.
        weights: The question's term weights (:func:`term_weights`).
    """
    if not cands:
        return np.zeros((0, len(TEXT_FEATURES)))
    best_passage = max(c.passage.match_score for c in cands)
    qterms = set(weights)
    qwords = [w for w in words(q.text) if w not in STOPWORDS and w not in QUESTION_WORDS]
    qforms = [skeleton(w) for w in qwords]
    by_prefix: dict[str, float] = {}  # each question word's weight: its heaviest term's
    for w, f in zip(qwords, qforms, strict=True):
        weight = max((weights.get(t, 0.0) for t in tokenize(w, q.lang)), default=0.0)
        by_prefix[f[:PREFIX]] = max(by_prefix.get(f[:PREFIX], 0.0), weight)
    qgrams = _trigrams(qforms)
    rows = []
    for c in cands:
        d = c.doc
        around = slice(max(0, c.i - 1), c.i + 2)
        everywhere = set().union(d.title_terms, *d.terms)
        rows.append(
            [
                c.passage.match_score,
                c.passage.match_score - best_passage,
                float(c.doc_rank == 0),
                _share(weights, d.terms[c.i]),
                _share(weights, set().union(*d.terms[around])),
                _share(weights, everywhere),
                _share(by_prefix, d.prefixes[c.i]),
                _share(by_prefix, set().union(*d.prefixes[around])),
                len(qgrams & d.trigrams[c.i]) / len(qgrams) if qgrams else 0.0,
                *_kind_signals(c, q, qterms),
                float(c.i == 0),
                c.i / max(1, len(d.spans) - 1),
                year_fit(c, q),
                float(d.lang == q.lang) if d.lang else 1.0,
                math.log(max(1, len(c.text))),
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def vector_matrix(
    cos: npt.NDArray[np.float64], same_lang: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The vector signals of the embedded candidates, columns as :data:`VECTOR_FEATURES`.

    Args:
        cos: Each embedded candidate's cosine with the question.
        same_lang: Each one's ``same_lang`` text signal.
    """
    if len(cos) == 0:
        return np.zeros((0, len(VECTOR_FEATURES)))
    return np.column_stack([cos, cos - cos.max(), cos * (1.0 - same_lang)])
