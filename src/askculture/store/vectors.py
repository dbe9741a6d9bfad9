"""FAISS indexes of segments: exact (flat) for small segments, HNSW for large ones.

A deleted chunk is never removed from a segment's index (an HNSW graph cannot forget a node
cheaply); searches skip it with a selector until a merge rewrites the segment without it.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80


def flat_index(dim: int) -> Any:
    """An empty exact inner-product index keyed by chunk id."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def hnsw_index(dim: int) -> Any:
    """An empty HNSW inner-product index keyed by chunk id."""
    hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(hnsw)


def build_vectors(
    vectors: npt.NDArray[np.float32], ids: npt.NDArray[np.int64], dim: int, exact_search_max: int
) -> tuple[Any, str]:
    """The index of a segment's vectors, and its type (HNSW above ``exact_search_max``)."""
    kind = "hnsw" if len(ids) > exact_search_max else "flat"
    index = hnsw_index(dim) if kind == "hnsw" else flat_index(dim)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    return index, kind


def live_selector(deleted: npt.NDArray[np.int64]) -> Any:
    """A selector of every id except ``deleted``."""
    batch = faiss.IDSelectorBatch(np.ascontiguousarray(deleted, dtype=np.int64))
    selector = faiss.IDSelectorNot(batch)
    selector.referenced = batch  # type: ignore[attr-defined]  # keep the inner one alive
    return selector


def allowed_selector(allowed: set[int]) -> Any:
    """A selector of exactly these ids."""
    return faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64, count=len(allowed)))


def search(
    index: Any, query: npt.NDArray[np.float32], n: int, selector: Any, hnsw: bool
) -> list[tuple[int, float]]:
    """The ``n`` nearest ids of ``index`` by inner product among ``selector``'s, best first."""
    n = min(n, int(index.ntotal))
    if n <= 0:
        return []
    params: Any = None
    if hnsw:
        params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, n))  # type: ignore[attr-defined]
        if selector is not None:
            params.sel = selector
    elif selector is not None:
        params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
    scores, ids = index.search(query.reshape(1, -1), n, params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


__all__ = [
    "HNSW_EF_CONSTRUCTION",
    "HNSW_EF_SEARCH",
    "HNSW_M",
    "allowed_selector",
    "build_vectors",
    "flat_index",
    "hnsw_index",
    "live_selector",
    "search",
]
