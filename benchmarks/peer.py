"""The peer: the same chunks and the same embedding model through txtai (dense index only).

txtai is optional: :func:`txtai_available` says whether it is installed, and the benchmark skips
the peer with a note when it is not. txtai is pointed at the very sentence-transformers folder
askculture uses (``resolve_model(settings.embedding).location``), with the same query/passage
prefixes, and indexes the same embedding inputs (title + chunk text) that askculture's ingest
embeds, so the comparison is model for model, index for index. txtai has no loaders for
Markdown front matter, PDF or DOCX; the chunks come from askculture's own reading and splitting,
which is therefore *not* in txtai's ingest time (it is in askculture's).
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Any

import numpy as np


def txtai_available() -> bool:
    """True when the ``txtai`` package can be imported."""
    return importlib.util.find_spec("txtai") is not None


@dataclass
class PeerResult:
    """txtai's figures on the same data."""

    model_load_s: float
    index_s: float
    chunks: int
    query_p50_ms: float
    query_p95_ms: float
    hit_at_5: float
    questions: int


def run_txtai(
    location: str,
    query_prefix: str,
    passage_prefix: str,
    chunks: list[tuple[str, str]],
    questions: list[tuple[str, list[str]]],
    *,
    batch_size: int = 32,
    repeats: int = 3,
) -> PeerResult:
    """Index ``chunks`` (``(file name, embedding input)``) with txtai and query it.

    Args:
        location: The sentence-transformers model folder.
        query_prefix: Put before queries (e.g. ``"query: "`` for e5).
        passage_prefix: Put before passages.
        chunks: What to index, with the source file name of each.
        questions: ``(question, gold file names)``; hit@5 counts questions whose top 5 results
            include a gold file (questions without gold files are left out).
        batch_size: Encoding batch size (askculture's default is 32 too).
        repeats: How many times each question is timed.
    """
    from txtai import Embeddings

    t0 = time.perf_counter()
    embeddings = Embeddings(
        path=location, method="sentence-transformers", content=False, backend="faiss",
        instructions={"query": query_prefix, "data": passage_prefix}, encodebatch=batch_size,
    )  # fmt: skip
    embeddings.transform("warm up: load the model before timing the index")
    model_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    embeddings.index([(i, text, None) for i, (_, text) in enumerate(chunks)])
    index_s = time.perf_counter() - t0
    hits, asked, latencies = 0, 0, []
    for question, gold in questions:
        result: Any = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = embeddings.search(question, 5)
            latencies.append((time.perf_counter() - t0) * 1000)
        if gold:
            asked += 1
            files = {chunks[int(i)][0] for i, _ in result}
            hits += bool(files & set(gold))
    lat = np.asarray(latencies)
    return PeerResult(
        model_load_s=model_load, index_s=index_s, chunks=len(chunks),
        query_p50_ms=float(np.percentile(lat, 50)), query_p95_ms=float(np.percentile(lat, 95)),
        hit_at_5=hits / asked if asked else 0.0, questions=asked,
    )  # fmt: skip


__all__ = ["PeerResult", "run_txtai", "txtai_available"]
