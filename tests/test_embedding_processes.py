"""Passages encoded by a pool of worker processes equal those encoded in-process.

This is the switch that moves ingest's embedding step onto GPUs or more CPU workers
(``ASKCULTURE_EMBEDDING__DEVICE`` / ``__PROCESSES``): the segments it writes must not change.
"""

from __future__ import annotations

import numpy as np

from askculture.embedding import get_embedder
from askculture.settings import SAMPLE_CORPUS_DIR, Settings


def test_a_worker_pool_gives_the_same_vectors(minilm: Settings) -> None:
    pooled_settings = minilm.embedding.model_copy()
    pooled_settings.processes = 2
    pooled = get_embedder(pooled_settings)
    single = get_embedder(minilm.embedding)
    texts = [p.read_text(encoding="utf-8")[200:900] for p in sorted(SAMPLE_CORPUS_DIR.glob("*.md"))]
    assert len(texts) > pooled.batch_size  # enough to go through the pool
    try:
        a = pooled.embed_passages(texts)
        assert pooled._pool is not None and len(pooled._pool["processes"]) == 2
    finally:
        pooled.close()
    b = single.embed_passages(texts)
    assert a.shape == b.shape == (len(texts), single.dim)
    assert np.allclose(a, b, atol=1e-5)
