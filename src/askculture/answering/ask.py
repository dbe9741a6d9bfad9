"""Question → passages → scored sentences → a cited answer, or an honest abstention.

1. A follow-up ("And who signed it?") takes its subject from the history
   (:mod:`askculture.answering.followup`).
2. The question is searched (:mod:`askculture.retrieval`, which also lifts the documents of a
   year the question names).
3. Every sentence of the top passages is scored by the fitted reader
   (:mod:`askculture.answering.features`, :mod:`askculture.answering.reader`).
4. When no sentence is probable enough the answer abstains, naming the closest documents;
   otherwise it quotes the best sentence, and a second when the reader rates it nearly as high
   (:mod:`askculture.answering.compose`).

One rule sits beside the fitted reader: a question in parts about different years ("... in
August 2023, and who ... in April 2024?") has each part searched on its own and answered from
the passages of that year's documents (:func:`read_by_year`), which is how a question about two
events gets both documents cited; the QA suites' documents are undated, so it cannot act there,
and ``benchmarks/multi_doc.py`` measures it on questions joined from their pairs (see the README,
"Answers"). Splitting every
compound question, a search limited to a single year the question names and quoting every
document for a list question measured equal with the reader on every set, so they were removed.

Every citation quotes its document verbatim, and :func:`ask` checks each one again before it
returns.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from askculture.answering.answer import Answer, CitationError, verify_citation
from askculture.answering.compose import EMPTY_INDEX, abstain, compose
from askculture.answering.features import (
    TEXT_FEATURES,
    Candidate,
    DocView,
    SentenceEncoder,
    candidates,
    doc_view,
    term_weights,
    text_matrix,
    vector_matrix,
)
from askculture.answering.followup import resolve_followup
from askculture.answering.question import Question, analyse_question, year_parts
from askculture.answering.reader import Reader, load_reader
from askculture.errors import ConfigError, QueryError
from askculture.retrieval import Passage, Retriever, clean_query, open_index
from askculture.settings import AnswerSettings, Settings

_SUPPORTED_SCRIPTS = ("LATIN", "CYRILLIC")


def check_script(text: str) -> None:
    """Refuse a question written mostly in a script other than Latin or Cyrillic.

    Raises:
        QueryError: Most letters are not Latin or Cyrillic (e.g. Chinese, Arabic, Greek).
    """
    letters = [c for c in text if c.isalpha()]
    ok = sum(1 for c in letters if unicodedata.name(c, "").startswith(_SUPPORTED_SCRIPTS))
    if letters and ok < 0.5 * len(letters):
        raise QueryError(
            "askculture answers questions in English, Russian or Kazakh; "
            "please ask in one of these languages"
        )


@dataclass(frozen=True, slots=True)
class Filters:
    """The user's filters, dates as inclusive ISO bounds ("2024" -> 2024-01-01 .. 2024-12-31)."""

    date_from: str | None = None
    date_to: str | None = None
    lang: list[str] | None = None
    source: list[str] | None = None

    @classmethod
    def of(
        cls,
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        lang: str | list[str] | None = None,
        source: str | list[str] | None = None,
    ) -> Filters:
        """Validate and normalise filter arguments.

        Raises:
            ConfigError: A date is not ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, or the range is
                reversed.
        """
        lo, hi = _bound(date_from, "date_from", upper=False), _bound(date_to, "date_to", upper=True)
        if lo and hi and lo > hi:
            raise ConfigError(f"the date range is reversed: from {lo} is after to {hi}")
        return cls(lo, hi, _listed(lang, lower=True), _listed(source))

    def search(self, retriever: Retriever, query: str, k: int) -> list[Passage]:
        """Search with these filters."""
        return retriever.search(
            query, k, date_from=self.date_from, date_to=self.date_to, lang=self.lang,
            source=self.source,
        )  # fmt: skip


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


def _listed(value: str | Sequence[str] | None, *, lower: bool = False) -> list[str] | None:
    """A filter value ("en,ru", ["en"], None) as a list of strings, or None."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [str(x) for x in value]
    out = [x.strip().lower() if lower else x.strip() for x in items if x.strip()]
    return out or None


# --------------------------------------------------------------------------------------------
# Reading: what the reader needs of an opened index, kept with it
# --------------------------------------------------------------------------------------------


class IndexReading:
    """Sentence vectors, document views and term statistics of one opened index.

    Built once per index generation (:func:`reading`) and shared by all questions.
    """

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self.encoder = SentenceEncoder(retriever.embed_passages)
        self.view: Callable[[str], DocView] = functools.lru_cache(maxsize=5000)(self._view)
        """The document's sentences and terms (kept for the last few thousand documents)."""

    def _view(self, doc_id: str) -> DocView:
        d = self.retriever.reader.document(doc_id)
        return doc_view(d.id, d.title, d.lang, d.date, d.text)

    def text_signals(
        self, q: Question, passages: Sequence[Passage], settings: AnswerSettings
    ) -> tuple[list[Candidate], npt.NDArray[np.float64]]:
        """The candidate sentences of ``passages`` and their text signals (one row each)."""
        cands = candidates(
            passages, self.view, documents=settings.documents, limit=settings.sentences
        )
        lexical = self.retriever.reader.lexical
        weights = term_weights(q.terms, lexical.doc_freq, lexical.size)
        return cands, text_matrix(q, cands, weights)

    def cosines(self, query: str, cands: Sequence[Candidate]) -> npt.NDArray[np.float64]:
        """Each candidate's cosine with the question in the embedding model's space."""
        qvec = self.retriever.query_vector(clean_query(query, 10**6))
        return (self.encoder(cands) @ qvec).astype(np.float64)

    def read(
        self,
        q: Question,
        query: str,
        passages: Sequence[Passage],
        settings: AnswerSettings,
        reader: Reader,
    ) -> tuple[list[Candidate], npt.NDArray[np.float64]]:
        """The candidates worth reading and the probability that each answers ``q``.

        The text signals of every candidate rank them; only the ``reader.embed_top`` best are
        embedded and scored with all signals.
        """
        cands, x = self.text_signals(q, passages, settings)
        if not cands:
            return [], np.zeros(0)
        ranked = np.argsort(-reader.text_model.probabilities(x), kind="stable")
        top = ranked[: reader.embed_top]
        chosen = [cands[int(i)] for i in top]
        same = x[top, TEXT_FEATURES.index("same_lang")]
        full = np.hstack([x[top], vector_matrix(self.cosines(query, chosen), same)])
        return chosen, reader.model.probabilities(full)


_READINGS: dict[tuple[int, str], IndexReading] = {}
_readings_lock = threading.Lock()


def reading(retriever: Retriever) -> IndexReading:
    """The :class:`IndexReading` of an opened index (one per opened index and generation,
    shared by retrievers that differ only in their settings)."""
    key = (id(retriever.reader), retriever.generation)
    with _readings_lock:
        hit = _READINGS.get(key)
        if hit is None:
            if len(_READINGS) > 8:
                _READINGS.clear()
            hit = _READINGS[key] = IndexReading(retriever)
        return hit


def choose(
    q: Question, cands: Sequence[Candidate], probs: npt.NDArray[np.float64], reader: Reader
) -> list[Candidate]:
    """The sentences to quote, best first; empty when none is probable enough.

    The best sentence, if it reaches the threshold of its language group; then a second one
    when it is nearly as probable (``reader.second_ratio`` of the best).
    """
    order = [int(i) for i in np.argsort(-probs, kind="stable")]
    if not order:
        return []
    best, top = cands[order[0]], float(probs[order[0]])
    threshold = reader.threshold(q.lang, best.doc.lang)
    if top < threshold:
        return []
    chosen = [best]
    if len(order) > 1 and float(probs[order[1]]) >= max(threshold, reader.second_ratio * top):
        chosen.append(cands[order[1]])
    return chosen


def read_by_year(
    q: Question,
    filters: Filters,
    here: IndexReading,
    opts: AnswerSettings,
    reader: Reader,
) -> tuple[list[Candidate], list[Question], list[Passage]]:
    """For a question about events of several years, the best sentence for each year's part.

    "Who represented the ministry in talks in August 2023, and who headed the delegation in
    April 2024?" asks about two events, each in its own documents; one search for the whole
    question finds the documents of one of them. So each year's part of the question
    (:func:`~askculture.answering.question.year_parts`) is searched, the passages of that
    year's documents are read on their own, and its best sentence is kept when it reaches the
    threshold. (The passages are picked out of the part's search rather than searched for with
    a date filter: at a million chunks a filter on a year's chunks costs more than the search.)

    Returns:
        The sentences (earliest year first), the parts they answer, and the passages read; all
        empty unless two or more years' parts get a sentence from different documents (undated
        documents are in no year), in which case the question is read whole.
    """
    chosen: list[Candidate] = []
    parts: list[Question] = []
    passages: dict[str, Passage] = {}
    for year, text in year_parts(q.text).items():
        found = [  # the part names its year, so the search lifts that year's documents
            p
            for p in filters.search(here.retriever, text, opts.passages)
            if (p.date or "").startswith(str(year))
        ]
        if not found:
            continue
        part = analyse_question(text, q.lang)
        cands, probs = here.read(part, text, found, opts, reader)
        best = choose(part, cands, probs, reader)[:1]
        chosen += best
        parts += [part] * len(best)
        passages.update((p.chunk_id, p) for p in found)
    if len({c.doc.doc_id for c in chosen}) < 2:
        return [], [], []
    return chosen, parts, list(passages.values())


def ask(
    question: str,
    index_dir: str | Path | None = None,
    history: Sequence[object] | None = None,
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
        history: Earlier turns, oldest first (``(question, answer)`` pairs or chat messages),
            for follow-ups such as "And who signed it?".
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
    filters = Filters.of(date_from, date_to, lang, source)
    retriever = open_index(index_dir, settings=settings)
    followup = resolve_followup(text, history)
    opts = settings.answer
    reader = load_reader(opts.reader) if opts.reader else load_reader()
    here = reading(retriever)
    q = followup.merge(analyse_question(text))
    if not q.terms:  # only question words and pronouns: nothing to look for
        return abstain(question, followup.query, [])
    query = f"{text} {followup.context}" if followup.context else text
    chosen, parts, passages = (
        ([], [], []) if followup.context else read_by_year(q, filters, here, opts, reader)
    )
    if not chosen:
        passages = filters.search(retriever, query, opts.passages)
        if not passages and len(retriever.reader) == 0:
            return Answer(question, EMPTY_INDEX, [], True, [], followup.query)
        cands, probs = here.read(q, query, passages, opts, reader)
        chosen = choose(q, cands, probs, reader)
    if not chosen:
        return abstain(question, followup.query, passages)
    answer = compose(question, followup.query, q, chosen, passages, parts or None)
    for c in answer.citations:  # defence in depth: a bad quote never leaves this function
        if not verify_citation(c, retriever.reader.document(c.doc_id).text):
            raise CitationError(f"internal error: citation [{c.n}] is not verbatim")
    return answer
