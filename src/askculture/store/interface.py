"""The interface between the store and everything above it.

Retrieval, answering and the web app reach the index only through :class:`Snapshot` (one
consistent, read-only view) and ingest only through :class:`Updater` (one atomic change). The
segmented folder of this package implements both; another engine can implement them too. For
an index past one machine the candidate is OpenSearch (see README, "Deployment at scale"): one
index with a ``knn_vector`` field (HNSW), a ``terms`` field holding the output of
:func:`askculture.lexical.tokenize` behind a whitespace analyzer (so its BM25 scores our
en/ru/kk terms), and keyword/date fields for the filters; a snapshot is a point-in-time search
context, an update a bulk request followed by a refresh.

Every method a snapshot offers touches only the rows asked for (no scan of the index), so the
answering step's cost does not grow with the index as long as it asks for what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from askculture.chunking import Chunk
from askculture.documents import Document
from askculture.store.manifest import Manifest
from askculture.store.segment import FileState, StoredChunk


class LexicalSearch(Protocol):
    """BM25 over a snapshot's chunks."""

    n_docs: int
    """Chunks counted in idf."""

    def search(
        self, terms: list[str], n: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """``(chunk id, score)`` of the ``n`` best chunks for these terms, best first."""
        ...

    def df(self, term: str) -> int:
        """Chunks that contain ``term`` (a look-up, not a search)."""
        ...

    def doc_freq(self, terms: Sequence[str]) -> list[int]:
        """:meth:`df` of each term."""
        ...


class Snapshot(Protocol):
    """A consistent read-only view of an index at one commit."""

    manifest: Manifest

    def __len__(self) -> int: ...

    @property
    def lexical(self) -> LexicalSearch:
        """BM25 over the snapshot."""
        ...

    def search_dense(
        self, query: npt.NDArray[np.float32], n: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """``(chunk id, cosine)`` of the ``n`` nearest chunks, best first."""
        ...

    def vector(self, chunk_id: int) -> npt.NDArray[np.float32]:
        """One chunk's stored vector."""
        ...

    def vectors(self, chunk_ids: list[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of these chunks, one row each, in the order given."""
        ...

    def matched_terms(self, terms: list[str], chunk_ids: list[int]) -> dict[int, set[str]]:
        """Which of ``terms`` each of ``chunk_ids`` contains."""
        ...

    def filter_ids(
        self,
        date_from: str | None = None,
        date_to: str | None = None,
        langs: list[str] | None = None,
        sources: list[str] | None = None,
    ) -> set[int] | None:
        """Chunk ids whose documents pass the filters (None: no filter)."""
        ...

    def chunks(self, rowids: list[int]) -> list[StoredChunk]:
        """These chunks with their documents, in the order given."""
        ...

    def document(self, doc_id: str) -> Document:
        """One document by id."""
        ...

    def doc_chunks(self, doc_id: str) -> list[StoredChunk]:
        """The chunks of one document, in order."""
        ...

    def sources(self) -> list[str]:
        """Publishers, most frequent first."""
        ...


class Updater(Protocol):
    """One atomic change of an index: all of it becomes visible at commit, or none."""

    def file_states(self) -> dict[str, FileState]:
        """What the index knows of each source file."""
        ...

    def add_file(
        self,
        state: FileState,
        docs: list[tuple[Document, list[Chunk], list[list[str]], npt.NDArray[np.float32]]],
    ) -> None:
        """Add (or replace) a file's documents with their chunks, terms and vectors."""
        ...

    def remove_file(self, path: str) -> int:
        """Remove a file's documents; return how many."""
        ...


__all__ = ["LexicalSearch", "Snapshot", "Updater"]
