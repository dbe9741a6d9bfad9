"""Questions → passages: dense and lexical search, fused, filtered.

Dense search (the embedding model) finds meaning across languages; BM25 finds exact names and
numbers. Fusion is a weighted reciprocal-rank fusion in which each lexical hit counts in
proportion to how much of the query it actually matches, so that a lexical list of noise (as on a
cross-lingual question, where no query word occurs in the right document) cannot push the dense
list's answer out, while an exact name or number still lifts its passage.

Cosines are compared across languages only after each is centered on its language: a share
(``retrieval.language_centering``, 0.8) of the query's cosine with the mean vector of the
passage's language is subtracted. multilingual-e5 scores any passage in the question's own
language higher than one in another language, whatever it says; centered, a passage counts by how
far it stands out from its language's texts, so a Russian question finds the English article that
answers it rather than Russian ones that only share its language. In a corpus of one language the
shift is the same for every passage and changes nothing (measured in the README, "How it works").
"""

from __future__ import annotations

import copy
import re
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from askculture.documents import detect_language
from askculture.embedding import SentenceTransformerEmbedder, get_embedder
from askculture.errors import ConfigError, QueryError
from askculture.lexical import tokenize
from askculture.settings import Settings
from askculture.store import IndexReader, StoredChunk, current_generation

_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
YEAR_BONUS = 0.02
"""Added to the score of passages from a year the query names (cosine scale)."""


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved chunk with its document's metadata; ``score`` is higher for better."""

    text: str
    score: float
    rank: int
    chunk_id: str
    doc_id: str
    start: int
    end: int
    title: str
    date: str | None
    lang: str | None
    source: str | None
    url: str | None
    path: str
    dense_score: float | None = None
    lexical_score: float | None = None
    language_shift: float = 0.0
    """The query's cosine with the mean vector of the passage's language, taken off ``score``
    (times ``language_centering``) so that passages of different languages compare."""

    @property
    def match_score(self) -> float:
        """How well the passage matches the query, before language centering: its cosine with
        the bonuses. (Whether anything answers at all shows on this absolute scale.)"""
        return self.score + self.language_shift

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


def clean_query(query: str, max_chars: int) -> str:
    """Validate and normalise a query.

    Args:
        query: The raw query.
        max_chars: Longest query accepted.

    Returns:
        The query, NFC-normalised, control characters replaced by spaces, whitespace collapsed.

    Raises:
        QueryError: The query is not a string, is empty, too long or has no letters or digits.
    """
    if not isinstance(query, str):
        raise QueryError("the query must be text")
    if len(query) > max_chars:
        raise QueryError(
            f"the query is too long ({len(query):,} characters; at most {max_chars:,})"
        )
    text = unicodedata.normalize("NFC", query)
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    text = " ".join(text.split())
    if not text:
        raise QueryError("the query is empty")
    if not any(c.isalnum() for c in text):
        raise QueryError("the query has no words to search for")
    return text


def _check_date(value: str | date | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    for pattern, suffix in (
        (r"\d{4}", "-01-01"),
        (r"\d{4}-\d{2}", "-01"),
        (r"\d{4}-\d{2}-\d{2}", ""),
    ):
        if re.fullmatch(pattern, text):
            full = text + suffix
            try:
                date.fromisoformat(full)
            except ValueError:
                break
            return full
    raise ConfigError(f"{name} must be a date like 2024-05-13, 2024-05 or 2024 (got {value!r})")


def _date_to(value: str | date | None) -> str | None:
    """An upper bound that includes the whole year or month given."""
    full = _check_date(value, "date_to")
    if full is None or isinstance(value, date):
        return full
    text = str(value).strip()
    if len(text) == 4:
        return f"{text}-12-31"
    if len(text) == 7:
        return f"{text}-31"  # ISO strings compare lexically; "-31" covers every month
    return full


def _as_list(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    cleaned = [i.strip() for i in items if i and i.strip()]
    return cleaned or None


_lexical_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="askculture-bm25")
"""Runs the BM25 search while the query is embedded (torch and numpy let go of the GIL)."""


class Retriever:
    """An opened index with its embedding model: the object queries run against."""

    def __init__(
        self, reader: IndexReader, embedder: SentenceTransformerEmbedder, settings: Settings
    ):
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self._qcache: dict[str, npt.NDArray[np.float32]] = {}  # query text -> vector
        self._qlock = threading.Lock()

    def with_settings(self, settings: Settings) -> Retriever:
        """The same opened index and model, searched with other settings (the query vectors
        already computed are shared)."""
        other = copy.copy(self)
        other.settings = settings
        return other

    def query_vector(self, text: str) -> npt.NDArray[np.float32]:
        """The embedding of a (cleaned) query, remembered for the last few hundred queries.

        A question is often searched more than once (with a date filter, in a second hop), and
        embedding it is the costliest step of a search.
        """
        with self._qlock:
            hit = self._qcache.get(text)
        if hit is not None:
            return hit
        vec = self.embedder.embed_query(text)
        with self._qlock:
            if len(self._qcache) >= 512:
                self._qcache.pop(next(iter(self._qcache)))
            self._qcache[text] = vec
        return vec

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Embed a few passages or sentences for the reader (one row each, L2-normalised)."""
        return self.embedder.embed_few(texts)

    @property
    def generation(self) -> str:
        """Name of the index generation this retriever reads."""
        return self.reader.generation.name

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        lang: str | list[str] | None = None,
        source: str | list[str] | None = None,
    ) -> list[Passage]:
        """Best passages for ``query``; see :func:`retrieve`."""
        rs = self.settings.retrieval
        text = clean_query(query, rs.max_query_chars)
        if not 1 <= k <= 1000:
            raise ConfigError(f"k must be between 1 and 1000 (got {k})")
        langs = _as_list(lang)
        if langs:
            langs = [x.lower() for x in langs]
            bad = [x for x in langs if x not in {"en", "ru", "kk"}]
            if bad:
                raise ConfigError(f"unknown language {bad[0]!r}: use en, ru or kk")
        allowed = self.reader.filter_ids(
            _check_date(date_from, "date_from"), _date_to(date_to), langs, _as_list(source)
        )
        n = max(rs.candidates, k)
        qterms = tokenize(text, detect_language(text))
        lexical_job = _lexical_pool.submit(self.reader.lexical.search, qterms, n, allowed)
        qvec = self.query_vector(text)
        dense = self.reader.search_dense(qvec, n, allowed)
        return self._fuse(text, qvec, qterms, dense, lexical_job.result(), k)

    def _fuse(
        self,
        text: str,
        qvec: npt.NDArray[np.float32],
        qterms: list[str],
        dense: list[tuple[int, float]],
        lexical: list[tuple[int, float]],
        k: int,
    ) -> list[Passage]:
        """Combine the lists on one scale: cosine plus a lexical bonus.

        The bonus is ``lexical_weight × coverage × bm25 / best bm25``, where coverage is the
        share of the query's terms found in the passage: exact names and numbers lift a passage
        by a few hundredths of cosine, while scattered matches of common words barely count.
        """
        rs = self.settings.retrieval
        cosine = dict(dense)
        bm25 = dict(lexical)
        missing = [rid for rid in bm25 if rid not in cosine]
        if missing:  # lexical-only hits get their true cosine, on the same scale
            for rid, vec in zip(missing, self.reader.vectors(missing), strict=True):
                cosine[rid] = float(vec @ qvec)
        shift: dict[int, float] = {}
        if rs.language_centering:  # how far each stands out from its language's texts
            means = self.reader.language_means
            share = rs.language_centering
            of_lang = {lang: share * float(mean @ qvec) for lang, mean in means.items()}
            langs = self.reader.chunk_languages(list(cosine))
            shift = {rid: of_lang.get(lang, 0.0) for rid, lang in langs.items()}
        scores = {rid: cos - shift.get(rid, 0.0) for rid, cos in cosine.items()}
        wanted = set(qterms)
        if lexical and wanted:
            best = lexical[0][1]
            matched = self.reader.matched_terms(list(wanted), list(bm25))
            for rid, score in lexical:
                coverage = len(matched.get(rid, set())) / len(wanted)
                scores[rid] += rs.lexical_weight * coverage**2 * score / best
        years = set(_YEAR.findall(text))
        top = sorted(scores, key=lambda r: -scores[r])[: max(k * 4, 20)]
        chunks = {c.rowid: c for c in self.reader.chunks(top)}
        for rid, ch in chunks.items():  # a year the query names steers towards that year's news
            if years and ch.document.date and ch.document.date[:4] in years:
                scores[rid] += YEAR_BONUS
        ranked = sorted(chunks, key=lambda r: -scores[r])[:k]
        return [
            _passage(chunks[rid], scores[rid], rank, cosine[rid], bm25.get(rid), shift.get(rid))
            for rank, rid in enumerate(ranked, 1)
        ]


def _passage(
    ch: StoredChunk,
    score: float,
    rank: int,
    dense: float | None,
    lexical: float | None,
    shift: float | None,
) -> Passage:
    d = ch.document
    return Passage(
        text=ch.chunk.text, score=score, rank=rank, chunk_id=ch.chunk.id, doc_id=d.id,
        start=ch.chunk.start, end=ch.chunk.end, title=d.title, date=d.date, lang=d.lang,
        source=d.source, url=d.url, path=d.path, dense_score=dense, lexical_score=lexical,
        language_shift=shift or 0.0,
    )  # fmt: skip


_cache: dict[tuple[str, str | None], Retriever] = {}
_cache_lock = threading.Lock()


def open_index(
    index_dir: str | Path | None = None,
    *,
    model: str | None = None,
    settings: Settings | None = None,
) -> Retriever:
    """Open an index for querying; cached per process until the index changes.

    The opened index and model are shared by every call for the same folder and model; each
    call searches with its own ``settings``.

    Args:
        index_dir: The index folder (default: settings ``index.dir``).
        model: The embedding model to query with; default: the one the index was built with.
            A different model is refused with :class:`ModelMismatchError`.
        settings: Settings (default: from the environment).

    Returns:
        A ready :class:`Retriever`.

    Raises:
        IndexStoreError: No index there, or it is unreadable.
        ModelMismatchError: ``model`` is not the index's model.
    """
    settings = settings or Settings()
    path = Path(index_dir) if index_dir is not None else settings.index.dir
    explicit = model or (
        settings.embedding.model if "model" in settings.embedding.model_fields_set else None
    )
    key = (str(path.resolve()), explicit)
    with _cache_lock:
        cached = _cache.get(key)
        live = current_generation(path) if path.is_dir() else None
        if cached is not None and live is not None and cached.generation == live.name:
            return cached if cached.settings == settings else cached.with_settings(settings)
        reader = IndexReader.open(path)
        emb_settings = settings.embedding.model_copy()
        emb_settings.model = explicit or reader.manifest.model
        embedder = get_embedder(emb_settings)
        reader.check_model(embedder.model_id)
        retriever = Retriever(reader, embedder, settings)
        _cache[key] = retriever
        return retriever


def retrieve(
    query: str,
    k: int = 5,
    index_dir: str | Path | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    lang: str | list[str] | None = None,
    source: str | list[str] | None = None,
    *,
    settings: Settings | None = None,
) -> list[Passage]:
    """Find the passages that best match ``query``.

    Args:
        query: The question or search terms, in English, Russian or Kazakh.
        k: How many passages to return.
        index_dir: The index folder (default: settings ``index.dir``).
        date_from: Only documents dated on or after this (``YYYY``, ``YYYY-MM`` or ISO date).
        date_to: Only documents dated on or before this (a year or month includes all of it).
        lang: Only documents in these languages (``"en"``, ``"ru,kk"`` or a list).
        source: Only documents whose publisher contains one of these strings.
        settings: Settings (default: from the environment).

    Returns:
        Passages, best first, at most one per chunk.

    Raises:
        QueryError: The query is empty, too long or has no words.
        ConfigError: A filter is malformed.
        IndexStoreError: There is no usable index at ``index_dir``.
    """
    settings = settings or Settings()
    clean_query(query, settings.retrieval.max_query_chars)  # refuse bad queries before loading
    retriever = open_index(index_dir, settings=settings)
    return retriever.search(
        query, k, date_from=date_from, date_to=date_to, lang=lang, source=source
    )
