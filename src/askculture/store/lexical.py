"""Lexical (BM25) search over immutable segments.

Each segment keeps its own postings (term -> chunks, term frequencies and precomputed BM25
weights), written once with numpy and read memory-mapped, so neither building nor searching ever
holds the terms of the index in Python lists. Scoring is bm25s's "lucene" BM25 (k1 = 1.5,
b = 0.75): a posting's length-normalised weight ``tf / (tf + k1 (1 - b + b dl / avgdl))`` is
computed when its segment is written (avgdl: the segment's), and a query multiplies it by the
term's idf over the whole snapshot. As in Lucene, document frequencies and chunk counts include
deleted chunks until a merge drops them. On an index of one segment without deletions (after
``askculture compact``, or an index ingested at once) scores equal bm25s's on the same chunks.

Files of a lexical segment (``lexical/`` in the segment folder)::

    vocab.bin            the segment's terms, UTF-8, sorted, concatenated
    vocab_offsets.npy    int64 [terms + 1]: where each term starts in vocab.bin
    indptr.npy           int64 [terms + 1]: where each term's postings start
    docs.npy             int32 [postings]: chunk positions in the segment, ascending per term
    tf.npy               uint16 [postings]: term frequencies (to recompute weights on merge)
    weight.npy           float32 [postings]: length-normalised term frequencies
    doclen.npy           int32 [chunks]: terms per chunk
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

K1 = 1.5
B = 0.75
_TF_MAX = np.iinfo(np.uint16).max
SPAN_CACHE = 4096
"""Query terms whose postings spans a snapshot's BM25 remembers."""

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


def _encode(term: str) -> bytes:
    return term.encode("utf-8", "surrogatepass")


class Vocabulary(Sequence[bytes]):
    """Sorted terms in one byte string; found by binary search, never held as Python objects."""

    def __init__(self, blob: bytes, offsets: Ints):
        self.blob = blob
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> bytes:  # type: ignore[override]
        return self.blob[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def find(self, term: str) -> int:
        """Position of ``term``, or -1 when the segment does not have it."""
        key = _encode(term)
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self) and self[lo] == key else -1

    def terms(self) -> list[bytes]:
        """Every term, in order (for merging)."""
        off = self.offsets.tolist()
        return [self.blob[a:b] for a, b in itertools.pairwise(off)]

    @classmethod
    def from_sorted(cls, terms: list[bytes]) -> Vocabulary:
        """A vocabulary of already sorted, distinct terms."""
        offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        if terms:
            np.cumsum(np.fromiter(map(len, terms), np.int64, len(terms)), out=offsets[1:])
        return cls(b"".join(terms), offsets)


@dataclass
class LexicalSegment:
    """The postings of one segment's chunks (positions 0..n-1, in chunk id order)."""

    vocab: Vocabulary
    indptr: Ints
    docs: npt.NDArray[np.int32]
    tf: npt.NDArray[np.uint16]
    doclen: npt.NDArray[np.int32]
    weight: Floats

    @property
    def n_docs(self) -> int:
        """Chunks in the segment (deleted ones included)."""
        return len(self.doclen)

    def span(self, term: str) -> tuple[int, int]:
        """Where ``term``'s postings are (an empty span when the segment lacks it)."""
        t = self.vocab.find(term)
        if t < 0:
            return 0, 0
        return int(self.indptr[t]), int(self.indptr[t + 1])

    @classmethod
    def build(cls, token_lists: Sequence[list[str]]) -> LexicalSegment:
        """Index chunks given their terms (from :func:`askculture.lexical.tokenize`).

        Memory: a few int64 arrays of the total number of terms; no per-term Python lists.
        """
        n = len(token_lists)
        lengths = np.fromiter(map(len, token_lists), np.int64, n)
        total = int(lengths.sum())
        distinct = list(dict.fromkeys(itertools.chain.from_iterable(token_lists)))
        ids = {t: i for i, t in enumerate(distinct)}
        flat = np.fromiter(
            map(ids.__getitem__, itertools.chain.from_iterable(token_lists)), np.int64, total
        )
        encoded = [_encode(t) for t in distinct]
        del distinct
        order = sorted(range(len(encoded)), key=encoded.__getitem__)
        rank = np.empty(len(order), dtype=np.int64)
        rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int64)
        vocab = Vocabulary.from_sorted([encoded[i] for i in order])
        del encoded, order, ids
        keys = rank[flat]
        del flat
        keys *= max(n, 1)
        keys += np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, counts = np.unique(keys, return_counts=True)
        return cls._from_sorted_keys(vocab, keys, counts, lengths.astype(np.int32), n)

    @classmethod
    def _from_sorted_keys(
        cls,
        vocab: Vocabulary,
        keys: Ints,
        tf: npt.NDArray[np.integer],
        doclen: npt.NDArray[np.int32],
        n: int,
    ) -> LexicalSegment:
        n = max(n, 1)
        terms = keys // n
        docs = (keys - terms * n).astype(np.int32)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=len(vocab)), out=indptr[1:])
        del terms
        avgdl = float(doclen.mean()) if len(doclen) else 1.0
        f = np.asarray(tf, dtype=np.float64)
        weight = (f / (K1 * ((1 - B) + B * doclen[docs] / avgdl) + f)).astype(np.float32)
        del f
        tf16 = np.minimum(tf, _TF_MAX).astype(np.uint16)
        return cls(vocab, indptr, docs, tf16, doclen, weight)

    @classmethod
    def merge(
        cls, parts: list[tuple[LexicalSegment, npt.NDArray[np.int64]]], n_out: int
    ) -> LexicalSegment:
        """Merge segments; ``parts`` pairs each with the new position of each of its chunks
        (-1 for chunks left out), positions 0..n_out-1."""
        union: set[bytes] = set()
        term_lists = []
        for seg, _ in parts:
            terms = seg.vocab.terms()
            term_lists.append(terms)
            union.update(terms)
        merged_terms = sorted(union)
        del union
        new_id = {t: i for i, t in enumerate(merged_terms)}
        vocab = Vocabulary.from_sorted(merged_terms)
        del merged_terms
        key_parts, tf_parts = [], []
        doclen = np.zeros(n_out, dtype=np.int32)
        n = max(n_out, 1)
        for (seg, where), terms in zip(parts, term_lists, strict=True):
            remap = np.fromiter((new_id[t] for t in terms), np.int64, len(terms))
            per_term = np.diff(seg.indptr)
            term_of = np.repeat(remap, per_term)
            docs = where[np.asarray(seg.docs)]
            keep = docs >= 0
            key_parts.append(term_of[keep] * n + docs[keep])
            tf_parts.append(np.asarray(seg.tf)[keep])
            live = where >= 0
            doclen[where[live]] = np.asarray(seg.doclen)[live]
        del new_id, term_lists
        keys = np.concatenate(key_parts) if key_parts else np.zeros(0, dtype=np.int64)
        tf = np.concatenate(tf_parts) if tf_parts else np.zeros(0, dtype=np.uint16)
        del key_parts, tf_parts
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        tf = tf[order]
        del order
        return cls._from_sorted_keys(vocab, keys, tf, doclen, n_out)

    def save(self, directory: Path) -> None:
        """Write the segment's files into ``directory`` (created)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vocab.bin").write_bytes(self.vocab.blob)
        np.save(directory / "vocab_offsets.npy", self.vocab.offsets)
        np.save(directory / "indptr.npy", self.indptr)
        np.save(directory / "docs.npy", self.docs)
        np.save(directory / "tf.npy", self.tf)
        np.save(directory / "doclen.npy", self.doclen)
        np.save(directory / "weight.npy", self.weight)

    @classmethod
    def load(cls, directory: Path) -> LexicalSegment:
        """Open a segment written by :meth:`save` (postings memory-mapped)."""

        def arr(name: str) -> npt.NDArray[np.generic]:
            out: npt.NDArray[np.generic] = np.load(directory / name, mmap_mode="r")
            return out

        vocab = Vocabulary(
            (directory / "vocab.bin").read_bytes(), np.load(directory / "vocab_offsets.npy")
        )
        return cls(
            vocab,
            np.load(directory / "indptr.npy"),
            arr("docs.npy"),  # type: ignore[arg-type]
            arr("tf.npy"),  # type: ignore[arg-type]
            np.load(directory / "doclen.npy"),
            arr("weight.npy"),  # type: ignore[arg-type]
        )


@dataclass
class LexicalPart:
    """One segment as a snapshot sees it: its postings, chunk ids and live chunks."""

    segment: LexicalSegment
    ids: Ints
    live: npt.NDArray[np.bool_] | None
    """False for deleted chunks; None when none is deleted."""


class LexicalIndex:
    """BM25 over the chunks of a snapshot's segments, keyed by chunk id; deleted ones skipped."""

    def __init__(self, parts: list[LexicalPart]):
        self.parts = [p for p in parts if p.segment.n_docs]
        self.n_docs = sum(p.segment.n_docs for p in self.parts)
        """Chunks counted in idf (deleted ones included until merged, as in Lucene)."""
        self._ids: Ints | None = None
        self._span_cache: dict[str, list[tuple[int, int, int]]] = {}
        self._span_lock = threading.Lock()

    @property
    def ids(self) -> Ints:
        """Every live chunk id."""
        if self._ids is None:
            chunks = [p.ids if p.live is None else p.ids[p.live] for p in self.parts]
            self._ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        return self._ids

    def _spans(self, term: str) -> list[tuple[int, int, int]]:
        """``(part, start, end)`` of ``term``'s postings in each part that has it.

        Remembered for the last few thousand terms: a search looks its terms up in every
        segment's vocabulary (a binary search in Python), and the fusion that follows asks
        for the same terms again (:meth:`matched`).
        """
        with self._span_lock:
            hit = self._span_cache.get(term)
        if hit is not None:
            return hit
        out = []
        for i, p in enumerate(self.parts):
            a, b = p.segment.span(term)
            if b > a:
                out.append((i, a, b))
        with self._span_lock:
            if len(self._span_cache) >= SPAN_CACHE:
                self._span_cache.pop(next(iter(self._span_cache)))
            self._span_cache[term] = out
        return out

    @property
    def size(self) -> int:
        """Chunks counted in idf (the ``n`` of :meth:`doc_freq`)."""
        return self.n_docs

    def doc_freq(self, terms: Sequence[str]) -> list[int]:
        """:meth:`df` of each term (0 for terms never seen)."""
        return [self.df(t) for t in terms]

    def df(self, term: str) -> int:
        """Chunks that contain ``term`` (its document frequency, as idf counts it).

        Costs a dictionary look-up per segment, whatever the size of the index.
        """
        return sum(b - a for _, a, b in self._spans(term))

    def search(
        self, terms: list[str], n: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """Best live chunks for query terms.

        Args:
            terms: Query terms from :func:`askculture.lexical.tokenize`.
            n: How many results at most.
            allowed: Only these chunk ids (filters); ``None`` for all.

        Returns:
            ``(chunk id, BM25 score)`` pairs with a positive score, best first.
        """
        if not self.n_docs or not terms or n <= 0:
            return []
        plan = []
        for term in dict.fromkeys(terms):
            spans = self._spans(term)
            df = sum(b - a for _, a, b in spans)
            if df:
                idf = np.float32(math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))
                plan.append((idf, spans))
        if not plan:
            return []
        # Every posting of every term is added into one score array per segment. At a
        # million chunks, where a question has a dozen or more terms and many are common,
        # this takes half the time of a MaxScore loop, whose bookkeeping (chunks found so
        # far, the n-th best score after each term) cost more than the postings it skipped.
        # Terms are added rarest first, so scores are the same to the bit.
        plan.sort(key=lambda p: -float(p[0]))
        scores: dict[int, Floats] = {}
        for idf, spans in plan:
            for i, a, b in spans:
                seg = self.parts[i].segment
                if i not in scores:
                    scores[i] = np.zeros(seg.n_docs, dtype=np.float32)
                scores[i][seg.docs[a:b]] += idf * seg.weight[a:b]
        ok = self._eligible(allowed)
        ids_out, scores_out = [], []
        for i, s in scores.items():
            mask = ok[i]
            if mask is not None:
                s[~mask] = 0
            cand = _best(s, n)
            ids_out.append(self.parts[i].ids[cand])
            scores_out.append(s[cand])
        all_ids = np.concatenate(ids_out)
        all_scores = np.concatenate(scores_out)
        order = np.lexsort((all_ids, -all_scores))[:n]
        return [(int(all_ids[j]), float(all_scores[j])) for j in order]

    def _eligible(self, allowed: set[int] | None) -> list[npt.NDArray[np.bool_] | None]:
        """Per segment, which chunks may be returned (live, and allowed); None for all."""
        wanted = np.fromiter(allowed, np.int64, len(allowed)) if allowed is not None else None
        out: list[npt.NDArray[np.bool_] | None] = []
        for p in self.parts:
            mask = p.live
            if wanted is not None:
                pos, there = _positions(p.ids, wanted)
                keep = np.zeros(p.segment.n_docs, dtype=bool)
                keep[pos[there]] = True
                mask = keep if mask is None else keep & mask
            out.append(mask)
        return out

    def matched(self, terms: Iterable[str], chunk_ids: list[int]) -> dict[int, set[str]]:
        """Which of ``terms`` each of ``chunk_ids`` contains (only chunks with one or more)."""
        out: dict[int, set[str]] = {}
        if not chunk_ids:
            return out
        wanted = np.asarray(sorted(set(chunk_ids)), dtype=np.int64)
        local: dict[int, Ints] = {}  # part -> positions of the wanted chunks it holds
        for i, p in enumerate(self.parts):
            pos, found = _positions(p.ids, wanted)
            if found.any():
                local[i] = pos[found]
        for term in dict.fromkeys(terms):
            for i, a, b in self._spans(term):
                where = local.get(i)
                if where is None:
                    continue
                p = self.parts[i]  # postings ascend: find each chunk by binary search
                docs = p.segment.docs[a:b]
                at = np.minimum(np.searchsorted(docs, where), b - a - 1)
                for cid in p.ids[where[docs[at] == where]].tolist():
                    out.setdefault(int(cid), set()).add(term)
        return out


def _best(scores: Floats, n: int) -> Ints:
    """Positions of the ``n`` best positive scores (more when several tie with the n-th)."""
    if len(scores) > n:
        nth = scores[np.argpartition(scores, len(scores) - n)[len(scores) - n]]
        if nth > 0:
            return np.flatnonzero(scores >= nth)
    return np.flatnonzero(scores > 0)


def _positions(ids: Ints, wanted: Ints) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Positions of ``wanted`` in the sorted ``ids``, and which are there."""
    if not len(ids):
        return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    pos = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return pos, ids[pos] == wanted


__all__ = ["LexicalIndex", "LexicalPart", "LexicalSegment", "Vocabulary"]
