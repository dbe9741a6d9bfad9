"""Immutable segments: a folder of metadata, vectors and postings for some chunks.

Layout of ``segments/seg-NNNNNN-xxxxxxxx/``::

    meta.sqlite          files, documents and chunks (a chunk's rowid is its global chunk id)
    ids.npy              the segment's chunk ids, ascending (position i <-> ids[i])
    vectors.faiss        FAISS IndexIDMap2 keyed by chunk id: exact (flat) or HNSW by size
    lexical/             BM25 postings (see :mod:`askculture.store.lexical`)
    languages.npz        each chunk's document language, and per language the sum of its vectors
    del-NNNNNN.npz       deletions as of generation NNNNNN, written by a later commit

Nothing in a segment changes after it is written; a later commit records deletions in a new
``del-*.npz`` file (deleted chunk ids, and the paths whose documents or file rows are gone) and
names it in its manifest. Segments are opened once per process and shared by every snapshot
that lists them (:func:`open_segment`).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from askculture.chunking import Chunk
from askculture.documents import Document
from askculture.errors import IndexStoreError
from askculture.store.lexical import LexicalPart, LexicalSegment
from askculture.store.manifest import SegmentInfo, fsync_tree
from askculture.store.vectors import build_vectors, live_selector

SCHEMA = """
CREATE TABLE files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL
);
CREATE TABLE documents (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, date TEXT, lang TEXT,
    source TEXT, url TEXT, text TEXT NOT NULL, sha256 TEXT NOT NULL
);
CREATE INDEX documents_path ON documents(path);
CREATE INDEX documents_date ON documents(date);
CREATE TABLE chunks (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, doc_id TEXT NOT NULL,
    n INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id);
"""

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Languages:
    """The document languages of a segment's chunks ("" when unknown)."""

    names: list[str]
    codes: npt.NDArray[np.uint16]  # per chunk position: its language's index in ``names``
    sums: npt.NDArray[np.float64]  # per language: the sum of its chunks' vectors

    @classmethod
    def of(cls, con: sqlite3.Connection, ids: Ints, vectors: npt.NDArray[np.float32]) -> Languages:
        """Read the languages of chunks ``ids`` (with these vectors) from a segment's SQLite."""
        sql = (
            "SELECT c.rowid, COALESCE(d.lang, '') FROM chunks c JOIN documents d ON d.id = c.doc_id"
        )
        lang_of = dict(con.execute(sql))
        per_chunk = np.asarray([lang_of.get(int(i), "") for i in ids], dtype=str)
        names, codes = np.unique(per_chunk, return_inverse=True)
        sums = np.zeros((len(names), vectors.shape[1]))
        for k in range(len(names)):
            sums[k] = vectors[codes == k].sum(axis=0, dtype=np.float64)
        return cls([str(n) for n in names], codes.astype(np.uint16), sums)

    @classmethod
    def load(cls, path: Path) -> Languages:
        """Read ``languages.npz``."""
        with np.load(path) as f:
            return cls([str(n) for n in f["names"]], f["codes"], f["sums"])

    def save(self, path: Path) -> None:
        """Write ``languages.npz``."""
        np.savez(path, names=np.asarray(self.names, dtype=str), codes=self.codes, sums=self.sums)

    def counts(self) -> npt.NDArray[np.int64]:
        """How many chunks each language has."""
        return np.bincount(self.codes, minlength=len(self.names))


@dataclass(frozen=True, slots=True)
class FileState:
    """What the index remembers about a source file, to skip it when unchanged."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk read back from the index, with its document's metadata."""

    rowid: int
    chunk: Chunk
    document: Document


@dataclass
class Removed:
    """Deletions of one segment: paths whose documents (and chunks) or file rows are gone."""

    doc_paths: set[str] = field(default_factory=set)
    file_paths: set[str] = field(default_factory=set)
    ids: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def save(self, path: Path) -> None:
        """Write as ``del-NNNNNN.npz`` (no pickles)."""
        with open(path, "wb") as fh:
            np.savez(
                fh,
                ids=self.ids,
                doc_paths=np.asarray(sorted(self.doc_paths), dtype=np.str_),
                file_paths=np.asarray(sorted(self.file_paths), dtype=np.str_),
            )

    @classmethod
    def load(cls, path: Path) -> Removed:
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                set(data["doc_paths"].tolist()),
                set(data["file_paths"].tolist()),
                np.asarray(data["ids"], dtype=np.int64),
            )


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """A connection to a segment's ``meta.sqlite`` (immutable once written)."""
    uri = f"file:{path}?mode=ro&immutable=1" if readonly else f"file:{path}"
    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    con.row_factory = sqlite3.Row
    return con


def row_to_document(row: sqlite3.Row) -> Document:
    """A ``documents`` row as a :class:`Document`."""
    return Document(
        id=row["id"], path=row["path"], title=row["title"], date=row["date"], lang=row["lang"],
        source=row["source"], url=row["url"], text=row["text"], sha256=row["sha256"],
    )  # fmt: skip


class SegmentData:
    """The immutable contents of one segment folder; vectors and postings load on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        try:
            self.ids: Ints = np.load(folder / "ids.npy")
            self.con = connect(folder / "meta.sqlite", readonly=True)
        except (OSError, ValueError, sqlite3.Error) as exc:
            raise IndexStoreError(f"index segment {folder} is unreadable: {exc}") from exc

    @functools.cached_property
    def vectors(self) -> Any:
        """The segment's FAISS index (loaded on first use)."""
        try:
            return faiss.read_index(str(self.folder / "vectors.faiss"))
        except RuntimeError as exc:
            raise IndexStoreError(f"{self.folder}: vectors unreadable: {exc}") from exc

    @functools.cached_property
    def lexical(self) -> LexicalSegment:
        """The segment's postings (memory-mapped on first use)."""
        try:
            return LexicalSegment.load(self.folder / "lexical")
        except (OSError, ValueError) as exc:
            raise IndexStoreError(f"{self.folder}: postings unreadable: {exc}") from exc

    @functools.cached_property
    def languages(self) -> Languages:
        """The document languages of the segment's chunks (read from the SQLite and the
        vectors for segments written before ``languages.npz`` was)."""
        try:
            return Languages.load(self.folder / "languages.npz")
        except FileNotFoundError:
            return Languages.of(self.con, *_all_vectors(self.vectors))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexStoreError(f"{self.folder}: languages.npz unreadable: {exc}") from exc

    def positions(self, chunk_ids: Ints) -> tuple[Ints, npt.NDArray[np.bool_]]:
        """Positions of ``chunk_ids`` in this segment, and which of them it holds."""
        if not len(self.ids):
            return np.zeros(len(chunk_ids), dtype=np.int64), np.zeros(len(chunk_ids), bool)
        pos = np.minimum(np.searchsorted(self.ids, chunk_ids), len(self.ids) - 1)
        return pos, self.ids[pos] == chunk_ids

    def __del__(self) -> None:
        con = getattr(self, "con", None)
        if con is not None:
            con.close()


_open: weakref.WeakValueDictionary[str, SegmentData] = weakref.WeakValueDictionary()
_open_lock = threading.Lock()


def open_segment(folder: Path) -> SegmentData:
    """The segment at ``folder``, shared with every other snapshot of this process."""
    key = str(folder.resolve())
    with _open_lock:
        data = _open.get(key)
        if data is None:
            data = SegmentData(folder)
            _open[key] = data
        return data


class Segment:
    """A segment as one snapshot sees it: its data and the deletions of that snapshot."""

    def __init__(self, info: SegmentInfo, data: SegmentData, removed: Removed):
        self.info = info
        self.data = data
        self.removed = removed
        self.deleted: Ints = np.sort(removed.ids)
        live = None
        if len(self.deleted):
            pos, found = data.positions(self.deleted)
            live = np.ones(len(data.ids), dtype=bool)
            live[pos[found]] = False
        self.live: npt.NDArray[np.bool_] | None = live
        self._selector: Any = None

    @classmethod
    def open(cls, root: Path, info: SegmentInfo) -> Segment:
        """Open ``info``'s segment under ``root`` (the index's ``segments/`` folder)."""
        folder = root / info.name
        data = open_segment(folder)
        removed = Removed()
        if info.deletions is not None:
            try:
                removed = Removed.load(folder / info.deletions.file)
            except (OSError, ValueError, KeyError) as exc:
                raise IndexStoreError(f"{folder}: deletions unreadable: {exc}") from exc
        return cls(info, data, removed)

    @property
    def name(self) -> str:
        """The segment's folder name."""
        return self.info.name

    @property
    def con(self) -> sqlite3.Connection:
        """The segment's read-only SQLite connection."""
        return self.data.con

    def lexical_part(self) -> LexicalPart:
        """The segment's postings with this snapshot's live chunks."""
        return LexicalPart(self.data.lexical, self.data.ids, self.live)

    def live_ids(self) -> Ints:
        """The live chunk ids of the segment."""
        return self.data.ids if self.live is None else self.data.ids[self.live]

    def selector(self) -> Any:
        """A FAISS selector of the live chunks; None when none is deleted."""
        if self._selector is None and len(self.deleted):
            self._selector = live_selector(self.deleted)
        return self._selector

    def has_doc_path(self, path: str) -> bool:
        """True when the segment holds live documents of ``path``."""
        if path in self.removed.doc_paths:
            return False
        return (
            self.con.execute("SELECT 1 FROM documents WHERE path = ? LIMIT 1", (path,)).fetchone()
            is not None
        )

    def has_file(self, path: str) -> bool:
        """True when the segment holds the live file row of ``path``."""
        if path in self.removed.file_paths:
            return False
        return (
            self.con.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone() is not None
        )

    def document_row(self, doc_id: str) -> sqlite3.Row | None:
        """The live ``documents`` row of ``doc_id``, if this segment has it."""
        row = self.con.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None or row["path"] in self.removed.doc_paths:
            return None
        return row  # type: ignore[no-any-return]

    def excluded(self, column: str, kind: str = "doc") -> tuple[str, list[str]]:
        """A SQL condition leaving out deleted paths (``column`` holds a path), and its args."""
        paths = self.removed.doc_paths if kind == "doc" else self.removed.file_paths
        if not paths:
            return "1", []
        return f"{column} NOT IN (SELECT value FROM json_each(?))", [json.dumps(sorted(paths))]


# --------------------------------------------------------------------------------------------
# Writing segments
# --------------------------------------------------------------------------------------------


@dataclass
class NewChunks:
    """Rows of a segment to write (chunk ids ascending)."""

    files: list[FileState] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    chunks: list[tuple[int, Chunk]] = field(default_factory=list)
    vectors: list[npt.NDArray[np.float32]] = field(default_factory=list)
    terms: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.chunks)


def _languages(con: sqlite3.Connection) -> dict[str, int]:
    rows = con.execute("SELECT COALESCE(lang, '?'), COUNT(*) FROM documents GROUP BY 1")
    return {str(k): int(v) for k, v in rows}


def _info(folder: Path, con: sqlite3.Connection, index_type: str) -> SegmentInfo:
    def count(table: str) -> int:
        return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    return SegmentInfo(
        folder.name, count("chunks"), count("documents"), count("files"), index_type,
        _languages(con),
    )  # fmt: skip


def write_segment(folder: Path, rows: NewChunks, dim: int, exact_search_max: int) -> SegmentInfo:
    """Write a new segment folder from ``rows`` (fsynced)."""
    folder.mkdir(parents=True)
    con = connect(folder / "meta.sqlite", readonly=False)
    try:
        con.executescript(SCHEMA)
        con.executemany(
            "INSERT INTO files VALUES (?, ?, ?, ?)",
            [(f.path, f.size, f.mtime_ns, f.sha256) for f in rows.files],
        )
        con.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(d.id, d.path, d.title, d.date, d.lang, d.source, d.url, d.text, d.sha256)
             for d in rows.documents],
        )  # fmt: skip
        con.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
            [(cid, c.id, c.doc_id, c.n, c.start, c.end) for cid, c in rows.chunks],
        )
        con.commit()
        ids = np.asarray([cid for cid, _ in rows.chunks], dtype=np.int64)
        vectors = (
            np.concatenate(rows.vectors).astype(np.float32, copy=False)
            if rows.vectors
            else np.zeros((0, dim), dtype=np.float32)
        )
        index_type = _write_arrays(folder, con, ids, vectors, dim, exact_search_max)
        LexicalSegment.build(rows.terms).save(folder / "lexical")
        info = _info(folder, con, index_type)
    finally:
        con.close()
    fsync_tree(folder)
    return info


def _write_arrays(
    folder: Path,
    con: sqlite3.Connection,
    ids: Ints,
    vectors: npt.NDArray[np.float32],
    dim: int,
    exact_search_max: int,
) -> str:
    if len(ids) != len(vectors):
        raise IndexStoreError(f"refusing to write {len(vectors)} vectors for {len(ids)} chunks")
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        raise IndexStoreError("chunk ids of a segment must ascend")
    np.save(folder / "ids.npy", ids)
    Languages.of(con, ids, vectors).save(folder / "languages.npz")
    index, index_type = build_vectors(vectors, ids, dim, exact_search_max)
    faiss.write_index(index, str(folder / "vectors.faiss"))
    return index_type


def merge_segments(
    folder: Path, sources: Sequence[Segment], dim: int, exact_search_max: int
) -> SegmentInfo:
    """Write one segment holding the live contents of ``sources`` (deletions dropped)."""
    folder.mkdir(parents=True)
    con = connect(folder / "meta.sqlite", readonly=False)
    try:
        con.executescript(SCHEMA)
        for seg in sources:
            con.execute(
                "ATTACH DATABASE ? AS src", (f"file:{seg.data.folder / 'meta.sqlite'}?mode=ro",)
            )
            files_sql, files_args = seg.excluded("path", "file")
            docs_sql, docs_args = seg.excluded("path")
            con.execute(f"INSERT INTO files SELECT * FROM src.files WHERE {files_sql}", files_args)
            con.execute(
                f"INSERT INTO documents SELECT * FROM src.documents WHERE {docs_sql}", docs_args
            )
            con.execute(
                "INSERT INTO chunks SELECT c.* FROM src.chunks c JOIN src.documents d "
                f"ON d.id = c.doc_id WHERE {docs_sql.replace('path', 'd.path')}",
                docs_args,
            )
            con.commit()
            con.execute("DETACH DATABASE src")
        live = [seg.live_ids() for seg in sources]
        ids = np.concatenate(live) if live else np.zeros(0, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        new_pos = np.empty(len(ids), dtype=np.int64)
        new_pos[order] = np.arange(len(ids), dtype=np.int64)
        parts, vecs, offset = [], [], 0
        for seg in sources:
            where = np.full(len(seg.data.ids), -1, dtype=np.int64)
            n_live = len(seg.data.ids) if seg.live is None else int(seg.live.sum())
            if seg.live is None:
                where[:] = new_pos[offset : offset + n_live]
            else:
                where[seg.live] = new_pos[offset : offset + n_live]
            offset += n_live
            parts.append((seg.data.lexical, where))
            vecs.append(_live_vectors(seg, dim))
        vectors = np.concatenate(vecs)[order] if vecs else np.zeros((0, dim), np.float32)
        del vecs
        index_type = _write_arrays(folder, con, ids, vectors, dim, exact_search_max)
        del vectors
        LexicalSegment.merge(parts, len(ids)).save(folder / "lexical")
        (n_chunks,) = con.execute("SELECT COUNT(*) FROM chunks").fetchone()
        if n_chunks != len(ids):
            raise IndexStoreError(f"merge lost rows: {n_chunks} chunks for {len(ids)} vectors")
        info = _info(folder, con, index_type)
    finally:
        con.close()
    fsync_tree(folder)
    return info


def _all_vectors(index: Any) -> tuple[Ints, npt.NDArray[np.float32]]:
    """Every vector of a segment's FAISS index and its chunk id, in chunk id order."""
    n = int(index.ntotal)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, index.d), dtype=np.float32)
    stored_ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    vectors = index.index.reconstruct_n(0, n)
    order = np.argsort(stored_ids, kind="stable")
    return stored_ids[order], np.ascontiguousarray(vectors[order], dtype=np.float32)


def _live_vectors(seg: Segment, dim: int) -> npt.NDArray[np.float32]:
    """The live vectors of a segment, in chunk id order."""
    _, vectors = _all_vectors(seg.data.vectors)
    if not len(vectors):
        return np.zeros((0, dim), dtype=np.float32)
    if seg.live is not None:
        vectors = vectors[seg.live]
    return np.ascontiguousarray(vectors, dtype=np.float32)


__all__ = [
    "FileState",
    "Languages",
    "NewChunks",
    "Removed",
    "Segment",
    "SegmentData",
    "StoredChunk",
    "connect",
    "merge_segments",
    "open_segment",
    "row_to_document",
    "write_segment",
]
