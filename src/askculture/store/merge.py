"""Compaction: merge an index's segments into one, beside ingests and searches.

The merge runs without the writer lock, from a snapshot: ingests go on committing meanwhile.
Only the switch takes the writer lock, briefly: the merged segment replaces its sources in the
newest manifest, with the deletions made since the snapshot carried over to it. A compaction
that finds its sources gone (the index was rebuilt) throws its work away. ``kill -9`` at any
moment leaves the last committed state: the merged segment is only named by a manifest after it
is complete on disk.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from askculture.errors import IndexBusyError, IndexStoreError
from askculture.store.manifest import SEGMENTS, Manifest, current_generation, fsync_dir, publish
from askculture.store.segment import Removed, Segment, SegmentData, merge_segments
from askculture.store.writer import LOCK, MERGE_LOCK, _Deleted, apply_deletions, clean_stale


@dataclass
class CompactReport:
    """What a compaction did."""

    index_dir: str
    segments_before: int
    segments_after: int
    chunks: int
    deleted_dropped: int
    generation: int
    seconds: float
    changed: bool


def compact(
    index_dir: Path, *, exact_search_max: int, lock_timeout: float = 600.0
) -> CompactReport:
    """Merge every segment of ``index_dir`` into one, dropping deleted chunks.

    Args:
        index_dir: The index folder.
        exact_search_max: Above this many chunks the merged segment searches with HNSW.
        lock_timeout: How long to wait for a running ingest before switching to the merged
            segment.

    Raises:
        IndexBusyError: Another compaction runs, or an ingest held the index too long.
        IndexStoreError: There is no index, or it changed under the compaction (rebuilt).
    """
    started = time.perf_counter()
    merge_lock = FileLock(str(index_dir / MERGE_LOCK))
    try:
        merge_lock.acquire(timeout=0)
    except Timeout as exc:
        raise IndexBusyError(f"another compaction of {index_dir} is running") from exc
    work: Path | None = None
    try:
        for stale in index_dir.glob(".merge-*"):
            shutil.rmtree(stale, ignore_errors=True)
        live = current_generation(index_dir) if index_dir.is_dir() else None
        if live is None or not live.is_file():
            raise IndexStoreError(f"no index at {index_dir} to compact")
        base = Manifest.from_file(live)
        root = index_dir / SEGMENTS
        sources = [Segment.open(root, info) for info in base.segments]
        dropped = sum(s.info.chunks - s.info.live_chunks for s in sources)
        if len(sources) <= 1 and not dropped:
            chunks = len(sources[0].data.ids) if sources else 0
            return CompactReport(
                str(index_dir), len(sources), len(sources), chunks, 0, base.generation,
                time.perf_counter() - started, False,
            )  # fmt: skip
        work = index_dir / f".merge-{uuid.uuid4().hex[:12]}"
        folder = work / f"seg-{base.generation + 1:06d}-{uuid.uuid4().hex[:8]}"
        info = merge_segments(folder, sources, base.dim, exact_search_max)
        writer_lock = FileLock(str(index_dir / LOCK))
        try:
            writer_lock.acquire(timeout=lock_timeout)
        except Timeout as exc:
            raise IndexBusyError(
                f"an ingest held {index_dir} for more than {lock_timeout:g} s; the merged "
                "segment was not switched in (run `askculture compact` again later)"
            ) from exc
        try:
            manifest = _switch(index_dir, base, sources, folder, info)
        finally:
            writer_lock.release()
        return CompactReport(
            str(index_dir), len(sources), len(manifest.segments), info.chunks, dropped,
            manifest.generation, time.perf_counter() - started, True,
        )  # fmt: skip
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        merge_lock.release()


def _switch(
    index_dir: Path, base: Manifest, sources: list[Segment], folder: Path, info: object
) -> Manifest:
    """Replace ``sources`` by the merged segment in the newest manifest (writer lock held)."""
    live = current_generation(index_dir)
    assert live is not None
    current = Manifest.from_file(live)
    by_name = {s.name: s for s in current.segments}
    names = [s.name for s in sources]
    if any(n not in by_name for n in names):
        raise IndexStoreError(f"{index_dir} was rebuilt during the compaction; nothing was changed")
    root = index_dir / SEGMENTS
    merged = Segment(info, SegmentData(folder), Removed())  # type: ignore[arg-type]
    gen = current.generation + 1
    later = _Deleted()
    for src in sources:  # deletions committed while merging apply to the merged segment
        now = by_name[src.name]
        if now.deletions == src.info.deletions:
            continue
        newer = Segment.open(root, now).removed
        later.removed.doc_paths |= newer.doc_paths - src.removed.doc_paths
        later.removed.file_paths |= newer.file_paths - src.removed.file_paths
    if later.removed.doc_paths or later.removed.file_paths:
        con = merged.con
        for path in sorted(later.removed.doc_paths):
            ids = [
                int(r[0])
                for r in con.execute(
                    "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id "
                    "WHERE d.path = ?",
                    (path,),
                )
            ]
            later.removed.ids = np.concatenate([later.removed.ids, np.asarray(ids, np.int64)])
            for lang, n in con.execute(
                "SELECT COALESCE(lang, '?'), COUNT(*) FROM documents WHERE path = ? GROUP BY 1",
                (path,),
            ):
                later.languages[lang] = later.languages.get(lang, 0) + int(n)
                later.documents += int(n)
        merged = apply_deletions(merged, later, gen)
        assert merged.info.deletions is not None
        merged.removed.save(folder / merged.info.deletions.file)
    fsync_dir(folder)
    folder.rename(root / folder.name)
    fsync_dir(root)
    first = names[0]
    segments = []
    for s in current.segments:
        if s.name == first:
            segments.append(replace(merged.info))
        elif s.name not in names:
            segments.append(s)
    current.segments = [s for s in segments if s.live_chunks or s.live_files]
    current.generation = gen
    current.updated = time.time()
    current.summarise()
    publish(index_dir, current)
    clean_stale(index_dir)
    return current


__all__ = ["CompactReport", "compact"]
