"""Changing an index: new segments for what was added, deletions for what was removed.

A writer holds the index's lock, buffers added chunks and writes them as a new segment (more
than one when the buffer passes ``segment_chunks``), records removals as deletions of the
segments that held them, and commits by publishing a new manifest. Nothing already committed
is copied or rewritten, so a commit costs what changed, not what the index holds. Small
segments are merged at commit once there are ``merge_factor`` of them (a bounded cost);
large merges are :func:`askculture.store.merge.compact`'s.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
from filelock import FileLock, Timeout

from askculture.chunking import Chunk
from askculture.documents import Document
from askculture.errors import IndexBusyError, IndexStoreError
from askculture.store.manifest import (
    CURRENT,
    SEGMENTS,
    Deletions,
    Manifest,
    current_generation,
    fsync_dir,
    manifest_name,
    publish,
)
from askculture.store.segment import (
    FileState,
    NewChunks,
    Removed,
    Segment,
    SegmentData,
    merge_segments,
    write_segment,
)

LOCK = ".lock"
MERGE_LOCK = ".merge.lock"

FileDocs = list[tuple[Document, list[Chunk], list[list[str]], npt.NDArray[np.float32]]]


@dataclass
class _Buffered:
    """A file added in this session and not yet written to a segment."""

    state: FileState
    docs: list[Document] = field(default_factory=list)
    chunks: list[tuple[int, Chunk, list[str], npt.NDArray[np.float32]]] = field(
        default_factory=list
    )


@dataclass
class _Deleted:
    """Deletions made in this session in one segment."""

    removed: Removed = field(default_factory=Removed)
    documents: int = 0
    languages: dict[str, int] = field(default_factory=dict)


def merge_running(index_dir: Path) -> bool:
    """True while a compaction holds the index's merge lock."""
    lock = FileLock(str(index_dir / MERGE_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def clean_stale(index_dir: Path) -> None:
    """Remove what no live or previous manifest names (call with the writer lock held).

    The manifest before the live one is kept with its segments: a reader may still hold it.
    """
    live = current_generation(index_dir)
    manifests = sorted(index_dir.glob("gen-*.json"))
    keep: list[Path] = []
    if live is not None and live.exists():
        keep = [live]
        older = [m for m in manifests if m.name < live.name]
        if older:
            keep.append(older[-1])
    wanted: dict[str, set[str]] = {}
    for m in keep:
        try:
            manifest = Manifest.from_file(m)
        except IndexStoreError:
            continue
        for s in manifest.segments:
            files = wanted.setdefault(s.name, set())
            if s.deletions is not None:
                files.add(s.deletions.file)
    for p in index_dir.iterdir():
        stale_manifest = p.name.startswith("gen-") and p.is_file() and p not in keep
        if p.name.startswith(".tmp-") or stale_manifest:
            _remove(p)
        elif p.name.startswith(".") and p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)
    root = index_dir / SEGMENTS
    if root.is_dir():
        for seg in root.iterdir():
            if seg.name not in wanted:
                _remove(seg)
                continue
            for f in seg.glob("del-*.npz"):
                if f.name not in wanted[seg.name]:
                    f.unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def apply_deletions(seg: Segment, extra: _Deleted, generation: int) -> Segment:
    """``seg`` with ``extra`` deletions added (their file is written by :func:`save_deletions`)."""
    old = seg.removed
    cum = Removed(
        old.doc_paths | extra.removed.doc_paths,
        old.file_paths | extra.removed.file_paths,
        np.union1d(old.ids, extra.removed.ids).astype(np.int64),
    )
    before = seg.info.deletions
    langs = dict(before.languages) if before else {}
    for lang, n in extra.languages.items():
        langs[lang] = langs.get(lang, 0) + n
    dels = Deletions(
        file=f"del-{generation:06d}.npz",
        chunks=len(cum.ids),
        documents=(before.documents if before else 0) + extra.documents,
        files=len(cum.file_paths),
        languages=langs,
    )
    return Segment(replace(seg.info, deletions=dels), seg.data, cum)


class IndexWriter:
    """Change an index and commit it atomically.

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
        segment_chunks: int = 100_000,
        merge_small_chunks: int = 20_000,
        merge_factor: int = 8,
    ):
        self.index_dir = index_dir
        self.manifest = manifest
        self.rebuild = rebuild
        self.lock_timeout = lock_timeout
        self.exact_search_max = exact_search_max
        self.segment_chunks = max(1, segment_chunks)
        self.merge_small_chunks = merge_small_chunks
        self.merge_factor = max(2, merge_factor)
        self.previous: Manifest | None = None
        self._lock: FileLock | None = None
        self._work: Path | None = None
        self._segments: list[Segment] = []
        self._new: set[str] = set()
        self._deleted: dict[str, _Deleted] = {}
        self._buffer: dict[str, _Buffered] = {}
        self._buffered = 0

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> IndexWriter:
        if self.index_dir.exists() and not self.index_dir.is_dir():
            raise IndexStoreError(f"{self.index_dir} is a file, not an index directory")
        if self.index_dir.is_dir() and not (self.index_dir / CURRENT).exists():
            foreign = [
                p.name
                for p in self.index_dir.iterdir()
                if not p.name.startswith((".", "gen-", SEGMENTS))
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
        clean_stale(self.index_dir)
        (self.index_dir / SEGMENTS).mkdir(exist_ok=True)
        self._work = self.index_dir / f".tmp-{uuid.uuid4().hex[:12]}"
        self._work.mkdir()
        live = current_generation(self.index_dir)
        if live is not None and live.is_dir():
            if not self.rebuild:
                raise IndexStoreError(
                    f"{self.index_dir} holds an index of format 1; rebuild it with "
                    "`askculture ingest --model ...` into a new folder"
                )
            live = None
        if live is None:
            return
        self.previous = Manifest.from_file(live)
        self.manifest.generation = self.previous.generation
        self.manifest.next_id = self.previous.next_id
        if not self.rebuild:
            self.manifest.created = self.previous.created
            root = self.index_dir / SEGMENTS
            self._segments = [Segment.open(root, info) for info in self.previous.segments]

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            self._abort()

    def _abort(self) -> None:
        self._segments = []
        if self._work is not None and self._work.exists():
            shutil.rmtree(self._work, ignore_errors=True)
        self._work = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- reading state ---------------------------------------------------------------------
    def file_states(self) -> dict[str, FileState]:
        """What the index (with this session's changes) knows of every source file, by path."""
        out: dict[str, FileState] = {}
        for seg in self._segments:
            extra = self._deleted.get(seg.name)
            gone = extra.removed.file_paths if extra else set()
            sql, args = seg.excluded("path", "file")
            for r in seg.con.execute(f"SELECT * FROM files WHERE {sql}", args):
                if r["path"] not in gone:
                    out[r["path"]] = FileState(r["path"], r["size"], r["mtime_ns"], r["sha256"])
        for path, b in self._buffer.items():
            out[path] = b.state
        return out

    def document_paths(self, doc_ids: Iterable[str]) -> list[str]:
        """The source paths of these live documents (unknown ids are ignored), sorted."""
        paths: set[str] = set()
        for doc_id in set(doc_ids):
            for seg in self._segments:
                row = seg.document_row(doc_id)
                extra = self._deleted.get(seg.name)
                if row is not None and not (extra and row["path"] in extra.removed.doc_paths):
                    paths.add(row["path"])
            paths.update(p for p, b in self._buffer.items() if any(d.id == doc_id for d in b.docs))
        return sorted(paths)

    # -- changes -----------------------------------------------------------------------------
    def _extra(self, seg: Segment) -> _Deleted:
        return self._deleted.setdefault(seg.name, _Deleted())

    def _forget_file_row(self, path: str) -> None:
        for seg in self._segments:
            extra = self._deleted.get(seg.name)
            if (extra is None or path not in extra.removed.file_paths) and seg.has_file(path):
                self._extra(seg).removed.file_paths.add(path)

    def remove_file(self, path: str) -> int:
        """Remove a source file, its documents, chunks and vectors; return documents removed."""
        removed = 0
        buffered = self._buffer.pop(path, None)
        if buffered is not None:
            removed += len(buffered.docs)
            self._buffered -= len(buffered.chunks)
        self._forget_file_row(path)
        for seg in self._segments:
            extra = self._deleted.get(seg.name)
            if (extra is not None and path in extra.removed.doc_paths) or not seg.has_doc_path(
                path
            ):
                continue
            extra = self._extra(seg)
            ids = [
                int(r[0])
                for r in seg.con.execute(
                    "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id "
                    "WHERE d.path = ?",
                    (path,),
                )
            ]
            for lang, n in seg.con.execute(
                "SELECT COALESCE(lang, '?'), COUNT(*) FROM documents WHERE path = ? GROUP BY 1",
                (path,),
            ):
                extra.languages[lang] = extra.languages.get(lang, 0) + int(n)
                extra.documents += int(n)
                removed += int(n)
            extra.removed.doc_paths.add(path)
            extra.removed.ids = np.concatenate([extra.removed.ids, np.asarray(ids, np.int64)])
        return removed

    def add_file(self, state: FileState, docs: FileDocs) -> None:
        """Add a source file with its documents, chunks, chunk terms and chunk vectors.

        With no documents, only the file's state (size, time, hash) is replaced: its documents
        stay as they are.
        """
        if not docs:
            self._forget_file_row(state.path)
            held = self._buffer.get(state.path)
            if held is not None:
                held.state = state
            else:
                self._buffer[state.path] = _Buffered(state)
            return
        self.remove_file(state.path)
        entry = _Buffered(state)
        for doc, chunks, terms, vectors in docs:
            if len(chunks) != len(vectors) or len(chunks) != len(terms):
                raise IndexStoreError(f"{doc.path}: chunks, terms and vectors differ in number")
            entry.docs.append(doc)
            for ch, t, v in zip(chunks, terms, vectors, strict=True):
                entry.chunks.append((self.manifest.next_id, ch, t, v))
                self.manifest.next_id += 1
        self._buffer[state.path] = entry
        self._buffered += len(entry.chunks)
        if self._buffered >= self.segment_chunks:
            self._flush()

    def _flush(self) -> None:
        """Write the buffered files as a new segment (not yet live)."""
        if not self._buffer:
            return
        assert self._work is not None
        rows = NewChunks()
        chunks = []
        for b in self._buffer.values():
            rows.files.append(b.state)
            rows.documents.extend(b.docs)
            chunks.extend(b.chunks)
        chunks.sort(key=lambda c: c[0])
        rows.chunks = [(cid, ch) for cid, ch, _, _ in chunks]
        rows.terms = [t for _, _, t, _ in chunks]
        if chunks:
            rows.vectors = [np.stack([v for _, _, _, v in chunks]).astype(np.float32)]
        self._buffer.clear()
        self._buffered = 0
        del chunks
        folder = self._work / self._segment_name()
        info = write_segment(folder, rows, self.manifest.dim, self.exact_search_max)
        self._segments.append(Segment(info, SegmentData(folder), Removed()))
        self._new.add(info.name)

    def _segment_name(self) -> str:
        return f"seg-{self.manifest.generation + 1:06d}-{uuid.uuid4().hex[:8]}"

    # -- commit ------------------------------------------------------------------------------
    def _commit(self) -> None:
        assert self._work is not None
        self._flush()
        deleted = {
            n for n, d in self._deleted.items() if d.removed.doc_paths or d.removed.file_paths
        }
        if not (self._new or deleted or self.rebuild or self.previous is None):
            return  # nothing changed: the live generation stays
        gen = self.manifest.generation + 1
        segments: list[Segment] = []
        touched: set[str] = set()
        for seg in self._segments:
            if seg.name in deleted:
                seg = apply_deletions(seg, self._deleted[seg.name], gen)
                touched.add(seg.name)
            if seg.info.live_chunks or seg.info.live_files:
                segments.append(seg)
        segments = self._merge_small(segments)
        root = self.index_dir / SEGMENTS
        for seg in segments:
            if seg.name in touched:
                folder = seg.data.folder
                assert seg.info.deletions is not None
                seg.removed.save(folder / seg.info.deletions.file)
                fsync_dir(folder)
        for seg in segments:
            if seg.name in self._new:
                seg.data.folder.rename(root / seg.name)
        fsync_dir(root)
        m = self.manifest
        m.generation = gen
        m.segments = [s.info for s in segments]
        m.updated = time.time()
        m.summarise()
        if (self.index_dir / manifest_name(gen)).exists():  # left by a crash before CURRENT moved
            (self.index_dir / manifest_name(gen)).unlink()
        publish(self.index_dir, m)
        clean_stale(self.index_dir)

    def _merge_small(self, segments: list[Segment]) -> list[Segment]:
        """Merge the small segments once there are ``merge_factor`` of them, and rewrite small
        segments that are mostly deleted; never while a compaction runs."""
        small = [s for s in segments if s.info.live_chunks <= self.merge_small_chunks]
        dirty = [s for s in small if 2 * (s.info.chunks - s.info.live_chunks) >= s.info.chunks > 0]
        group = small if len(small) >= self.merge_factor else dirty
        if not group or merge_running(self.index_dir):
            return segments
        assert self._work is not None
        folder = self._work / self._segment_name()
        info = merge_segments(folder, group, self.manifest.dim, self.exact_search_max)
        merged = Segment(info, SegmentData(folder), Removed())
        self._new.add(info.name)
        out: list[Segment] = []
        for seg in segments:
            if seg is group[0]:
                out.append(merged)
            elif seg not in group:
                out.append(seg)
        return [s for s in out if s.info.live_chunks or s.info.live_files]


__all__ = ["LOCK", "MERGE_LOCK", "IndexWriter", "clean_stale", "merge_running"]
