"""A read-only snapshot of an index: one manifest and the segments it lists.

Every lookup the answering step needs is indexed and touches only the rows asked for: a
document by id, chunks by id, the chunks of one document. None scans the index, so their cost
does not grow with it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from askculture.chunking import Chunk
from askculture.documents import Document
from askculture.errors import IndexStoreError, ModelMismatchError
from askculture.store import vectors as vec
from askculture.store.lexical import LexicalIndex
from askculture.store.manifest import (
    CURRENT,
    SEGMENTS,
    Manifest,
    current_generation,
)
from askculture.store.segment import FileState, Ints, Segment, StoredChunk, row_to_document

DOC_CACHE = 2_000
"""Documents kept in memory per snapshot (the answering step reads the same few repeatedly)."""


class IndexReader:
    """A read-only view of one generation of an index; safe to share between threads."""

    def __init__(self, index_dir: Path, generation: Path):
        self.index_dir = index_dir
        self.generation = generation
        """The manifest file of this snapshot (``gen-NNNNNN.json``)."""
        if generation.is_dir():
            raise IndexStoreError(
                f"{index_dir} holds an index of format 1 (whole-generation folders); "
                "rebuild it with `askculture ingest --model ...` into a new folder"
            )
        self.manifest = Manifest.from_file(generation)
        root = index_dir / SEGMENTS
        self.segments = [Segment.open(root, info) for info in self.manifest.segments]
        for seg in self.segments:  # load now: a later commit may retire the files
            _ = seg.data.vectors, seg.data.lexical
        self._lexical: LexicalIndex | None = None
        self._lock = threading.Lock()
        self._doc_cache: OrderedDict[str, Document] = OrderedDict()

    @classmethod
    def open(cls, index_dir: Path) -> IndexReader:
        """Open the live generation of ``index_dir``.

        Raises:
            IndexStoreError: The folder does not exist or holds no askculture index.
        """
        gen: Path | None = None
        for _ in range(10):  # a commit may retire the generation between reading CURRENT and now
            gen = current_generation(index_dir)
            if gen is None:
                if not index_dir.exists():
                    raise IndexStoreError(f"no index at {index_dir} (run `askculture ingest`)")
                raise IndexStoreError(f"{index_dir} is not an askculture index (no {CURRENT})")
            if gen.exists():
                try:
                    return cls(index_dir, gen)
                except IndexStoreError:
                    if current_generation(index_dir) == gen:
                        raise
            time.sleep(0.05)
        raise IndexStoreError(f"{index_dir}: live generation {gen} is missing")

    def check_model(self, model_id: str) -> None:
        """Raise :class:`ModelMismatchError` unless the index was built with ``model_id``."""
        if model_id != self.manifest.model_id:
            raise ModelMismatchError(
                f"index {self.index_dir} was built with {self.manifest.model_id!r}, not "
                f"{model_id!r}; query it with that model or rebuild it with "
                f"`askculture ingest --model ...`"
            )

    def __len__(self) -> int:
        return sum(s.info.live_chunks for s in self.segments)

    # -- search ------------------------------------------------------------------------------
    @property
    def lexical(self) -> LexicalIndex:
        """BM25 over the snapshot's live chunks."""
        if self._lexical is None:
            with self._lock:
                if self._lexical is None:
                    self._lexical = LexicalIndex([s.lexical_part() for s in self.segments])
        return self._lexical

    def search_dense(
        self, query: npt.NDArray[np.float32], n: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """Nearest live chunks by inner product (cosine for normalised vectors), best first."""
        if n <= 0 or (allowed is not None and not allowed):
            return []
        shared = vec.allowed_selector(allowed) if allowed is not None else None
        hits: list[tuple[int, float]] = []
        for seg in self.segments:
            if not seg.info.live_chunks:
                continue
            selector = shared if shared is not None else seg.selector()
            index = seg.data.vectors
            hits += vec.search(index, query, n, selector, seg.info.index_type == "hnsw")
        hits.sort(key=lambda h: -h[1])
        return hits[:n]

    def vector(self, chunk_id: int) -> npt.NDArray[np.float32]:
        """The stored vector of one chunk."""
        row: npt.NDArray[np.float32] = self.vectors([chunk_id])[0]
        return row

    def vectors(self, chunk_ids: list[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of these chunks, one row each, in the order given.

        Raises:
            IndexStoreError: One of them is not a live chunk of the index.
        """
        out = np.empty((len(chunk_ids), self.manifest.dim), dtype=np.float32)
        owners = self._segment_of(chunk_ids)
        groups: dict[int, tuple[Segment, list[int], list[int]]] = {}
        for row, cid in enumerate(chunk_ids):
            seg = owners.get(int(cid))
            if seg is None:
                raise IndexStoreError(f"chunk {cid} is not in the index")
            _, where, ids = groups.setdefault(id(seg), (seg, [], []))
            where.append(row)
            ids.append(int(cid))
        for seg, where, ids in groups.values():
            out[where] = seg.data.vectors.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        return out

    def chunk_ids(self) -> npt.NDArray[np.int64]:
        """Every live chunk id."""
        return self.lexical.ids

    def matched_terms(self, terms: list[str], chunk_ids: list[int]) -> dict[int, set[str]]:
        """Which of the query ``terms`` each chunk contains (title included)."""
        return self.lexical.matched(terms, chunk_ids)

    def filter_ids(
        self,
        date_from: str | None = None,
        date_to: str | None = None,
        langs: list[str] | None = None,
        sources: list[str] | None = None,
    ) -> set[int] | None:
        """Live chunk ids whose documents pass the filters; ``None`` when there are no filters.

        A document without a date never passes a date filter.
        """
        where: list[str] = []
        args: list[str] = []
        if date_from:
            where.append("d.date >= ?")
            args.append(date_from)
        if date_to:
            where.append("d.date <= ?")
            args.append(date_to)
        if langs:
            where.append(f"d.lang IN ({','.join('?' * len(langs))})")
            args.extend(langs)
        if sources:
            where.append("(" + " OR ".join("d.source LIKE ?" for _ in sources) + ")")
            args.extend(f"%{s}%" for s in sources)
        if not where:
            return None
        out: set[int] = set()
        for seg in self.segments:
            live_sql, live_args = seg.excluded("d.path")
            sql = (
                "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE "
                + " AND ".join([*where, live_sql])
            )
            out.update(int(r[0]) for r in seg.con.execute(sql, [*args, *live_args]))
        return out

    @functools.cached_property
    def language_means(self) -> dict[str, npt.NDArray[np.float32]]:
        """The mean vector of each document language's chunks ("" = unknown language).

        Read on first use (only language centering needs it): from ``languages.npz``, or, for a
        segment written before that file was, from its vectors (seconds at a million chunks).
        """
        return _language_means(self.segments, self.manifest.dim)

    # -- lookups -----------------------------------------------------------------------------
    def chunk_languages(self, chunk_ids: list[int]) -> dict[int, str]:
        """The document language of each live chunk ("" when unknown)."""
        out: dict[int, str] = {}
        for seg, ids, pos in self._live_positions(chunk_ids):
            names, codes = seg.data.languages.names, seg.data.languages.codes[pos].tolist()
            out.update(zip(ids.tolist(), (names[c] for c in codes), strict=True))
        return out

    def _segment_of(self, chunk_ids: list[int]) -> dict[int, Segment]:
        """The segment that holds each live chunk id (deleted and unknown ids left out)."""
        return {
            int(cid): seg for seg, ids, _ in self._live_positions(chunk_ids) for cid in ids.tolist()
        }

    def _live_positions(self, chunk_ids: list[int]) -> Iterator[tuple[Segment, Ints, Ints]]:
        """Per segment: which of ``chunk_ids`` are its live chunks, and their positions in it."""
        arr = np.asarray(chunk_ids, dtype=np.int64)
        for seg in self.segments:
            pos, found = seg.data.positions(arr)
            if seg.live is not None:
                found &= seg.live[pos]
            if found.any():
                yield seg, arr[found], pos[found]

    def document(self, doc_id: str) -> Document:
        """One document by id (an indexed lookup per segment; recent ones cached)."""
        with self._lock:
            doc = self._doc_cache.get(doc_id)
            if doc is not None:
                self._doc_cache.move_to_end(doc_id)
                return doc
        for seg in reversed(self.segments):
            row = seg.document_row(doc_id)
            if row is not None:
                doc = row_to_document(row)
                break
        else:
            raise IndexStoreError(f"document {doc_id} is not in the index")
        with self._lock:
            self._doc_cache[doc_id] = doc
            if len(self._doc_cache) > DOC_CACHE:
                self._doc_cache.popitem(last=False)
        return doc

    def chunks(self, rowids: list[int]) -> list[StoredChunk]:
        """The live chunks with these ids, in the order given (unknown ids are left out)."""
        if not rowids:
            return []
        by_seg: dict[int, list[int]] = {}
        owners = self._segment_of(rowids)
        for cid, seg in owners.items():
            by_seg.setdefault(id(seg), []).append(cid)
        rows = {}
        for seg in self.segments:
            ids = by_seg.get(id(seg))
            if not ids:
                continue
            marks = ",".join("?" * len(ids))
            for r in seg.con.execute(
                f"SELECT rowid, doc_id, n, start, end FROM chunks WHERE rowid IN ({marks})", ids
            ):
                rows[int(r["rowid"])] = r
        out = []
        for rid in rowids:
            r = rows.get(int(rid))
            if r is None:
                continue
            doc = self.document(r["doc_id"])
            text = doc.text[r["start"] : r["end"]]
            out.append(
                StoredChunk(int(rid), Chunk(doc.id, r["n"], text, r["start"], r["end"]), doc)
            )
        return out

    def doc_chunks(self, doc_id: str) -> list[StoredChunk]:
        """All chunks of one document, in order."""
        for seg in reversed(self.segments):
            if seg.document_row(doc_id) is not None:
                ids = [
                    int(r[0])
                    for r in seg.con.execute(
                        "SELECT rowid FROM chunks WHERE doc_id = ? ORDER BY n", (doc_id,)
                    )
                ]
                return self.chunks(ids)
        return []

    def file_states(self) -> dict[str, FileState]:
        """What the index knows of every source file, by path."""
        out: dict[str, FileState] = {}
        for seg in self.segments:
            live_sql, live_args = seg.excluded("path", "file")
            for r in seg.con.execute(f"SELECT * FROM files WHERE {live_sql}", live_args):
                out[r["path"]] = FileState(r["path"], r["size"], r["mtime_ns"], r["sha256"])
        return out

    def documents(self) -> list[Document]:
        """Every live document in the index (reads them all: for rebuilds and checks)."""
        out: list[Document] = []
        for seg in self.segments:
            live_sql, live_args = seg.excluded("path")
            rows = seg.con.execute(f"SELECT * FROM documents WHERE {live_sql}", live_args)
            out.extend(row_to_document(r) for r in rows)
        return out

    def sources(self) -> list[str]:
        """Distinct publishers, most frequent first."""
        counts: dict[str, int] = {}
        for seg in self.segments:
            live_sql, live_args = seg.excluded("path")
            for source, n in seg.con.execute(
                f"SELECT source, COUNT(*) FROM documents WHERE source IS NOT NULL AND {live_sql} "
                "GROUP BY source",
                live_args,
            ):
                counts[source] = counts.get(source, 0) + int(n)
        return sorted(counts, key=lambda s: -counts[s])

    def size_on_disk(self) -> int:
        """Bytes used by the snapshot: its manifest and its segments."""
        total = self.generation.stat().st_size
        for seg in self.segments:
            total += sum(p.stat().st_size for p in seg.data.folder.rglob("*") if p.is_file())
        return total

    def close(self) -> None:
        """Forget the snapshot's caches (segments close when no snapshot uses them)."""
        self._doc_cache.clear()
        self._lexical = None


def _language_means(segments: list[Segment], dim: int) -> dict[str, npt.NDArray[np.float32]]:
    """Each document language's mean chunk vector over the segments.

    Deleted chunks still count until their segment is merged: the mean is a statistic of the
    language's text, which a few removed documents barely move.
    """
    counts: dict[str, int] = {}
    sums: dict[str, npt.NDArray[np.float64]] = {}
    for seg in segments:
        langs = seg.data.languages
        for name, n, total in zip(langs.names, langs.counts().tolist(), langs.sums, strict=True):
            counts[name] = counts.get(name, 0) + n
            sums[name] = sums.get(name, np.zeros(dim)) + total
    return {k: (sums[k] / counts[k]).astype(np.float32) for k in sums if counts[k]}


__all__ = ["IndexReader"]
