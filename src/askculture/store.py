"""The index folder: FAISS vectors, SQLite metadata and a BM25 index, committed atomically.

Layout of an index directory::

    CURRENT              name of the live generation (replaced atomically on commit)
    gen-000007/          one complete, immutable generation
        manifest.json    format version, model id + dimension, chunking, counts
        vectors.faiss    FAISS index (IndexIDMap2) keyed by chunk row id
        meta.sqlite      files, documents and chunks
        lexical/         BM25 index over the same chunk row ids
    .lock                held by the one process writing

A writer copies the live generation into a temporary folder, applies its changes there, and only
then renames it into place and points ``CURRENT`` at it. A crash at any moment leaves the previous
generation live and whole; readers keep the generation they opened.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from filelock import FileLock, Timeout

from askculture.chunking import Chunk
from askculture.documents import Document
from askculture.errors import IndexBusyError, IndexStoreError, ModelMismatchError
from askculture.lexical import LexicalIndex

FORMAT_VERSION = 1
CURRENT = "CURRENT"
LOCK = ".lock"
HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, date TEXT, lang TEXT,
    source TEXT, url TEXT, text TEXT NOT NULL, sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents(id), n INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, terms TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""


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
class Manifest:
    """What an index was built with, and what it holds."""

    model: str
    model_id: str
    dim: int
    query_prefix: str
    passage_prefix: str
    chunking: dict[str, Any]
    format_version: int = FORMAT_VERSION
    index_type: str = "flat"
    generation: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)

    def to_json(self) -> str:
        """Serialise for ``manifest.json``."""
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        """Read ``manifest.json``; raise :class:`IndexStoreError` when it is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format_version") != FORMAT_VERSION:
                raise IndexStoreError(
                    f"index format {data.get('format_version')} is not supported "
                    f"(expected {FORMAT_VERSION}); rebuild the index"
                )
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexStoreError(f"{path.parent} has no readable manifest: {exc}") from exc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in sorted(path.rglob("*")):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    for d in [path, *[p for p in path.rglob("*") if p.is_dir()]]:
        _fsync_dir(d)


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder of ``index_dir``, or ``None`` if it holds no index yet."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexStoreError(f"cannot read {index_dir / CURRENT}: {exc}") from exc
    if not name.startswith("gen-") or "/" in name:
        raise IndexStoreError(f"{index_dir} is not an askculture index (bad {CURRENT} file)")
    return index_dir / name


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    con.row_factory = sqlite3.Row
    return con


def _vector_index(dim: int) -> Any:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _hnsw_index(dim: int) -> Any:
    hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(hnsw)


def _file_states(con: sqlite3.Connection) -> dict[str, FileState]:
    return {
        r["path"]: FileState(r["path"], r["size"], r["mtime_ns"], r["sha256"])
        for r in con.execute("SELECT * FROM files")
    }


def _row_to_document(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"], path=row["path"], title=row["title"], date=row["date"], lang=row["lang"],
        source=row["source"], url=row["url"], text=row["text"], sha256=row["sha256"],
    )  # fmt: skip


class IndexReader:
    """A read-only view of one generation of an index; safe to share between threads."""

    def __init__(self, index_dir: Path, generation: Path):
        self.index_dir = index_dir
        self.generation = generation
        self.manifest = Manifest.from_file(generation / "manifest.json")
        try:
            self.vectors: Any = faiss.read_index(str(generation / "vectors.faiss"))
            self.lexical = LexicalIndex.load(generation / "lexical")
            self._con = _connect(generation / "meta.sqlite", readonly=True)
        except (OSError, RuntimeError, ValueError, sqlite3.Error) as exc:
            raise IndexStoreError(f"index generation {generation} is unreadable: {exc}") from exc
        if self.manifest.index_type == "hnsw":
            faiss.downcast_index(self.vectors.index).hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]
        self._doc_cache: dict[str, Document] = {}

    @classmethod
    def open(cls, index_dir: Path) -> IndexReader:
        """Open the live generation of ``index_dir``.

        Raises:
            IndexStoreError: The folder does not exist or holds no askculture index.
        """
        for _ in range(5):  # a commit may retire the generation between reading CURRENT and now
            gen = current_generation(index_dir)
            if gen is None:
                if not index_dir.exists():
                    raise IndexStoreError(f"no index at {index_dir} (run `askculture ingest`)")
                raise IndexStoreError(f"{index_dir} is not an askculture index (no {CURRENT})")
            if gen.is_dir():
                return cls(index_dir, gen)
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
        return int(self.vectors.ntotal)

    def search_dense(
        self, query: npt.NDArray[np.float32], n: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """Nearest chunks by inner product (cosine for normalised vectors), best first."""
        if self.vectors.ntotal == 0 or n <= 0 or (allowed is not None and not allowed):
            return []
        params: Any = None
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64))
            params = (
                faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, n))  # type: ignore[attr-defined]
                if self.manifest.index_type == "hnsw"
                else faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
            )
        scores, ids = self.vectors.search(query.reshape(1, -1), min(n, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def filter_ids(
        self,
        date_from: str | None = None,
        date_to: str | None = None,
        langs: list[str] | None = None,
        sources: list[str] | None = None,
    ) -> set[int] | None:
        """Chunk row ids whose documents pass the filters; ``None`` when there are no filters.

        A document without a date never passes a date filter.
        """
        where, args = [], []
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
        sql = (
            "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE "
            + " AND ".join(where)
        )
        return {int(r[0]) for r in self._con.execute(sql, args)}

    def document(self, doc_id: str) -> Document:
        """One document by id (cached)."""
        doc = self._doc_cache.get(doc_id)
        if doc is None:
            row = self._con.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if row is None:
                raise IndexStoreError(f"document {doc_id} is not in the index")
            doc = _row_to_document(row)
            if len(self._doc_cache) < 10_000:
                self._doc_cache[doc_id] = doc
        return doc

    def chunks(self, rowids: list[int]) -> list[StoredChunk]:
        """The chunks with these row ids, in the order given (unknown ids are left out)."""
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        rows = {
            int(r["rowid"]): r
            for r in self._con.execute(
                f"SELECT rowid, doc_id, n, start, end FROM chunks WHERE rowid IN ({marks})",
                rowids,
            )
        }
        out = []
        for rid in rowids:
            r = rows.get(rid)
            if r is None:
                continue
            doc = self.document(r["doc_id"])
            text = doc.text[r["start"] : r["end"]]
            out.append(StoredChunk(rid, Chunk(doc.id, r["n"], text, r["start"], r["end"]), doc))
        return out

    def chunk_terms(self, rowids: list[int]) -> dict[int, set[str]]:
        """The lexical terms stored for these chunks (title included), by row id."""
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self._con.execute(
            f"SELECT rowid, terms FROM chunks WHERE rowid IN ({marks})", rowids
        )
        return {int(r[0]): set(r[1].split()) for r in rows}

    def doc_chunks(self, doc_id: str) -> list[StoredChunk]:
        """All chunks of one document, in order."""
        ids = [
            int(r[0])
            for r in self._con.execute(
                "SELECT rowid FROM chunks WHERE doc_id = ? ORDER BY n", (doc_id,)
            )
        ]
        return self.chunks(ids)

    def file_states(self) -> dict[str, FileState]:
        """What the index knows of every source file, by path."""
        return _file_states(self._con)

    def documents(self) -> list[Document]:
        """Every document in the index."""
        return [_row_to_document(r) for r in self._con.execute("SELECT * FROM documents")]

    def sources(self) -> list[str]:
        """Distinct publishers, most frequent first."""
        rows = self._con.execute(
            "SELECT source FROM documents WHERE source IS NOT NULL "
            "GROUP BY source ORDER BY COUNT(*) DESC"
        )
        return [r[0] for r in rows]

    def size_on_disk(self) -> int:
        """Bytes used by the live generation."""
        return sum(p.stat().st_size for p in self.generation.rglob("*") if p.is_file())

    def close(self) -> None:
        """Close the SQLite connection."""
        self._con.close()


class IndexWriter:
    """Change an index in a new generation and commit it atomically.

    Use as a context manager: changes are committed when the block ends without an exception
    and thrown away otherwise (or when the process dies).
    """

    def __init__(
        self,
        index_dir: Path,
        manifest: Manifest,
        *,
        rebuild: bool = False,
        lock_timeout: float = 0.0,
        exact_search_max: int = 20_000,
    ):
        self.index_dir = index_dir
        self.manifest = manifest
        self.rebuild = rebuild
        self.lock_timeout = lock_timeout
        self.exact_search_max = exact_search_max
        self._lock: FileLock | None = None
        self._work: Path | None = None
        self._con: sqlite3.Connection | None = None
        self._vectors: Any = None
        self.previous: Manifest | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> IndexWriter:
        if self.index_dir.exists() and not self.index_dir.is_dir():
            raise IndexStoreError(f"{self.index_dir} is a file, not an index directory")
        if self.index_dir.is_dir() and not (self.index_dir / CURRENT).exists():
            foreign = [
                p.name for p in self.index_dir.iterdir() if not p.name.startswith((".", "gen-"))
            ]
            if foreign:
                raise IndexStoreError(
                    f"{self.index_dir} is not empty and not an askculture index; "
                    "choose another --index directory"
                )
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.index_dir / LOCK))
        try:
            self._lock.acquire(timeout=self.lock_timeout)
        except Timeout as exc:
            raise IndexBusyError(
                f"another ingest is writing to {self.index_dir}; try again when it is done"
            ) from exc
        try:
            self._start()
        except BaseException:
            self._abort()
            raise
        return self

    def _start(self) -> None:
        self._clean_stale()
        work = self.index_dir / f".tmp-{uuid.uuid4().hex[:12]}"
        work.mkdir()
        self._work = work
        live = current_generation(self.index_dir)
        if live is not None and not self.rebuild:
            self.previous = Manifest.from_file(live / "manifest.json")
            shutil.copy2(live / "meta.sqlite", work / "meta.sqlite")
            self._vectors = faiss.read_index(str(live / "vectors.faiss"))
            self.manifest.created = self.previous.created
            self.manifest.generation = self.previous.generation
            self.manifest.index_type = self.previous.index_type
        else:
            if live is not None:
                self.previous = Manifest.from_file(live / "manifest.json")
                self.manifest.generation = self.previous.generation
            self._vectors = _vector_index(self.manifest.dim)
        self._con = _connect(work / "meta.sqlite", readonly=False)
        self._con.executescript(SCHEMA)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            self._abort()

    def _abort(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._work is not None and self._work.exists():
            shutil.rmtree(self._work, ignore_errors=True)
        self._work = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _clean_stale(self) -> None:
        """Remove leftovers of interrupted writers and generations older than the previous."""
        live = current_generation(self.index_dir)
        gens = sorted(p for p in self.index_dir.glob("gen-*") if p.is_dir())
        keep = {live} if live else set()
        if live is not None:
            older = [g for g in gens if g.name < live.name]
            if older:
                keep.add(older[-1])  # a reader may still hold the previous generation
        for p in self.index_dir.iterdir():
            if p.name.startswith(".tmp-") or (p.name.startswith("gen-") and p not in keep):
                shutil.rmtree(p, ignore_errors=True)

    # -- reading state ---------------------------------------------------------------------
    @property
    def con(self) -> sqlite3.Connection:
        """The SQLite connection of the generation being written."""
        assert self._con is not None, "use IndexWriter as a context manager"
        return self._con

    def file_states(self) -> dict[str, FileState]:
        """What the index knows of every source file, by path."""
        return _file_states(self.con)

    # -- changes -----------------------------------------------------------------------------
    def remove_file(self, path: str) -> int:
        """Remove a source file, its documents, chunks and vectors; return documents removed."""
        doc_ids = [
            r[0] for r in self.con.execute("SELECT id FROM documents WHERE path = ?", (path,))
        ]
        for doc_id in doc_ids:
            rows = self.con.execute("SELECT rowid FROM chunks WHERE doc_id = ?", (doc_id,))
            rowids = [int(r[0]) for r in rows]
            if rowids:
                self._remove_vectors(rowids)
            self.con.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self.con.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        self.con.execute("DELETE FROM files WHERE path = ?", (path,))
        return len(doc_ids)

    def add_file(
        self,
        state: FileState,
        docs: list[tuple[Document, list[Chunk], list[list[str]], npt.NDArray[np.float32]]],
    ) -> None:
        """Add a source file with its documents, chunks, chunk terms and chunk vectors."""
        assert self._vectors is not None
        self.con.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
            (state.path, state.size, state.mtime_ns, state.sha256),
        )
        for doc, chunks, terms, vectors in docs:
            if len(chunks) != len(vectors) or len(chunks) != len(terms):
                raise IndexStoreError(f"{doc.path}: chunks, terms and vectors differ in number")
            self.con.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc.id, doc.path, doc.title, doc.date, doc.lang, doc.source, doc.url, doc.text,
                 doc.sha256),
            )  # fmt: skip
            rowids = []
            for ch, t in zip(chunks, terms, strict=True):
                cur = self.con.execute(
                    "INSERT INTO chunks (id, doc_id, n, start, end, terms) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (ch.id, ch.doc_id, ch.n, ch.start, ch.end, " ".join(t)),
                )
                rowids.append(int(cur.lastrowid or 0))
            if rowids:
                self._vectors.add_with_ids(
                    np.ascontiguousarray(vectors, dtype=np.float32),
                    np.asarray(rowids, dtype=np.int64),
                )

    def _remove_vectors(self, rowids: list[int]) -> None:
        if self.manifest.index_type == "flat":
            self._vectors.remove_ids(np.asarray(rowids, dtype=np.int64))
            return
        # HNSW graphs cannot forget nodes: rebuild the graph from the stored vectors
        ids = faiss.vector_to_array(self._vectors.id_map).astype(np.int64)
        keep = ~np.isin(ids, np.asarray(rowids, dtype=np.int64))
        vectors = self._vectors.index.reconstruct_n(0, len(ids))
        self._vectors = _hnsw_index(self.manifest.dim)
        self._vectors.add_with_ids(vectors[keep], ids[keep])

    def _choose_index_type(self) -> None:
        """Switch between exact (flat) and approximate (HNSW) search at the configured size."""
        n = int(self._vectors.ntotal)
        want = "hnsw" if n > self.exact_search_max else "flat"
        if want == self.manifest.index_type:
            return
        ids = faiss.vector_to_array(self._vectors.id_map).astype(np.int64)
        vectors = self._vectors.index.reconstruct_n(0, n) if n else None
        self._vectors = (
            _hnsw_index(self.manifest.dim) if want == "hnsw" else _vector_index(self.manifest.dim)
        )
        if vectors is not None:
            self._vectors.add_with_ids(vectors, ids)
        self.manifest.index_type = want

    # -- commit ------------------------------------------------------------------------------
    def _commit(self) -> None:
        assert self._work is not None and self._vectors is not None
        con = self.con
        con.commit()
        n_vec = int(self._vectors.ntotal)
        (n_chunks,) = con.execute("SELECT COUNT(*) FROM chunks").fetchone()
        if n_vec != n_chunks:
            raise IndexStoreError(f"refusing to commit: {n_vec} vectors for {n_chunks} chunks")
        ids: list[int] = []
        terms: list[list[str]] = []
        for rowid, t in con.execute("SELECT rowid, terms FROM chunks ORDER BY rowid"):
            ids.append(int(rowid))
            terms.append(t.split())
        LexicalIndex.build(ids, terms).save(self._work / "lexical")
        langs = dict(
            con.execute("SELECT COALESCE(lang, '?'), COUNT(*) FROM documents GROUP BY 1").fetchall()
        )
        (n_docs,) = con.execute("SELECT COUNT(*) FROM documents").fetchone()
        (n_files,) = con.execute("SELECT COUNT(*) FROM files").fetchone()
        con.close()
        self._con = None
        self._choose_index_type()
        faiss.write_index(self._vectors, str(self._work / "vectors.faiss"))
        m = self.manifest
        m.generation += 1
        m.updated = time.time()
        m.counts = {"files": int(n_files), "documents": int(n_docs), "chunks": int(n_chunks)}
        m.languages = {str(k): int(v) for k, v in langs.items()}
        (self._work / "manifest.json").write_text(m.to_json(), encoding="utf-8")
        _fsync_tree(self._work)
        gen = self.index_dir / f"gen-{m.generation:06d}"
        if gen.exists():  # left by a crash after rename but before CURRENT moved
            shutil.rmtree(gen)
        os.rename(self._work, gen)
        self._work = None
        tmp = self.index_dir / f".{CURRENT}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(gen.name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.index_dir / CURRENT)
        _fsync_dir(self.index_dir)
        self._clean_stale()
