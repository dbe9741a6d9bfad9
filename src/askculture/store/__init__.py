"""The index folder: immutable segments and an atomic commit point (the Lucene model).

Layout of an index directory::

    CURRENT                  name of the live manifest (replaced atomically on commit)
    gen-000007.json          a manifest: model, chunking, counts, the live segments and deletions
    segments/
        seg-000003-1a2b3c4d/ one immutable segment (see :mod:`askculture.store.segment`):
            meta.sqlite      files, documents and chunks
            ids.npy          its chunk ids
            vectors.faiss    FAISS index keyed by chunk id (flat, or HNSW when large)
            lexical/         BM25 postings
            del-000007.npz   the segment's deletions as of generation 7
    .lock                    held by the one process writing
    .merge.lock              held by the one process compacting

A commit writes only what changed: a new segment for added files, a deletions file for each
segment that lost documents, and a new manifest; then it points ``CURRENT`` at the manifest.
A crash at any moment leaves the previous manifest live and whole; readers keep the snapshot
they opened. Segments are merged at commit while small and by ``askculture compact``
(:func:`askculture.store.merge.compact`) when large. What the rest of askculture may ask of a
store is :mod:`askculture.store.interface`.
"""

from __future__ import annotations

from askculture.store.interface import LexicalSearch, Snapshot, Updater
from askculture.store.lexical import LexicalIndex, LexicalSegment
from askculture.store.manifest import FORMAT_VERSION, Manifest, SegmentInfo, current_generation
from askculture.store.merge import CompactReport, compact
from askculture.store.reader import IndexReader
from askculture.store.segment import FileState, StoredChunk
from askculture.store.vectors import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, hnsw_index
from askculture.store.writer import IndexWriter


def _implements(reader: IndexReader, writer: IndexWriter) -> tuple[Snapshot, Updater]:
    """(Checked by mypy) the segmented folder implements the store interface."""
    return reader, writer


__all__ = [
    "FORMAT_VERSION",
    "HNSW_EF_CONSTRUCTION",
    "HNSW_EF_SEARCH",
    "HNSW_M",
    "CompactReport",
    "FileState",
    "IndexReader",
    "IndexWriter",
    "LexicalIndex",
    "LexicalSearch",
    "LexicalSegment",
    "Manifest",
    "SegmentInfo",
    "Snapshot",
    "StoredChunk",
    "Updater",
    "compact",
    "current_generation",
    "hnsw_index",
]
