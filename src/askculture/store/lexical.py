"""Lexical (BM25) search over immutable segments, scored with index-wide statistics.

Each segment keeps its own postings (term -> chunks and term frequencies), written once with
numpy and read memory-mapped, so neither building nor searching ever holds all terms of the
index in Python lists. A query scores every segment with the statistics of the whole live
snapshot (live chunks, average length, document frequency without deleted chunks), so a chunk's
score does not depend on how the index happens to be split into segments or on deletions not
yet merged away: it equals the score of one BM25 index built from the live chunks alone
(bm25s "lucene" BM25, k1 = 1.5, b = 0.75).

Files of a lexical segment (``lexical/`` in the segment folder)::

    vocab.bin            the segment's terms, UTF-8, sorted, concatenated
    vocab_offsets.npy    int64 [terms + 1]: where each term starts in vocab.bin
    indptr.npy           int64 [terms + 1]: where each term's postings start
    docs.npy             int32 [postings]: chunk positions in the segment, ascending per term
    tf.npy               uint16 [postings]: term frequencies
    doclen.npy           int32 [chunks]: terms per chunk
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

K1 = 1.5
B = 0.75
_TF_MAX = np.iinfo(np.uint16).max

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

    @property
    def n_docs(self) -> int:
        """Chunks in the segment (deleted ones included)."""
        return len(self.doclen)

    def postings(self, term: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]] | None:
        """Chunk positions and term frequencies of ``term``; None when absent."""
        t = self.vocab.find(term)
        if t < 0:
            return None
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.docs[a:b], self.tf[a:b]

    @classmethod
    def build(cls, token_lists: Sequence[list[str]]) -> LexicalSegment:
        """Index chunks given their terms (from :func:`askculture.lexical.tokenize`).

        Memory: a few int64 arrays of the total number of terms; no per-term Python lists.
        """
        n = len(token_lists)
        lengths = np.fromiter(map(len, token_lists), np.int64, n)
        total = int(lengths.sum())
        ids: dict[str, int] = {}
        setdefault = ids.setdefault
        flat = np.fromiter(
            (setdefault(t, len(ids)) for terms in token_lists for t in terms), np.int64, total
        )
        encoded = [_encode(t) for t in ids]
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
        return cls(vocab, indptr, docs, np.minimum(tf, _TF_MAX).astype(np.uint16), doclen)

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
        )


@dataclass
class LexicalPart:
    """One segment as a snapshot sees it: its postings, chunk ids and live chunks."""

    segment: LexicalSegment
    ids: Ints
    live: npt.NDArray[np.bool_] | None
    """False for deleted chunks; None when none is deleted."""


class LexicalIndex:
    """BM25 over the live chunks of a snapshot's segments, keyed by chunk id."""

    def __init__(self, parts: list[LexicalPart]):
        self.parts = [p for p in parts if p.segment.n_docs]
        self.n_docs = sum(
            p.segment.n_docs if p.live is None else int(p.live.sum()) for p in self.parts
        )
        total = sum(
            int(np.asarray(p.segment.doclen, dtype=np.int64)[p.live].sum())
            if p.live is not None
            else int(np.asarray(p.segment.doclen, dtype=np.int64).sum())
            for p in self.parts
        )
        self.avgdl = total / self.n_docs if self.n_docs else 1.0
        self._norm: list[npt.NDArray[np.float64] | None] = [None] * len(self.parts)
        self._ids: Ints | None = None

    @property
    def ids(self) -> Ints:
        """Every live chunk id."""
        if self._ids is None:
            chunks = [p.ids if p.live is None else p.ids[p.live] for p in self.parts]
            self._ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        return self._ids

    def _norm_of(self, i: int) -> npt.NDArray[np.float64]:
        norm = self._norm[i]
        if norm is None:
            dl = np.asarray(self.parts[i].segment.doclen, dtype=np.float64)
            norm = K1 * ((1 - B) + B * dl / self.avgdl)
            self._norm[i] = norm
        return norm

    def _postings(
        self, term: str
    ) -> list[tuple[int, npt.NDArray[np.int32], npt.NDArray[np.uint16]]]:
        out = []
        for i, p in enumerate(self.parts):
            found = p.segment.postings(term)
            if found is None:
                continue
            docs, tf = found
            if p.live is not None:
                keep = p.live[docs]
                docs, tf = docs[keep], tf[keep]
            if len(docs):
                out.append((i, docs, tf))
        return out

    def df(self, term: str) -> int:
        """Live chunks that contain ``term`` (its document frequency)."""
        return sum(len(d) for _, d, _ in self._postings(term))

    def search(
        self, terms: list[str], n: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """Best chunks for query terms.

        Args:
            terms: Query terms from :func:`askculture.lexical.tokenize`.
            n: How many results at most.
            allowed: Only these chunk ids (filters); ``None`` for all.

        Returns:
            ``(chunk id, BM25 score)`` pairs with a positive score, best first.
        """
        if not self.n_docs or not terms or n <= 0:
            return []
        scores: dict[int, Floats] = {}
        for term in dict.fromkeys(terms):
            found = self._postings(term)
            df = sum(len(d) for _, d, _ in found)
            if not df:
                continue
            idf = np.float32(math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))
            for i, docs, tf in found:
                s = scores.get(i)
                if s is None:
                    s = scores[i] = np.zeros(self.parts[i].segment.n_docs, dtype=np.float32)
                f = tf.astype(np.float64)
                s[docs] += (idf * (f / (self._norm_of(i)[docs] + f))).astype(np.float32)
        wanted = np.fromiter(allowed, np.int64, len(allowed)) if allowed is not None else None
        ids_out, scores_out = [], []
        for i, s in scores.items():
            cand = np.flatnonzero(s > 0)
            ids = self.parts[i].ids[cand]
            if wanted is not None:
                keep = np.isin(ids, wanted)
                cand, ids = cand[keep], ids[keep]
            if len(cand) > n:
                top = np.argpartition(-s[cand], n - 1)[:n]
                cand, ids = cand[top], ids[top]
            ids_out.append(ids)
            scores_out.append(s[cand])
        if not ids_out:
            return []
        all_ids = np.concatenate(ids_out)
        all_scores = np.concatenate(scores_out)
        order = np.lexsort((all_ids, -all_scores))[:n]
        return [(int(all_ids[j]), float(all_scores[j])) for j in order]

    def matched(self, terms: Iterable[str], chunk_ids: list[int]) -> dict[int, set[str]]:
        """Which of ``terms`` each of ``chunk_ids`` contains (only chunks with one or more)."""
        out: dict[int, set[str]] = {}
        if not chunk_ids:
            return out
        wanted = np.asarray(sorted(set(chunk_ids)), dtype=np.int64)
        for term in dict.fromkeys(terms):
            for i, docs, _ in self._postings(term):
                ids = self.parts[i].ids[docs]
                for cid in ids[np.isin(ids, wanted)].tolist():
                    out.setdefault(int(cid), set()).add(term)
        return out


__all__ = ["LexicalIndex", "LexicalPart", "LexicalSegment", "Vocabulary"]
